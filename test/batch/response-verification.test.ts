import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMainframeSimulator, type MainframeSimulator } from '../../bank/mainframe/mainframe-simulator';
import { fetchResponses } from '../../batch/apply-responses';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { mainframeCodePage } from '../../batch/mainframe-codec';
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
