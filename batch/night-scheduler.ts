import { randomBytes } from 'node:crypto';
import os from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { businessDateOf, localMinuteOf } from '../domain/business-date';
import { CORES } from '../domain/channel';
import { alertOnce, fetchResponses } from './apply-responses';
import type { BatchDeps } from './batch-deps';
import { responseDeadline } from './night-clock';
import { runCore } from './run-batch';
import { describe } from './send-files';

// The night, unattended. node-cron ticks in the bank's time zone (every minute by default); each tick:
//   1. catch-up: every earlier business date with applied payments in no file, or files still to send;
//   2. today, once its cutoff has passed on a business day: build and send per core;
//   3. poll for responses while files wait, and raise the deadline alert for late ones.
// A lease in the store per core and date makes exactly one runner do each, however many processes run
// the schedule; a runner that dies leaves a lease that expires.

export interface NightScheduler {
  start(): void;
  /** One pass now (the cron job's body; tests call it with their own clock). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const LEASE_MS = 15 * 60_000;

export function createNightScheduler(
  deps: BatchDeps,
  opts: { cutoffMinute: number; deadlineMinute: number; cron: string; holder?: string },
): NightScheduler {
  const holder = opts.holder ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = deps.logger.child({ part: 'batch-scheduler' });
  let task: ScheduledTask | null = null;
  let running: Promise<void> | null = null;

  const leased = async (name: string, work: () => Promise<void>): Promise<void> => {
    const now = deps.now();
    if (!(await deps.store.batch.acquireLease(name, holder, new Date(now.getTime() + LEASE_MS), now))) return;
    try {
      await work();
    } finally {
      await deps.store.batch.releaseLease(name, holder);
    }
  };

  const pass = async (): Promise<void> => {
    const now = deps.now();
    const today = businessDateOf(now, deps.timeZone);
    const due = await deps.store.batch.datesToCatchUp(today);
    if (deps.calendar.isBusinessDay(today) && localMinuteOf(now, deps.timeZone) >= opts.cutoffMinute) {
      for (const core of CORES) due.push({ core, businessDate: today });
    }
    for (const { core, businessDate } of due) {
      if (!deps.calendar.isBusinessDay(businessDate)) {
        log.error({ core, businessDate }, 'applied payments carry a date that is not a business day; not sent');
        continue;
      }
      await leased(`night:${core}:${businessDate}`, async () => {
        const run = await runCore(deps, core, businessDate);
        if (!run.nothingToDo)
          log.info({ core, businessDate, files: run.sent.map((s) => `${s.file.name}:${s.kind}`) }, 'night run');
      }).catch((err: unknown) =>
        log.error({ core, businessDate, err: describe(err) }, 'night run failed; the next tick tries again'),
      );
    }
    await leased('responses', async () => {
      const summary = await fetchResponses(deps);
      if (summary.applied.length + summary.refused.length + summary.invalid.length > 0)
        log.info(summary, 'responses fetched');
      await afterResponses(summary.applied.map((a) => a.name));
    }).catch((err: unknown) => log.error({ err: describe(err) }, 'response poll failed; the next tick tries again'));
    const overdue = await checkDeadlines(deps, opts.deadlineMinute);
    for (const [businessDate, deadline] of overdue) {
      if (!deps.afterDeadline || deadlineHandedOn.has(businessDate)) continue;
      deadlineHandedOn.add(businessDate);
      log.info(
        { businessDate },
        'a file of the date is unanswered past its deadline; handing the date on (reconciliation)',
      );
      await deps.afterDeadline(businessDate, deadline);
    }
  };
  // Dates already handed on because a response missed its deadline (reconciliation keeps its own record
  // of runs, so another process or a restart does not run a date twice either).
  const deadlineHandedOn = new Set<string>();

  // A date whose last open file was just completed is handed on (reconciliation), once per completion.
  const afterResponses = async (appliedNames: readonly string[]): Promise<void> => {
    if (!deps.afterResponses) return;
    const dates = new Set<string>();
    for (const name of appliedNames) {
      const file = await deps.store.batch.getFileByName(name);
      if (file) dates.add(file.businessDate);
    }
    for (const businessDate of [...dates].sort()) {
      const open = await deps.store.batch.listFiles({ businessDate, states: ['BUILT', 'SENT', 'ACCEPTED', 'FAILED'] });
      if (open.length > 0) continue;
      log.info({ businessDate }, 'every file of the date has its response; handing the date on (reconciliation)');
      await deps.afterResponses(businessDate);
    }
  };

  return Object.freeze({
    start: () => {
      if (task) return;
      task = cron.schedule(
        opts.cron,
        () => {
          void tick();
        },
        { timezone: deps.timeZone, name: 'loanhub-batch-night', noOverlap: true },
      );
      // Catch-up at start: whatever earlier nights left is sent now, oldest first.
      void tick();
    },
    tick,
    stop: async () => {
      await task?.stop();
      task = null;
      await running;
    },
  });

  function tick(): Promise<void> {
    if (running) return running;
    running = pass().finally(() => {
      running = null;
    });
    return running;
  }
}

/**
 * Files waiting past their deadline raise an alert (log line once, gauge per core while it lasts).
 * Returns the business dates with an overdue file, each with the moment its first file fell due.
 */
export async function checkDeadlines(deps: BatchDeps, deadlineMinute: number): Promise<Map<string, Date>> {
  const waiting = await deps.store.batch.listFiles({ states: ['SENT'] });
  const now = deps.now();
  const overdue = new Map<string, number>(CORES.map((c) => [c, 0]));
  const dates = new Map<string, Date>();
  for (const f of waiting) {
    const byDate = responseDeadline(f.businessDate, deadlineMinute, deps.timeZone).getTime();
    const bySend = f.sentAt ? Date.parse(f.sentAt) + 60 * 60_000 : 0;
    const due = Math.max(byDate, bySend);
    if (now.getTime() <= due) continue;
    overdue.set(f.core, (overdue.get(f.core) ?? 0) + 1);
    const earliest = dates.get(f.businessDate);
    if (!earliest || due < earliest.getTime()) dates.set(f.businessDate, new Date(due));
    await alertOnce(deps, f, 'no response from the mainframe by the deadline');
  }
  for (const [core, n] of overdue) deps.metrics?.responseOverdue.set({ core }, n);
  return dates;
}
