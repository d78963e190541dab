import type { Command } from 'commander';
import {
  crossSettingProblems,
  maskedValue,
  SETTING_NAMES,
  SETTINGS,
  type SettingProblem,
} from '../config/settings-catalogue';
import { probePgStore } from '../store/postgres/pg-probe';

// `loanhub config check [--json]`: the environment as a process would read it. Every setting with
// where its value comes from (default, env, or a file such as a channel policy), secrets masked; every
// wrong or missing value named, and a non-zero exit when there is one, so a deployment can run it
// before the hub (or as a container's pre-start check). A PostgreSQL store (LOANHUB_DB_URL) is also tried:
// one connection with a short timeout, so a store that cannot be reached (refused, unknown host, wrong
// password, no answer) fails the check by name; --no-connect checks the values only.

/** How long `config check` waits for the store to answer. */
export const STORE_CONNECT_TIMEOUT_MS = 5_000;

export type SettingSource = 'default' | 'env' | 'file';

export interface SettingReport {
  readonly name: string;
  readonly source: SettingSource;
  /** Masked where secret; null when unset with no default (the feature is off). */
  readonly value: string | null;
  readonly secret: boolean;
  readonly description: string;
}

export interface ConfigReport {
  readonly ok: boolean;
  readonly settings: readonly SettingReport[];
  readonly problems: readonly SettingProblem[];
  /** LOANHUB_* variables that no code reads: most often a typo. Reported, not fatal. */
  readonly unknown: readonly string[];
}

export function checkConfig(env: NodeJS.ProcessEnv): ConfigReport {
  const settings: SettingReport[] = [];
  const problems: SettingProblem[] = [];
  for (const s of SETTINGS) {
    const raw = env[s.name];
    const isSet = raw !== undefined && raw !== '';
    if (isSet) for (const message of s.validate?.(raw) ?? []) problems.push({ name: s.name, message });
    const source: SettingSource = isSet ? 'env' : s.fileFallback !== undefined ? 'file' : 'default';
    const value = isSet
      ? maskedValue(s, raw)
      : s.fileFallback !== undefined
        ? `(${s.fileFallback})`
        : (s.default ?? null);
    settings.push({
      name: s.name,
      source,
      value: isSet || s.secret === 'none' || value === null ? value : maskedValue(s, value),
      secret: s.secret !== 'none',
      description: s.description,
    });
  }
  // The loaders' own complaints, unless the same variable already has its problem above.
  const named = new Set(problems.map((p) => p.name));
  for (const p of crossSettingProblems(env)) {
    if (named.has(p.name)) continue;
    named.add(p.name);
    problems.push(p);
  }
  const unknown = Object.keys(env)
    .filter((k) => k.startsWith('LOANHUB_') && !SETTING_NAMES.has(k))
    .sort();
  return { ok: problems.length === 0, settings, problems, unknown };
}

/**
 * checkConfig, and then whether the store can be reached: a problem on LOANHUB_DB_URL when PostgreSQL
 * refuses, cannot be found, does not answer within timeoutMs or refuses the login. Not tried when the URL
 * already has a problem of its own; the embedded SQLite store needs no connection.
 */
export async function checkConfigAndStore(
  env: NodeJS.ProcessEnv,
  timeoutMs = STORE_CONNECT_TIMEOUT_MS,
): Promise<ConfigReport> {
  const report = checkConfig(env);
  const url = env.LOANHUB_DB_URL;
  if (!url || report.problems.some((p) => p.name === 'LOANHUB_DB_URL')) return report;
  const probe = await probePgStore(url, timeoutMs);
  if (probe.ok) return report;
  const problems = [
    ...report.problems,
    { name: 'LOANHUB_DB_URL', message: `the store cannot be reached: ${probe.reason ?? 'unknown reason'}` },
  ];
  return { ...report, ok: false, problems };
}

export function renderConfigReport(report: ConfigReport): { out: string; err: string } {
  const rows = report.settings.map((s) => [s.name, s.source, s.value ?? '(unset)']);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    `${(r[0] ?? '').padEnd(widths[0] ?? 0)}  ${(r[1] ?? '').padEnd(widths[1] ?? 0)}  ${r[2] ?? ''}`.trimEnd();
  const out = [line(['SETTING', 'SOURCE', 'VALUE']), ...rows.map(line)].join('\n') + '\n';
  const err: string[] = [];
  for (const u of report.unknown) err.push(`loanhub: warning: ${u} is set but no part of loanhub reads it (a typo?)\n`);
  for (const p of report.problems) err.push(`loanhub: ${p.name}: ${p.message}\n`);
  if (!report.ok) err.push(`loanhub: config check failed: ${report.problems.length} problem(s)\n`);
  return { out, err: err.join('') };
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the configuration the hub reads from its environment');
  config
    .command('check')
    .description(
      'print every setting with its source (default, env, file), secrets masked; exit 1 naming each wrong or missing value and a store that cannot be reached',
    )
    .option('--json', 'print { ok, settings, problems, unknown } as JSON')
    .option('--no-connect', 'check the values only: do not try to reach the PostgreSQL store (LOANHUB_DB_URL)')
    .action(async (opts: { json?: boolean; connect: boolean }) => {
      const report = opts.connect ? await checkConfigAndStore(process.env) : checkConfig(process.env);
      if (opts.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      } else {
        const { out, err } = renderConfigReport(report);
        process.stdout.write(out);
        process.stderr.write(err);
      }
      if (!report.ok) process.exitCode = 1;
    });
}
