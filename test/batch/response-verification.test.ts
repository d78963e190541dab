import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMainframeSimulator, type MainframeSimulator } from '../../bank/mainframe/mainframe-simulator';
import { fetchResponses } from '../../batch/apply-responses';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import { encodeResponseDetail } from '../../batch/response-detail-record';
import { encodeResponseHeader } from '../../batch/response-header-record';
import { encodeResponseTrailer } from '../../batch/response-trailer-record';
import { runBatch } from '../../batch/run-batch';
import { createSsh2SftpConnector } from '../../batch/ssh2-sftp-agent';
import type { PaymentStore } from '../../store/store-port';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { batchDepsFor, logSink, seedApplied } from './batch-store-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// A response whose trailer does not add up is never applied: fetched over the real OpenSSH server, it
// is reported with both figures, no payment changes state, the file stays SENT and the alert is raised
// once. When the mainframe team writes a corrected response under the same name, the next fetch
// applies it.

const DATE = '2026-11-23';
const REQUEST = 'LHUB.PAY.VEH.D261123.S01';
const RESPONSE = 'LHUB.RSP.VEH.D261123.S01';

let sftp: TestSftp;
let work: string;
let store: PaymentStore;
let simulator: MainframeSimulator;

beforeAll(() => {
  sftp = testSftp('rspcheck');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-rspcheck-'));
  store = openSqliteStore({ file: path.join(work, 'hub.db'), synchronous: 'NORMAL' });
  simulator = startMainframeSimulator({
    dir: sftp.dir,
    ledgerFile: path.join(work, 'mainframe', 'ledger.jsonl'),
    page: mainframeCodePage('cp037'),
    pollMs: 600_000,
  });
});

afterAll(async () => {
  await simulator?.close();
  await store?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('a response that does not add up changes nothing and alerts once; the corrected one is applied', async () => {
  const settings = batchSettingsFromEnv(sftp.env).sftp;
  if (!settings) throw new Error('no SFTP settings');
  const ids = await seedApplied(store, { core: 'vehicle', businessDate: DATE, count: 3, loanPrefix: '3' });
  const logs = logSink();
  const deps = batchDepsFor({
    store,
    connector: createSsh2SftpConnector(settings),
    dataDir: path.join(work, 'hub'),
    now: () => new Date('2026-11-24T04:35:00Z'),
    logs: logs.stream,
  });
  const [run] = await runBatch(deps, { businessDate: DATE, cores: ['vehicle'] });
  expect(run?.sent.map((s) => [s.kind, s.file.name])).toEqual([['sent', REQUEST]]);
  expect(await simulator.processOnce()).toEqual([RESPONSE]);

  // The trailer's POSTED-COUNT (positions 2-10 of the last 100-byte record) says 4 where 3 were posted.
  const served = path.join(sftp.dir, 'outbound', RESPONSE);
  const good = fs.readFileSync(served);
  const bad = Buffer.from(good);
  const trailer = bad.length - 100;
  expect(bad.subarray(trailer + 1, trailer + 10).toString('hex')).toBe('f0f0f0f0f0f0f0f0f3');
  bad[trailer + 9] = 0xf4;
  fs.writeFileSync(served, bad);

  const first = await fetchResponses(deps);
  expect(first.applied).toEqual([]);
  expect(first.invalid).toEqual([
    {
      name: RESPONSE,
      problems: [
        `COUNT_MISMATCH: POSTED-COUNT differs from the details (${RESPONSE}, record 5, offset ${trailer + 1}, field POSTED-COUNT, stated 4, computed 3)`,
      ],
    },
  ]);
  for (const id of ids) expect((await store.getPayment(id))?.status).toBe('APPLIED');
  expect(await store.batch.getFileByName(REQUEST)).toMatchObject({ state: 'SENT', postedCount: 0 });
  const alerts = (): unknown[] => logs.lines.filter((l) => l.alert === 'mainframe_response');
  expect(alerts()).toEqual([
    expect.objectContaining({
      file: REQUEST,
      why: 'response does not verify',
      msg: `ALERT: ${REQUEST}: response does not verify`,
    }),
  ]);

  // Fetched again while still wrong: still nothing applied, no second alert; the bad copy is kept.
  expect((await fetchResponses(deps)).invalid.map((i) => i.name)).toEqual([RESPONSE]);
  expect(alerts()).toHaveLength(1);
  expect(fs.readFileSync(path.join(work, 'hub', 'batch', 'received', `${RESPONSE}.invalid`)).equals(bad)).toBe(true);

  // The mainframe team writes the corrected response under the same name: the next fetch applies it.
  fs.writeFileSync(served, good);
  const fixed = await fetchResponses(deps);
  expect(fixed.invalid).toEqual([]);
  expect(fixed.applied).toEqual([{ name: REQUEST, posted: 3, rejected: 0 }]);
  for (const id of ids) expect((await store.getPayment(id))?.status).toBe('POSTED');
  expect(await store.batch.getFileByName(REQUEST)).toMatchObject({ state: 'COMPLETE', postedCount: 3 });
}, 60_000);

test('a response that adds up but misses a payment, or answers another request, is not applied either', async () => {
  const settings = batchSettingsFromEnv(sftp.env).sftp;
  if (!settings) throw new Error('no SFTP settings');
  const page = mainframeCodePage('cp037');
  const request = 'LHUB.PAY.MTG.D261123.S01';
  const response = 'LHUB.RSP.MTG.D261123.S01';
  const ids = await seedApplied(store, { core: 'mortgage', businessDate: DATE, count: 2, loanPrefix: '2' });
  const deps = batchDepsFor({
    store,
    connector: createSsh2SftpConnector(settings),
    dataDir: path.join(work, 'hub'),
    now: () => new Date('2026-11-24T04:35:00Z'),
    logs: logSink().stream,
  });
  const [run] = await runBatch(deps, { businessDate: DATE, cores: ['mortgage'] });
  expect(run?.sent.map((s) => [s.kind, s.file.name])).toEqual([['sent', request]]);
  expect(await simulator.processOnce()).toEqual([response]);
  const served = path.join(sftp.dir, 'outbound', response);
  const good = fs.readFileSync(served);
  // Built with the hub's own record encoders: each file is sound in itself (its trailer adds up).
  const file = (answers: string, details: string[]): Buffer =>
    Buffer.concat([
      Buffer.from(
        encodeResponseHeader({ requestName: answers, status: 'A', reason: '', processedAt: '20261124050000' }, page),
      ),
      ...details.map((id) =>
        Buffer.from(encodeResponseDetail({ paymentId: id, result: 'R', reason: 'ACCT', postingReference: '' }, page)),
      ),
      Buffer.from(
        encodeResponseTrailer({ postedCount: 0, rejectedCount: details.length, postedPen: 0n, postedUsd: 0n }, page),
      ),
    ]);
  const unchanged = async (): Promise<void> => {
    for (const id of ids) expect((await store.getPayment(id))?.status).toBe('APPLIED');
    expect(await store.batch.getFileByName(request)).toMatchObject({ state: 'SENT', postedCount: 0, rejectedCount: 0 });
  };

  fs.writeFileSync(served, file(request, [ids[0] ?? '']));
  const missing = await fetchResponses(deps);
  expect(missing.applied).toEqual([]);
  expect(missing.invalid).toEqual([
    {
      name: response,
      problems: [`MISSING_PAYMENT: the response answers 1 payments, the request holds 2 (${response})`],
    },
  ]);
  await unchanged();

  fs.writeFileSync(served, file('LHUB.PAY.MTG.D261123.S02', ids));
  const other = await fetchResponses(deps);
  expect(other.applied).toEqual([]);
  expect(other.invalid.map((i) => i.problems)).toEqual([
    [
      `NAME_MISMATCH: the response answers LHUB.PAY.MTG.D261123.S02, not ${request} (${response}, record 1, field FILE-NAME)`,
    ],
  ]);
  await unchanged();

  fs.writeFileSync(served, good);
  expect((await fetchResponses(deps)).applied).toEqual([{ name: request, posted: 2, rejected: 0 }]);
  for (const id of ids) expect((await store.getPayment(id))?.status).toBe('POSTED');
}, 60_000);
