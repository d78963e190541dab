import pino from 'pino';
import { Option, type Command } from 'commander';
import {
  BREAK_STATUSES,
  BREAK_TYPES,
  type BreakStatus,
  type BreakType,
  type ReconBreak,
} from '../store/recon-store-port';
import { createLogger } from '../logging/logger';
import { breakJson, runJson, totalsJson } from '../recon/recon-json';
import { REPORT_FORMATS, writeReconReport, type ReportFormat } from '../recon/recon-report';
import { runReconciliation } from '../recon/run-reconciliation';
import { formatAmount } from '../domain/money';
import { createReconDeps } from '../runtime/recon-runtime';
import { csvDelimiterFor, type CsvDelimiter } from '../reports/csv-delimiter';
import { loadConfig } from '../config/config';
import { CORES } from '../domain/channel';
import { openCliStore, parseIsoDate, withReconStore } from './settlement-command';

// `loanhub recon run|breaks|resolve|report`: reconciliation of a business date for finance.
// Exit codes: 0 done, 1 failure, 2 usage, 4 open breaks remain and --fail-on-breaks was given.

const ENV_HELP = '\nEnvironment: LOANHUB_DATA_DIR (the hub store hub.db there), LOANHUB_LOG_LEVEL.';

/** Writes to stdout and waits for it to drain (a large JSON to a pipe). */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

function line(b: ReconBreak): string {
  // SOURCE_MISSING names a core or a channel and no payment.
  const who =
    b.paymentId ?? (b.channelReference ? `${b.channel ?? '?'} ${b.channelReference}` : (b.channel ?? b.core ?? '?'));
  const res = b.resolution
    ? `  resolved by ${b.resolution.by}: ${b.resolution.note}`
    : b.closedReason
      ? `  (${b.closedReason})`
      : '';
  return `${b.id}  ${b.status.padEnd(8)} ${b.severity.padEnd(8)} ${b.type.padEnd(26)} ${who}${res}`;
}

/** Where a simulator bound to `host` is reached from this machine (a wildcard address is reached on loopback). */
function simulatorHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export function registerReconCommands(program: Command): void {
  const recon = program
    .command('recon')
    .description('reconciliation of hub, loan cores, mainframe and channel settlement files');

  recon
    .command('run')
    .description('match the four sources of a business date and record the breaks')
    .addOption(new Option('--date <YYYY-MM-DD>', 'business date').argParser(parseIsoDate).makeOptionMandatory())
    .option('--json', 'print the result as one JSON object')
    .option('--fail-on-breaks', 'exit 4 when open breaks remain (for a scheduled finance job)')
    .option('--no-extracts', "do not fetch the cores' extracts; match on those already loaded")
    .addHelpText(
      'after',
      `${ENV_HELP}\nThe cores' extracts are fetched with each adapter's settings (LOANHUB_CORE_<CORE>_URL, credentials).`,
    )
    .action(async (opts: { date: string; json?: boolean; failOnBreaks?: boolean; extracts: boolean }) => {
      const logger = createLogger({ level: process.env.LOANHUB_LOG_LEVEL ?? 'warn', destination: pino.destination(2) });
      const store = await openCliStore();
      try {
        const reconStore = store.recon;
        if (!reconStore) throw new Error('this store has no reconciliation tables');
        if (process.stderr.isTTY) process.stderr.write(`reconciling ${opts.date}…\n`);
        // The embedded simulators of `loanhub start` listen on LOANHUB_CORE_<CORE>_PORT (config.corePorts);
        // LOANHUB_CORE_<CORE>_URL, when set, still wins.
        const config = loadConfig();
        const fallbackUrls = Object.fromEntries(
          CORES.map((core) => [core, `http://${simulatorHost(config.host)}:${config.corePorts[core]}`]),
        );
        const wired = createReconDeps({
          store,
          env: process.env,
          logger,
          withoutExtracts: !opts.extracts,
          fallbackUrls,
        });
        const fetched = await runReconciliation(wired.deps, opts.date);
        const result = { ...fetched, extractFailures: [...wired.problems, ...fetched.extractFailures] };
        if (!opts.json) {
          for (const f of result.extractFailures) {
            process.stderr.write(`loanhub recon run: the ${f.core} core's extract was not loaded: ${f.error}\n`);
          }
        }
        if (opts.json) {
          // One object; the breaks streamed page by page (a bad day can hold many).
          const head = JSON.stringify(
            { ...runJson(result.run), totals: result.totals.map(totalsJson), extractFailures: result.extractFailures },
            null,
            2,
          );
          await writeOut(`${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "breaks": [`);
          let n = 0;
          for await (const page of reconStore.breaks({ businessDate: opts.date }, 500)) {
            for (const b of page) await writeOut(`${n++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(breakJson(b))}`);
          }
          await writeOut(`${n === 0 ? '' : '\n  '}]\n}\n`);
        } else {
          const r = result.run;
          process.stdout.write(
            `${r.businessDate}: ${r.status}; ${r.openBreaks} open, ${r.newBreaks} new, ${r.closedBreaks} closed by this run\n`,
          );
          for (const t of result.totals) {
            process.stdout.write(
              `  ${t.source.padEnd(10)} ${t.channel.padEnd(8)} ${t.core.padEnd(9)} ${t.currency} ${String(t.count).padStart(7)} ${formatAmount(t.amount).padStart(16)}\n`,
            );
          }
          for await (const page of reconStore.breaks({ businessDate: opts.date, status: 'open' }, 500)) {
            for (const b of page) await writeOut(`${line(b)}\n`);
          }
        }
        if (opts.failOnBreaks && result.run.openBreaks > 0) process.exitCode = 4;
      } catch (err) {
        process.stderr.write(`loanhub recon run: ${(err as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });

  recon
    .command('breaks')
    .description('list breaks')
    .option('--date <YYYY-MM-DD>', 'only this business date', parseIsoDate)
    .addOption(new Option('--status <status>', 'only this status').choices([...BREAK_STATUSES]))
    .addOption(new Option('--type <type>', 'only this type').choices([...BREAK_TYPES]))
    .option('--json', 'print JSON (one array)')
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { date?: string; status?: BreakStatus; type?: BreakType; json?: boolean }) => {
      try {
        await withReconStore(async (r) => {
          const filter = {
            ...(opts.date ? { businessDate: opts.date } : {}),
            ...(opts.status ? { status: opts.status } : {}),
            ...(opts.type ? { type: opts.type } : {}),
          };
          let first = true;
          if (opts.json) process.stdout.write('[');
          for await (const page of r.breaks(filter, 500)) {
            for (const b of page) {
              if (opts.json) process.stdout.write(`${first ? '\n' : ',\n'}${JSON.stringify(breakJson(b))}`);
              else process.stdout.write(`${line(b)}\n`);
              first = false;
            }
          }
          if (opts.json) process.stdout.write(`${first ? '' : '\n'}]\n`);
        });
      } catch (err) {
        process.stderr.write(`loanhub recon breaks: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });

  recon
    .command('resolve')
    .description('record who resolved a break and why (kept across reruns)')
    .argument('<break-id>', 'e.g. BRK-20261123-1A2B3C4D5E')
    .requiredOption('--note <text>', 'why it is resolved')
    .requiredOption('--by <name>', 'who resolved it')
    .option('--json', 'print the break as JSON')
    .action(async (id: string, opts: { note: string; by: string; json?: boolean }) => {
      try {
        if (opts.note.trim() === '' || opts.by.trim() === '') throw new Error('--note and --by must not be empty');
        const outcome = await withReconStore((r) =>
          r.resolveBreak(id, { note: opts.note, by: opts.by, at: new Date().toISOString() }),
        );
        if (outcome.kind === 'not_found') {
          process.stderr.write(`loanhub recon resolve: no break ${id}\n`);
          process.exitCode = 1;
          return;
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(breakJson(outcome.break), null, 2)}\n`);
        else process.stdout.write(`${line(outcome.break)}\n`);
      } catch (err) {
        process.stderr.write(`loanhub recon resolve: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });

  recon
    .command('report')
    .description("write finance's report of a reconciled date")
    .addOption(new Option('--date <YYYY-MM-DD>', 'business date').argParser(parseIsoDate).makeOptionMandatory())
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <file>', 'where to write it')
    .addOption(
      new Option('--delimiter <char>', 'CSV delimiter (default: LOANHUB_REPORT_CSV_DELIMITER, else ;)').choices([
        ';',
        ',',
      ]),
    )
    .addHelpText(
      'after',
      `${ENV_HELP}\nLOANHUB_REPORT_CSV_DELIMITER (; or ,): the CSV delimiter when --delimiter is not given.`,
    )
    .action(async (opts: { date: string; format: ReportFormat; out: string; delimiter?: CsvDelimiter }) => {
      let delimiter: CsvDelimiter;
      try {
        delimiter = csvDelimiterFor(opts.delimiter, process.env, ';');
      } catch (err) {
        process.stderr.write(`loanhub recon report: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const written = await withReconStore((r) =>
          writeReconReport({
            recon: r,
            businessDate: opts.date,
            format: opts.format,
            out: opts.out,
            delimiter,
            generatedAt: new Date().toISOString(),
          }),
        );
        process.stdout.write(`wrote ${opts.out} (${opts.format}, ${written.breaks} breaks)\n`);
      } catch (err) {
        process.stderr.write(`loanhub recon report: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
