import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../logging/logger';
import { createBatchDeps } from '../../runtime/batch-runtime';
import type { ReconBreak } from '../../store/recon-store-port';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../store/store-port';
import { seedApplied } from '../batch/batch-store-fixture';

// A file the mainframe never answers: past its response deadline the night's scheduler hands the date
// to reconciliation (test/batch/night-schedule-clock), and the hub's wiring reconciles it once after
// that deadline, so finance sees the unposted payments as breaks without waiting for the response. A
// run already started after the deadline (another process, a restart, finance's own `recon run`) is
// not repeated.

const D = '2026-11-23';
const DEADLINE = new Date('2026-11-24T11:00:00Z'); // 06:00 in Lima the next morning

let dir: string;
let store: PaymentStore;
let clock: Date;
let paymentIds: string[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-recon-deadline-'));
  store = openSqliteStore({ file: path.join(dir, 'hub.db') });
  paymentIds = await seedApplied(store, { core: 'cash', businessDate: D, count: 2, loanPrefix: '1' });
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function recon(): NonNullable<PaymentStore['recon']> {
  if (!store.recon) throw new Error('the SQLite store has no reconciliation tables');
  return store.recon;
}

async function openBreaks(): Promise<ReconBreak[]> {
  const out: ReconBreak[] = [];
  for await (const page of recon().breaks({ businessDate: D, status: 'open' }, 100)) out.push(...page);
  return out;
}

test('a date overdue at its deadline is reconciled once after it: its applied payments are breaks', async () => {
  const env = { LOANHUB_DATA_DIR: dir, LOANHUB_MAINFRAME_SFTP_URL: '' };
  const { deps } = createBatchDeps({
    env,
    config: loadConfig(env),
    store,
    logger: createLogger({ level: 'silent' }),
    now: () => clock,
    // no core answers its extract here: those sources are missing, the hub's side is what counts
    reconcile: { coreUrl: () => 'http://127.0.0.1:1' },
  });
  if (!deps.afterDeadline) throw new Error('the wiring gives no afterDeadline');
  expect(await recon().latestRun(D)).toBeNull();

  clock = new Date(DEADLINE.getTime() + 60_000);
  await deps.afterDeadline(D, DEADLINE);
  const first = await recon().latestRun(D);
  expect(first?.startedAt).toBe(clock.toISOString());
  const notPosted = (await openBreaks()).filter((b) => b.type === 'APPLIED_NOT_POSTED');
  expect(notPosted.map((b) => b.paymentId).sort()).toEqual([...paymentIds].sort());

  // The next tick (or another process) hands the same date on again: a run after the deadline exists.
  clock = new Date(DEADLINE.getTime() + 120_000);
  await deps.afterDeadline(D, DEADLINE);
  expect((await recon().latestRun(D))?.id).toBe(first?.id);

  // A later deadline (a resend that went unanswered too) is reconciled again.
  clock = new Date(DEADLINE.getTime() + 3 * 3600_000);
  await deps.afterDeadline(D, new Date(DEADLINE.getTime() + 2 * 3600_000));
  expect((await recon().latestRun(D))?.id).not.toBe(first?.id);
});
