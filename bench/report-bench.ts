import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CHANNELS, CORES } from '../domain/channel';
import { buildDailyStatement } from '../reports/daily-statement';
import { renderStatementCsv } from '../reports/daily-statement-csv';
import { renderStatementHtml } from '../reports/daily-statement-html';
import { renderStatementJson } from '../reports/daily-statement-json';
import { seedAppliedPayments } from '../store/sqlite/sqlite-bench-seed';
import { openSqliteStore } from '../store/sqlite/sqlite-store';

// `npm run bench -- report` (see scripts/bench.sh): the daily statement of a business date with N
// payments (spread over every core, channel and state; the day before holds as many again, which the
// query must skip), built by
// the store's GROUP BY and rendered as CSV, JSON and HTML, in a child process whose peak RSS (VmHWM) is
// read at the end; next to a naive child that loads the day's payments into memory and sums them in JS,
// in the same run. BENCH_REPORT_SIZES=100000,1000000 by default.

const SIZES = (process.env.BENCH_REPORT_SIZES ?? '100000,1000000').split(',').map(Number);
const DATE = '2026-11-23';
const DAY_BEFORE = '2026-11-22';

interface Figures {
  readonly ms: number;
  readonly peakRssMb: number;
  readonly check: string;
}

function peakRssMb(): number {
  const line = fs
    .readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024);
}

async function child(mode: string, file: string): Promise<void> {
  const start = process.hrtime.bigint();
  let check: string;
  if (mode === 'statement') {
    const store = openSqliteStore({ file });
    if (!store.reports) throw new Error('no report store');
    const statement = await buildDailyStatement(store.reports, DATE);
    const sizes = [renderStatementCsv(statement), renderStatementJson(statement), renderStatementHtml(statement)].map(
      (s) => s.length,
    );
    check = `${statement.totals.map((t) => `${t.currency} ${t.figures.accepted.sum}`).join(' ')} (${sizes.join('/')} chars)`;
    await store.close();
  } else {
    // What the statement must not do: every payment of the day in memory, summed in JS.
    const db = new Database(file, { readonly: true });
    db.defaultSafeIntegers(true);
    const rows = db.prepare('SELECT * FROM payments WHERE business_date = ?').all(DATE) as {
      currency: string;
      amount_minor: bigint;
    }[];
    const sums = new Map<string, bigint>();
    for (const r of rows) sums.set(r.currency, (sums.get(r.currency) ?? 0n) + r.amount_minor);
    check = [...sums]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([c, s]) => `${c} ${s}`)
      .join(' ');
    db.close();
  }
  const figures: Figures = { ms: Number(process.hrtime.bigint() - start) / 1e6, peakRssMb: peakRssMb(), check };
  process.stdout.write(JSON.stringify(figures));
}

/** The seed writes one core and channel, all APPLIED: spread the day over every core, channel and state. */
function spreadDay(file: string): void {
  const db = new Database(file);
  const list = (xs: readonly string[]): string => `json_array(${xs.map((x) => `'${x}'`).join(', ')})`;
  const states = ['APPLIED', 'POSTED', 'POSTED', 'REJECTED', 'REVERSED', 'POST_REJECTED', 'ACCEPTED'];
  db.prepare(
    `UPDATE payments SET
       core = json_extract(${list(CORES)}, '$[' || (rowid % 3) || ']'),
       channel = json_extract(${list(CHANNELS)}, '$[' || (rowid % 5) || ']'),
       status = json_extract(${list(states)}, '$[' || (rowid % 7) || ']')
     WHERE business_date = ?`,
  ).run(DATE);
  db.close();
}

function run(mode: string, file: string): Figures {
  const out = spawnSync(process.execPath, [__filename, '--child', mode, file], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${mode} child failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Figures;
}

function main(): void {
  const rows: string[] = [];
  for (const n of SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-report-bench-'));
    const file = path.join(dir, 'hub.db');
    void openSqliteStore({ file }).close();
    const t0 = Date.now();
    for (const date of [DATE, DAY_BEFORE]) seedAppliedPayments({ file, count: n, core: 'cash', businessDate: date });
    spreadDay(file);
    process.stderr.write(`seeded ${2 * n} payments (two days) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const statement = run('statement', file);
    const naive = run('naive', file);
    rows.push(
      `| ${n.toLocaleString('en')} | ${(statement.ms / 1000).toFixed(2)} s | ${statement.peakRssMb} MB | ` +
        `${(naive.ms / 1000).toFixed(2)} s | ${naive.peakRssMb} MB |`,
      `|   | accepted: ${statement.check} |  | ${naive.check} |  |`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\n| payments of the day | statement (GROUP BY + CSV/JSON/HTML) | peak RSS | naive (rows in memory, summed in JS) | peak RSS |\n` +
      `| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`,
  );
}

if (process.argv[2] === '--child') {
  child(process.argv[3] ?? '', process.argv[4] ?? '').catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
} else {
  main();
}
