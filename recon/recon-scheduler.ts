import { runReconciliation, type ReconDeps, type ReconResult } from './run-reconciliation';

// Reconciliation after the night, on the night scheduler's node-cron clock (batch/night-scheduler.ts):
// it calls `reconcileAfterResponses` once the mainframe's responses of a date are applied, and once
// after the response deadline when a file of the date is still unanswered (runtime/batch-runtime.ts).

/** One reconciliation of the date; never throws (a failure is logged and returns null, the next run retries). */
export async function reconcileAfterResponses(deps: ReconDeps, businessDate: string): Promise<ReconResult | null> {
  try {
    return await runReconciliation(deps, businessDate);
  } catch (err) {
    deps.logger.error({ businessDate, err: err instanceof Error ? err.message : String(err) }, 'reconciliation failed');
    return null;
  }
}
