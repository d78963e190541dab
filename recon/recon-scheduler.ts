import cron, { type ScheduledTask } from 'node-cron';
import { runReconciliation, type ReconDeps, type ReconResult } from './run-reconciliation';

// Reconciliation after the night: the batch scheduler calls `reconcileAfterResponses` once the
// mainframe's responses of a date are applied; `scheduleReconciliation` is the node-cron job for a
// process that runs it on its own clock (e.g. 07:00 bank time, after the response deadline).

/** One reconciliation of the date; never throws (a failure is logged and returns null, the next run retries). */
export async function reconcileAfterResponses(deps: ReconDeps, businessDate: string): Promise<ReconResult | null> {
  try {
    return await runReconciliation(deps, businessDate);
  } catch (err) {
    deps.logger.error({ businessDate, err: err instanceof Error ? err.message : String(err) }, 'reconciliation failed');
    return null;
  }
}

export interface ReconScheduler {
  /** The cron job's body: reconciles the date `businessDate()` names now (tests call it directly). */
  tick(): Promise<ReconResult | null>;
  stop(): void;
}

export function scheduleReconciliation(opts: {
  readonly deps: ReconDeps;
  /** node-cron expression in the bank's time zone, e.g. '0 7 * * 1-6'. */
  readonly cron: string;
  readonly timeZone: string;
  /** The business date to reconcile at a tick (usually the last closed one). */
  readonly businessDate: () => string;
}): ReconScheduler {
  if (!cron.validate(opts.cron)) throw new Error(`not a cron expression: ${opts.cron}`);
  let running: Promise<ReconResult | null> | null = null;
  const tick = (): Promise<ReconResult | null> => {
    // One run at a time: a slow day is not started twice.
    running ??= reconcileAfterResponses(opts.deps, opts.businessDate()).finally(() => {
      running = null;
    });
    return running;
  };
  const task: ScheduledTask = cron.schedule(opts.cron, () => void tick(), { timezone: opts.timeZone });
  return {
    tick,
    stop: () => {
      void task.stop();
    },
  };
}
