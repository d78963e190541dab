import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { fetchResponses } from '../batch/apply-responses';
import { BatchError } from '../batch/batch-errors';
import { sentArchive, type BatchProgress } from '../batch/batch-deps';
import { formatMinor } from '../batch/control-totals';
import { parseDatasetName } from '../batch/dataset-name';
import { mainframeCodePage } from '../batch/mainframe-codec';
import { lastClosedBusinessDate } from '../batch/night-clock';
import { createNightScheduler } from '../batch/night-scheduler';
import { readRequestFile } from '../batch/request-file-reader';
import { readResponseFile } from '../batch/response-file-reader';
import { batchStatus, dryRun, resendFile, runBatch } from '../batch/run-batch';
import { describe as describeError, type SendOutcome } from '../batch/send-files';
import type { CodePage } from '../copybooks/code-page';
import { createProgressMeter, type ProgressMeter } from '../copybooks/progress-meter';
import { loadConfig } from '../config/config';
import { CORES, isCore, type Core } from '../domain/channel';
import type { Currency } from '../domain/money';
import { createLogger } from '../logging/logger';
import { createBatchDeps } from '../runtime/batch-runtime';
import { serveBatchEndpoints } from '../runtime/batch-endpoints';
import { parsePort } from './start-command';
import { openHubStore } from '../store/open-store';
import type { BatchFile } from '../store/batch-store-port';
import { createBatchMetrics } from '../metrics/batch-metrics';
import { createHubMetrics } from '../metrics/hub-metrics';

// `loanhub batch run|status|fetch|resend|show|schedule`: the nightly mainframe batch for operations.
// Every command has --help; data commands have --json; failures exit non-zero with the reason.

const ENV_HELP =
  '\nEnvironment: LOANHUB_DATA_DIR, LOANHUB_TIME_ZONE, LOANHUB_MAINFRAME_SFTP_URL (sftp://user@host:port/base),\n' +
  'LOANHUB_MAINFRAME_SFTP_KEY_FILE, LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT (SHA256:…), LOANHUB_MAINFRAME_CODEPAGE (cp037),\n' +
  'LOANHUB_BATCH_CUTOFF (23:30), LOANHUB_BATCH_RESPONSE_DEADLINE (06:00), LOANHUB_BUSINESS_CALENDAR_FILE.\n' +
  'Without LOANHUB_MAINFRAME_SFTP_URL the embedded mainframe simulator of `loanhub start` (same data dir) is used.';

function parseDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError(`not a YYYY-MM-DD date: ${value}`);
  }
  return value;
}

function parseCoreOrAll(value: string): readonly Core[] {
  if (value === 'all') return CORES;
  if (!isCore(value)) throw new InvalidArgumentError(`unknown core ${value}; use ${CORES.join(', ')} or all`);
  return [value];
}

function parseCore(value: string): Core {
  if (!isCore(value)) throw new InvalidArgumentError(`unknown core ${value}; use ${CORES.join(', ')}`);
  return value;
}

/** A progress bar per phase on a TTY (stderr), nothing otherwise. */
function ttyProgress(): BatchProgress & { done(): void } {
  const meters = new Map<string, ProgressMeter>();
  const fn = ((phase: string, done: number, total: number | null, recordLength: number) => {
    let m = meters.get(phase);
    if (!m) {
      for (const other of meters.values()) other.done();
      meters.clear();
      m = createProgressMeter(process.stderr, phase, total === null ? undefined : total * recordLength);
      meters.set(phase, m);
    }
    m.tick(done, done * recordLength);
  }) as BatchProgress & { done(): void };
  fn.done = () => {
    for (const m of meters.values()) m.done();
    meters.clear();
  };
  return fn;
}

async function withBatch<T>(
  work: (ctx: ReturnType<typeof createBatchDeps> & { progress: ReturnType<typeof ttyProgress> }) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const logger = createLogger({ level: process.env.LOANHUB_LOG_LEVEL ?? 'warn', destination: pino.destination(2) });
  const store = (
    await openHubStore({
      dataDir: config.dataDir,
      dbUrl: config.dbUrl,
      poolMax: config.dbPoolMax,
      ...(config.dbSchema !== undefined ? { schema: config.dbSchema } : {}),
    })
  ).store;
  const progress = ttyProgress();
  try {
    const ctx = createBatchDeps({ env: process.env, config, store, logger, progress });
    return await work({ ...ctx, progress });
  } finally {
    progress.done();
    await store.close();
  }
}

function fail(err: unknown): void {
  process.stderr.write(`loanhub batch: ${describeError(err)}\n`);
  process.exitCode = 1;
}

const money = (m: bigint): string => formatMinor(m);

function fileJson(f: BatchFile): Record<string, unknown> {
  return {
    name: f.name,
    core: f.core,
    businessDate: f.businessDate,
    sequence: f.sequence,
    state: f.state,
    records: f.recordCount,
    totalPen: money(f.totalPen),
    totalUsd: money(f.totalUsd),
    hashTotal: f.hashTotal.toString(),
    sha256: f.sha256,
    sizeBytes: f.sizeBytes,
    attempts: f.attempts,
    lastError: f.lastError,
    posted: f.postedCount,
    rejected: f.rejectedCount,
    responseName: f.responseName,
    responseReason: f.responseReason,
    resendOf: f.resendOf,
    supersededBy: f.supersededBy,
    sentAt: f.sentAt,
    completedAt: f.completedAt,
  };
}

function sendLine(s: SendOutcome): string {
  return s.kind === 'sent'
    ? `sent ${s.file.name}: ${s.file.recordCount} payments, PEN ${money(s.file.totalPen)}, USD ${money(s.file.totalUsd)}, sha256 ${s.file.sha256?.slice(0, 16)}…, verified on the server (${s.attempts} attempt${s.attempts === 1 ? '' : 's'}, ${s.seconds.toFixed(1)} s)`
    : `FAILED ${s.file.name}: ${s.error}`;
}

export function registerBatchCommands(program: Command): void {
  const batch = program
    .command('batch')
    .description('the nightly mainframe batch: EBCDIC files over SFTP and their responses');

  batch
    .command('run')
    .description('build and send now what is due for a business date (returns once the files are sent and verified)')
    .option('--date <YYYY-MM-DD>', 'business date (default: the last closed business date)', parseDate)
    .addOption(
      new Option('--core <core>', `${CORES.join(', ')} or all`).argParser(parseCoreOrAll).default(CORES, 'all'),
    )
    .option('--dry-run', 'write the files that would be built locally (with --out) and send nothing')
    .option('--out <dir>', 'where --dry-run writes the files')
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { date?: string; core: readonly Core[]; dryRun?: boolean; out?: string; json?: boolean }) => {
      if (opts.dryRun && !opts.out) {
        process.stderr.write('loanhub batch run: --dry-run needs --out DIR\n');
        process.exitCode = 2;
        return;
      }
      try {
        await withBatch(async ({ deps, settings, progress }) => {
          const date =
            opts.date ?? lastClosedBusinessDate(deps.now(), deps.timeZone, settings.cutoffMinute, deps.calendar);
          if (opts.dryRun) {
            const files = await dryRun(deps, { businessDate: date, cores: opts.core, outDir: opts.out ?? '.' });
            progress.done(); // the bar's line ends before the outcome is printed
            if (opts.json) process.stdout.write(`${JSON.stringify({ date, dryRun: true, files }, null, 2)}\n`);
            else if (files.length === 0) process.stdout.write(`nothing waits for a file on ${date}; nothing written\n`);
            else
              for (const f of files)
                process.stdout.write(`wrote ${f.path}: ${f.records} payments (not recorded, not sent)\n`);
            return;
          }
          const runs = await runBatch(deps, { businessDate: date, cores: opts.core });
          progress.done();
          const failed = runs.some((r) => r.sent.some((s) => s.kind === 'failed'));
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify(
                {
                  date,
                  cores: runs.map((r) => ({
                    core: r.core,
                    nothingToDo: r.nothingToDo,
                    files: r.sent.map((s) => ({
                      ...fileJson(s.file),
                      outcome: s.kind,
                      ...(s.kind === 'failed' ? { error: s.error } : {}),
                    })),
                  })),
                },
                null,
                2,
              )}\n`,
            );
          } else {
            for (const r of runs) {
              if (r.nothingToDo) process.stdout.write(`${r.core}: nothing new for ${date}; nothing sent\n`);
              for (const s of r.sent) process.stdout.write(`${r.core}: ${sendLine(s)}\n`);
            }
          }
          if (failed) process.exitCode = 1;
        });
      } catch (err) {
        fail(err);
      }
    });

  batch
    .command('status')
    .description(
      'files per core and sequence for a date: state, counts, totals, posted/rejected, and payments still waiting',
    )
    .option('--date <YYYY-MM-DD>', 'business date (default: the last closed business date)', parseDate)
    .option('--json', 'print JSON')
    .action(async (opts: { date?: string; json?: boolean }) => {
      try {
        await withBatch(async ({ deps, settings }) => {
          const date =
            opts.date ?? lastClosedBusinessDate(deps.now(), deps.timeZone, settings.cutoffMinute, deps.calendar);
          const status = await batchStatus(deps, date);
          if (opts.json) {
            const out = status.map((s) => ({
              core: s.core,
              businessDate: s.businessDate,
              files: s.files.map(fileJson),
              waiting: {
                count: s.waiting.count,
                totalPen: money(s.waiting.totalPen),
                totalUsd: money(s.waiting.totalUsd),
              },
            }));
            process.stdout.write(`${JSON.stringify({ date, cores: out }, null, 2)}\n`);
            return;
          }
          process.stdout.write(`business date ${date}\n`);
          process.stdout.write(
            `${'CORE'.padEnd(9)}${'FILE'.padEnd(30)}${'STATE'.padEnd(10)}${'RECORDS'.padStart(8)}${'PEN'.padStart(16)}${'USD'.padStart(14)}${'POSTED'.padStart(8)}${'REJ'.padStart(6)}  NOTE\n`,
          );
          for (const s of status) {
            for (const f of s.files) {
              const note = [f.lastError, f.responseReason && `refused: ${f.responseReason}`, f.supersededBy && 'resent']
                .filter(Boolean)
                .join('; ');
              process.stdout.write(
                `${s.core.padEnd(9)}${f.name.padEnd(30)}${f.state.padEnd(10)}${String(f.recordCount).padStart(8)}${money(f.totalPen).padStart(16)}${money(f.totalUsd).padStart(14)}${String(f.postedCount).padStart(8)}${String(f.rejectedCount).padStart(6)}  ${note}\n`,
              );
            }
            if (s.waiting.count > 0 || s.files.length === 0) {
              process.stdout.write(
                `${s.core.padEnd(9)}${'(waiting for a file)'.padEnd(30)}${''.padEnd(10)}${String(s.waiting.count).padStart(8)}${money(s.waiting.totalPen).padStart(16)}${money(s.waiting.totalUsd).padStart(14)}\n`,
              );
            }
          }
        });
      } catch (err) {
        fail(err);
      }
    });

  batch
    .command('fetch')
    .description('poll the mainframe for responses now and apply them (POSTED / POST_REJECTED)')
    .option('--date <YYYY-MM-DD>', 'only files of this business date', parseDate)
    .option('--core <core>', `only files of this core (${CORES.join(', ')})`, parseCore)
    .option('--json', 'print JSON')
    .action(async (opts: { date?: string; core?: Core; json?: boolean }) => {
      try {
        await withBatch(async ({ deps, progress }) => {
          const summary = await fetchResponses(deps, {
            ...(opts.date ? { businessDate: opts.date } : {}),
            ...(opts.core ? { core: opts.core } : {}),
          });
          progress.done();
          if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else {
            if (summary.awaiting === 0) process.stdout.write('no file waits for a response\n');
            for (const a of summary.applied)
              process.stdout.write(`applied ${a.name}: ${a.posted} posted, ${a.rejected} rejected\n`);
            for (const r of summary.refused)
              process.stdout.write(`REFUSED ${r.name}: ${r.reason} (no payment changed; loanhub batch resend)\n`);
            for (const i of summary.invalid)
              process.stdout.write(`INVALID ${i.name}: nothing applied\n  ${i.problems.join('\n  ')}\n`);
            for (const w of summary.stillWaiting) process.stdout.write(`waiting ${w}: no response yet\n`);
          }
          if (summary.invalid.length > 0) process.exitCode = 1;
        });
      } catch (err) {
        fail(err);
      }
    });

  batch
    .command('resend')
    .description('send the payments of a REFUSED or FAILED file again under the next sequence')
    .requiredOption('--date <YYYY-MM-DD>', 'business date', parseDate)
    .requiredOption('--core <core>', CORES.join(', '), parseCore)
    .option('--json', 'print JSON')
    .action(async (opts: { date: string; core: Core; json?: boolean }) => {
      try {
        await withBatch(async ({ deps, progress }) => {
          const s = await resendFile(deps, opts.core, opts.date);
          progress.done();
          if (opts.json) process.stdout.write(`${JSON.stringify({ ...fileJson(s.file), outcome: s.kind }, null, 2)}\n`);
          else process.stdout.write(`${sendLine(s)}\n`);
          if (s.kind === 'failed') process.exitCode = 1;
        });
      } catch (err) {
        fail(err);
      }
    });

  batch
    .command('show')
    .argument('<file>', 'a request (LHUB.PAY…) or response (LHUB.RSP…) file')
    .description('decode a mainframe file: header, details, trailer, and the totals check')
    .option('--json', 'print JSON (details included)')
    .option('--codepage <name>', 'EBCDIC code page (default LOANHUB_MAINFRAME_CODEPAGE or cp037)')
    .option('--limit <n>', 'details to print (text output; default 20)', (v) => Number(v))
    .action(async (file: string, opts: { json?: boolean; codepage?: string; limit?: number }) => {
      try {
        const page = mainframeCodePage(opts.codepage ?? process.env.LOANHUB_MAINFRAME_CODEPAGE ?? undefined);
        const name = path.basename(file);
        const kind = parseDatasetName(name)?.kind ?? (await sniffKind(file, page));
        const details: Record<string, unknown>[] = [];
        const limit = opts.json ? Infinity : (opts.limit ?? 20);
        let total = 0;
        let report: { problems: readonly BatchError[]; header: unknown; trailer: unknown; computed: unknown };
        // A response's posted totals can only be checked against the request it answers (its details
        // carry no amounts): that file is looked for beside the response, then in the hub's archive.
        let request: { path: string; amounts: Map<string, { currency: Currency; amount: bigint }> } | null = null;
        if (kind === 'RSP') {
          const first = await readResponseFile({ path: file, name, page, maxProblems: 1 });
          const requestName = first.header?.requestName.trim();
          if (requestName && parseDatasetName(requestName)?.kind === 'PAY') {
            request = await readRequestAmounts(
              [path.join(path.dirname(file), requestName), sentArchive(loadConfig().dataDir, requestName)],
              requestName,
              page,
            );
          }
          const amounts = request?.amounts;
          const read = await readResponseFile({
            path: file,
            name,
            page,
            ...(amounts ? { amountOf: (id: string) => amounts.get(id) } : {}),
            onDetail: (d) => {
              total += 1;
              if (details.length < limit) details.push({ ...d });
            },
          });
          // Without the request the posted totals are unknown, not zero: left out rather than shown as 0.00.
          const { postedCount, rejectedCount } = read.computed;
          report = request ? read : { ...read, computed: { postedCount, rejectedCount } };
        } else {
          report = await readRequestFile({
            path: file,
            name,
            page,
            onDetail: (d) => {
              total += 1;
              if (details.length < limit) details.push({ ...d, amount: money(d.amount) });
            },
          });
        }
        const ok = report.problems.length === 0;
        // For a response: where the request was found, or null when the posted totals went unchecked.
        const requestFile = kind === 'RSP' ? { requestFile: request?.path ?? null } : {};
        const unchecked =
          kind === 'RSP' && !request
            ? `posted totals not checked: the request ${JSON.stringify(
                (report.header as { requestName?: string } | null)?.requestName?.trim() ?? '',
              )} is neither beside the file nor in the hub's archive (put it beside the response)`
            : null;
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ file: name, kind, ok, ...requestFile, header: report.header, details, trailer: report.trailer, computed: report.computed, problems: report.problems.map((p) => p.toJSON()) }, bigintJson, 2)}\n`,
          );
        } else {
          process.stdout.write(`${name} (${kind === 'RSP' ? 'response' : 'request'}, ${page.name})\n`);
          process.stdout.write(`header  ${JSON.stringify(report.header, bigintJson)}\n`);
          for (const d of details) process.stdout.write(`detail  ${JSON.stringify(d, bigintJson)}\n`);
          if (total > details.length)
            process.stdout.write(`… ${total - details.length} more details (--limit, --json)\n`);
          process.stdout.write(`trailer ${JSON.stringify(report.trailer, bigintJson)}\n`);
          process.stdout.write(`computed ${JSON.stringify(report.computed, bigintJson)}\n`);
          if (request) process.stdout.write(`request ${request.path} (posted totals checked against its amounts)\n`);
          process.stdout.write(ok ? 'totals check: OK\n' : `totals check: ${report.problems.length} problem(s)\n`);
          if (unchecked) process.stdout.write(`${unchecked}\n`);
          for (const p of report.problems) process.stdout.write(`  ${p.describe()}\n`);
        }
        if (!ok) process.exitCode = 1;
      } catch (err) {
        fail(err);
      }
    });

  batch
    .command('schedule')
    .description(
      'run the night unattended (node-cron in the bank time zone): build and send after the cutoff, poll responses, catch up',
    )
    .option(
      '--port <n>',
      'serve /healthz, /readyz and /metrics on this port (0: any free port; default: none)',
      parsePort,
    )
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { port?: number }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel });
      const store = (
        await openHubStore({
          dataDir: config.dataDir,
          dbUrl: config.dbUrl,
          poolMax: config.dbPoolMax,
          ...(config.dbSchema !== undefined ? { schema: config.dbSchema } : {}),
        })
      ).store;
      const metrics = createHubMetrics();
      const { deps, settings } = createBatchDeps({
        env: process.env,
        config,
        store,
        logger,
        metrics: createBatchMetrics(metrics.registry, store.batch),
      });
      const scheduler = createNightScheduler(deps, {
        cutoffMinute: settings.cutoffMinute,
        deadlineMinute: settings.deadlineMinute,
        cron: settings.tickCron,
      });
      scheduler.start();
      let scheduling = true;
      const endpoints =
        opts.port === undefined
          ? null
          : await serveBatchEndpoints({
              port: opts.port,
              host: config.host,
              registry: metrics.registry,
              storeReady: () => store.ping().then(() => true),
              scheduling: () => scheduling,
            });
      process.stderr.write(
        `loanhub: batch schedule running (cutoff ${process.env.LOANHUB_BATCH_CUTOFF ?? '23:30'} ${config.timeZone})` +
          `${endpoints ? `; /healthz, /readyz, /metrics on ${endpoints.url}` : ''}; Ctrl-C stops it\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          scheduling = false;
          void scheduler
            .stop()
            .then(() => endpoints?.close())
            .then(() => store.close())
            .then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** JSON of decoded records: money totals as decimal strings (`125.50`), other bigints (counts, hash) as digits. */
function bigintJson(key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return /^(total|posted)(Pen|Usd)$/.test(key) ? money(value) : value.toString();
}

/**
 * A file whose name is not a dataset name: a request's header holds its core code (CSH, MTG, VEH) at
 * positions 46-48, a response's its FILE-STATUS and FILE-REASON there. The size alone cannot tell: a
 * response of four records is 400 bytes, two request records.
 */
async function sniffKind(file: string, page: CodePage): Promise<'PAY' | 'RSP'> {
  const handle = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(48), 0, 48, 0);
    const text = String.fromCharCode(...Array.from(buffer.subarray(45, bytesRead), (b) => page.toUnicode[b] ?? 0));
    if (['CSH', 'MTG', 'VEH'].includes(text)) return 'PAY';
    const { size } = await handle.stat();
    return /^[AR]/.test(text) || size % 200 !== 0 ? 'RSP' : 'PAY';
  } finally {
    await handle.close();
  }
}

/** The amounts of the request named `name`, from the first of `candidates` that exists; null if none. */
async function readRequestAmounts(
  candidates: readonly string[],
  name: string,
  page: CodePage,
): Promise<{ path: string; amounts: Map<string, { currency: Currency; amount: bigint }> } | null> {
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue;
    const amounts = new Map<string, { currency: Currency; amount: bigint }>();
    await readRequestFile({
      path: candidate,
      name,
      page,
      onDetail: (d) => {
        amounts.set(d.paymentId, { currency: d.currency, amount: d.amount });
      },
    });
    return { path: candidate, amounts };
  }
  return null;
}
