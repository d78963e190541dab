import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { startMainframeSimulator, type MainframeSimulator } from '../../bank/mainframe/mainframe-simulator';
import type { BatchDeps } from '../../batch/batch-deps';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import { createNightScheduler, type NightScheduler } from '../../batch/night-scheduler';
import { createSsh2SftpConnector } from '../../batch/ssh2-sftp-agent';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { createBatchMetrics } from '../../metrics/batch-metrics';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../store/store-port';
import { batchDepsFor, logSink, seedApplied } from './batch-store-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// The unattended night on the bank's clock, against the real OpenSSH server and the mainframe
// simulator: catch-up of an earlier business date at start, nothing before the cutoff, the night's
// files after it, an alert (log line once, gauge per core) when the response misses its deadline, and
// the gauge back to 0 once the late response is applied. Also: no file for a holiday.

const CUTOFF = 23 * 60 + 30;
const DEADLINE = 6 * 60;

let sftp: TestSftp;
let store: PaymentStore;
let mainframe: MainframeSimulator;
let scheduler: NightScheduler;
let deps: BatchDeps;
let clock = new Date('2026-11-23T17:00:00Z'); // Monday 12:00 in Lima
const logs = logSink();
const registry = new Registry();
/** Dates the scheduler handed on (to reconciliation) once all their files had responses. */
const handedOn: string[] = [];
/** Dates handed on because a file of theirs was unanswered past its deadline, with that deadline. */
const handedOnLate: Array<[string, string]> = [];

const inbound = (): string[] =>
  fs
    .readdirSync(path.join(sftp.dir, 'inbound'))
    .filter((n) => !n.startsWith('.'))
    .sort();
const overdue = async (core: string): Promise<number | undefined> =>
  (await registry.getSingleMetric('loanhub_batch_files_overdue')?.get())?.values.find((v) => v.labels.core === core)
    ?.value;

beforeAll(async () => {
  sftp = testSftp('schedule-clock');
  for (const d of ['inbound', 'outbound']) fs.mkdirSync(path.join(sftp.dir, d), { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-sched-'));
  store = openSqliteStore({ file: path.join(work, 'hub.db') });
  // Friday's payments were never sent (the scheduler was down all weekend); Monday's come in the day.
  await seedApplied(store, { core: 'cash', businessDate: '2026-11-20', count: 3, loanPrefix: '1' });
  await seedApplied(store, { core: 'cash', businessDate: '2026-11-23', count: 4, loanPrefix: '1' });
  await seedApplied(store, { core: 'vehicle', businessDate: '2026-11-23', count: 2, loanPrefix: '3' });
  const settings = batchSettingsFromEnv(sftp.env);
  if (!settings.sftp) throw new Error('no SFTP settings');
  deps = {
    ...batchDepsFor({
      store,
      connector: createSsh2SftpConnector(settings.sftp),
      dataDir: work,
      now: () => clock,
      logs: logs.stream,
    }),
    metrics: createBatchMetrics(registry, store.batch),
    afterResponses: async (date) => {
      handedOn.push(date);
    },
    afterDeadline: async (date, deadline) => {
      handedOnLate.push([date, deadline.toISOString()]);
    },
  };
  mainframe = startMainframeSimulator({
    dir: sftp.dir,
    ledgerFile: path.join(work, 'ledger.jsonl'),
    page: mainframeCodePage('cp037'),
    pollMs: 60_000, // answered only when the test says so
  });
  scheduler = createNightScheduler(deps, { cutoffMinute: CUTOFF, deadlineMinute: DEADLINE, cron: '0 0 1 1 *' });
}, 60_000);

afterAll(async () => {
  await scheduler?.stop();
  await mainframe?.close();
  await store?.close();
});

test('at start it catches up: the earlier business date goes out, today waits for the cutoff', async () => {
  await scheduler.tick();
  expect(inbound()).toEqual(['LHUB.PAY.CSH.D261120.S01', 'LHUB.PAY.CSH.D261120.S01.OK']);
  // The mainframe answers it within the hour; the next tick applies the response.
  await mainframe.processOnce();
  clock = new Date('2026-11-23T17:30:00Z');
  await scheduler.tick();
  expect((await store.batch.getFileByName('LHUB.PAY.CSH.D261120.S01'))?.state).toBe('COMPLETE');
  expect(handedOn).toEqual(['2026-11-20']);
  clock = new Date('2026-11-24T04:00:00Z'); // 23:00, before the cutoff
  await scheduler.tick();
  expect(inbound()).toHaveLength(2);
});

test('after the cutoff each core with payments gets its night file; the others send nothing', async () => {
  clock = new Date('2026-11-24T04:31:00Z'); // 23:31
  await scheduler.tick();
  expect(inbound()).toEqual([
    'LHUB.PAY.CSH.D261120.S01',
    'LHUB.PAY.CSH.D261120.S01.OK',
    'LHUB.PAY.CSH.D261123.S01',
    'LHUB.PAY.CSH.D261123.S01.OK',
    'LHUB.PAY.VEH.D261123.S01',
    'LHUB.PAY.VEH.D261123.S01.OK',
  ]);
  const files = await store.batch.listFiles({ businessDate: '2026-11-23' });
  expect(files.map((f) => [f.name, f.state, f.recordCount])).toEqual([
    ['LHUB.PAY.CSH.D261123.S01', 'SENT', 4],
    ['LHUB.PAY.VEH.D261123.S01', 'SENT', 2],
  ]);
});

test('a response missing at the deadline raises one alert and the gauge; applied late, the gauge clears', async () => {
  clock = new Date('2026-11-24T10:50:00Z'); // 05:50, before the deadline
  await scheduler.tick();
  expect(logs.lines.filter((l) => String(l.msg).startsWith('ALERT'))).toEqual([]);
  // The mainframe answers the vehicle file; the cash response is held back (moved aside).
  await mainframe.processOnce();
  const held = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-held-'));
  for (const name of fs.readdirSync(path.join(sftp.dir, 'outbound'))) {
    if (name.includes('CSH.D261123')) fs.renameSync(path.join(sftp.dir, 'outbound', name), path.join(held, name));
  }
  clock = new Date('2026-11-24T11:01:00Z'); // 06:01
  await scheduler.tick();
  await scheduler.tick();
  const alerts = logs.lines.filter((l) => String(l.msg).startsWith('ALERT'));
  expect(alerts.map((a) => a.file)).toEqual(['LHUB.PAY.CSH.D261123.S01']);
  expect(await overdue('cash')).toBe(1);
  expect(await overdue('vehicle')).toBe(0);
  // The vehicle file is complete but the cash one is not: the date is not handed on as answered, but
  // once (two ticks) as overdue since 06:00 Lima, so reconciliation shows its unposted payments.
  expect(handedOn).toEqual(['2026-11-20']);
  expect(handedOnLate).toEqual([['2026-11-23', '2026-11-24T11:00:00.000Z']]);
  expect((await store.batch.getFileByName('LHUB.PAY.VEH.D261123.S01'))?.state).toBe('COMPLETE');

  // The response arrives late (file first, then its trigger); the next tick applies it.
  const late = fs.readdirSync(held).sort((x, y) => Number(x.endsWith('.OK')) - Number(y.endsWith('.OK')));
  expect(late).toEqual(['LHUB.RSP.CSH.D261123.S01', 'LHUB.RSP.CSH.D261123.S01.OK']);
  for (const name of late) fs.renameSync(path.join(held, name), path.join(sftp.dir, 'outbound', name));
  clock = new Date('2026-11-24T12:00:00Z');
  await scheduler.tick();
  expect((await store.batch.getFileByName('LHUB.PAY.CSH.D261123.S01'))?.state).toBe('COMPLETE');
  expect(await overdue('cash')).toBe(0);
  expect(handedOn).toEqual(['2026-11-20', '2026-11-23']);
  expect(handedOnLate).toHaveLength(1);
});

test('no file exists for a holiday: payments of the holiday carry the next business date', async () => {
  // 8 December 2026 is a holiday in Peru: after its "cutoff" nothing is built for it, even with
  // applied payments wrongly dated that day (the API gives them the next business date); the catch-up
  // refuses them too and says so.
  await seedApplied(store, { core: 'mortgage', businessDate: '2026-12-08', count: 2, loanPrefix: '2' });
  clock = new Date('2026-12-09T04:31:00Z'); // 23:31 on 8 December
  const before = inbound().length;
  await scheduler.tick();
  clock = new Date('2026-12-11T04:31:00Z'); // 23:31 on Thursday 10 December
  await scheduler.tick();
  expect(inbound()).toHaveLength(before);
  expect(await store.batch.listFiles({ businessDate: '2026-12-08' })).toEqual([]);
  expect(logs.lines.filter((l) => l.businessDate === '2026-12-08').map((l) => l.msg)).toContain(
    'applied payments carry a date that is not a business day; not sent',
  );
});
