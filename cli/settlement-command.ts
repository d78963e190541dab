import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadSettlementMappings } from '../channels/settlement/settlement-mapping';
import { loadConfig } from '../config/config';
import { createProgressMeter } from '../copybooks/progress-meter';
import { CHANNELS, isChannel, type Channel } from '../domain/channel';
import { importSettlementFile } from '../recon/import-settlement';
import { describeProblem } from '../recon/settlement-file-reader';
import { openHubStore } from '../store/open-store';
import type { PaymentStore } from '../store/store-port';
import type { ReconStore } from '../store/recon-store-port';

// `loanhub settlement import --channel X FILE [--strict] [--json]`: a channel's settlement file into the
// hub's store. Exit codes: 0 imported (or already imported), 1 imported with bad lines, 2 usage,
// 3 refused (--strict with bad lines, or no readable line at all).

export function parseChannel(value: string): Channel {
  if (!isChannel(value)) throw new InvalidArgumentError(`unknown channel ${value}; use ${CHANNELS.join(', ')}`);
  return value;
}

export function parseIsoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError(`not a YYYY-MM-DD date: ${value}`);
  }
  return value;
}

/** Opens the hub's store (LOANHUB_DB_URL's PostgreSQL, else the data dir's SQLite file) for a command. */
export async function openCliStore(): Promise<PaymentStore> {
  const config = loadConfig();
  return (
    await openHubStore({
      dataDir: config.dataDir,
      dbUrl: config.dbUrl,
      poolMax: config.dbPoolMax,
      ...(config.dbSchema !== undefined ? { schema: config.dbSchema } : {}),
    })
  ).store;
}

/** Runs `work` on the hub store's reconciliation tables, and closes the store after. */
export async function withReconStore<T>(work: (recon: ReconStore) => Promise<T>): Promise<T> {
  const store = await openCliStore();
  try {
    if (!store.recon) throw new Error(`the ${store.kind} store has no reconciliation tables`);
    return await work(store.recon);
  } finally {
    await store.close();
  }
}

export function registerSettlementCommands(program: Command): void {
  const settlement = program.command('settlement').description("the channels' daily settlement files");
  settlement
    .command('import')
    .description('store a settlement file of a channel (the same file twice is recognised and not counted again)')
    .argument('<file>', 'the settlement file, in the channel layout of channels/settlement/<channel>.json')
    .addOption(
      new Option('--channel <channel>', 'the channel that sent it').argParser(parseChannel).makeOptionMandatory(),
    )
    .option(
      '--date <YYYY-MM-DD>',
      'the business date it settles (default: the date most of its lines carry)',
      parseIsoDate,
    )
    .option('--strict', 'keep nothing when any line is bad')
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      '\nEnvironment: LOANHUB_DATA_DIR (the hub store is hub.db there).\nExit: 0 imported, 1 imported with bad lines, 3 refused.',
    )
    .action(async (file: string, opts: { channel: Channel; date?: string; strict?: boolean; json?: boolean }) => {
      try {
        const mapping = loadSettlementMappings().get(opts.channel);
        if (!mapping) throw new Error(`no settlement layout for channel ${opts.channel}`);
        const meter = createProgressMeter(process.stderr, `importing ${path.basename(file)}`, undefined);
        const outcome = await withReconStore((recon) =>
          importSettlementFile({
            progress: (lines) => meter.tick(lines, 0),
            store: recon,
            channel: opts.channel,
            mapping,
            file,
            ...(opts.date ? { businessDate: opts.date } : {}),
            strict: opts.strict === true,
            now: () => new Date(),
          }),
        ).finally(() => meter.done());
        const problems = outcome.kind === 'duplicate' ? [] : outcome.problems;
        const problemCount = outcome.kind === 'duplicate' ? 0 : outcome.problemCount;
        // A file with no good line carries no business date: an empty day is imported with --date.
        const why =
          outcome.kind === 'refused' && !(opts.strict === true && problemCount > 0)
            ? 'no line of the file carries a business date; import a file without collections with --date YYYY-MM-DD'
            : undefined;
        if (opts.json) {
          const body =
            outcome.kind === 'refused'
              ? { outcome: 'refused', lines: outcome.lines, ...(why ? { reason: why } : {}) }
              : {
                  outcome: outcome.kind,
                  fileId: outcome.file.id,
                  channel: outcome.file.channel,
                  businessDate: outcome.file.businessDate,
                  sha256: outcome.file.sha256,
                  lines: outcome.file.lines,
                  goodLines: outcome.file.goodLines,
                  badLines: outcome.file.badLines,
                };
          process.stdout.write(`${JSON.stringify({ ...body, problemCount, problems }, null, 2)}\n`);
        } else {
          for (const p of problems) process.stderr.write(`${describeProblem(p)}\n`);
          if (problemCount > problems.length) {
            process.stderr.write(`… and ${problemCount - problems.length} more problems\n`);
          }
          if (outcome.kind === 'duplicate') {
            process.stdout.write(
              `already imported: ${outcome.file.fileName} (sha256 ${outcome.file.sha256.slice(0, 16)}…) on ${outcome.file.importedAt}; nothing counted again\n`,
            );
          } else if (outcome.kind === 'refused') {
            process.stdout.write(
              `refused: ${why ?? `${problemCount} problem(s) in ${outcome.lines} line(s)`}; nothing kept\n`,
            );
          } else {
            const f = outcome.file;
            process.stdout.write(
              `imported ${f.fileName} for ${f.channel} ${f.businessDate}: ${f.goodLines} of ${f.lines} lines kept, ${f.badLines} bad\n`,
            );
          }
        }
        process.exitCode = outcome.kind === 'refused' ? 3 : problems.length > 0 ? 1 : 0;
      } catch (err) {
        process.stderr.write(`loanhub settlement import: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
