import type { CoreExtract, CoreExtractSource } from '../adapters/core-extract-port';
import { CORES, type Channel, type Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import type { ReconBreak, ReconRun, ReconStore, Totals } from '../store/recon-store-port';

// Reconciliation of one business date, on demand or after the night's responses: each core's daily
// extract is fetched through its adapter and loaded, then the store matches the four sources in SQL
// and merges the breaks it finds with the ones it knows (ids stable, resolutions kept, the vanished
// closed with the reason).

/** The channels that send a settlement file every morning (app and web may, and are matched when they do). */
export const SETTLING_CHANNELS: readonly Channel[] = ['agents', 'atm', 'stores'];

export interface ReconDeps {
  readonly recon: ReconStore;
  /** Each core's extract source; a core without one is matched on the extract already loaded, if any. */
  readonly extracts: Partial<Record<Core, CoreExtractSource>>;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface ReconResult {
  readonly run: ReconRun;
  readonly totals: readonly Totals[];
  /** Cores whose extract could not be fetched this time, with why. */
  readonly extractFailures: readonly { core: Core; error: string }[];
}

const BATCH = 1000;

/** Loads one core's extract as the evidence of the core's side of the date. */
export async function loadCoreExtract(recon: ReconStore, extract: CoreExtract, at: string): Promise<number> {
  const id = await recon.beginCoreExtract({
    core: extract.core,
    businessDate: extract.businessDate,
    at,
    format: `${extract.fileName} sha256:${extract.sha256}`,
    evidence: extract.raw.toString('utf8'),
  });
  for (let i = 0; i < extract.rows.length; i += BATCH) {
    await recon.addCoreExtractLines(
      id,
      extract.rows.slice(i, i + BATCH).map((r) => ({
        paymentId: r.paymentId,
        kind: r.kind === 'applied' ? 'APPLIED' : 'REVERSED',
        loanNumber: r.loanNumber,
        currency: r.currency,
        amount: r.amount,
        coreReference: r.coreReference,
        at: r.at,
      })),
    );
  }
  await recon.finishCoreExtract(id, extract.rows.length);
  return id;
}

export async function runReconciliation(deps: ReconDeps, businessDate: string): Promise<ReconResult> {
  const extractFailures: { core: Core; error: string }[] = [];
  for (const core of CORES) {
    const source = deps.extracts[core];
    if (!source) continue;
    try {
      const extract = await source.fetchDailyExtract(businessDate);
      await loadCoreExtract(deps.recon, extract, deps.now().toISOString());
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      extractFailures.push({ core, error });
      deps.logger.warn({ core, businessDate, err: error }, 'core extract not loaded; matched on what the store has');
    }
  }
  const run = await deps.recon.run({
    businessDate,
    at: deps.now().toISOString(),
    expectedChannels: SETTLING_CHANNELS,
    expectedCores: CORES,
  });
  deps.logger.info(
    {
      businessDate,
      runId: run.id,
      status: run.status,
      open: run.openBreaks,
      new: run.newBreaks,
      closed: run.closedBreaks,
    },
    'reconciliation run',
  );
  return { run, totals: await deps.recon.totals(businessDate), extractFailures };
}

/** Every break of the date, in id order (pages from the store). */
export async function* breaksOf(recon: ReconStore, businessDate: string): AsyncIterable<ReconBreak> {
  for await (const page of recon.breaks({ businessDate }, 500)) yield* page;
}
