import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBatch } from '../../batch/run-batch';
import { parseSftpSettings } from '../../batch/sftp-settings';
import { createSsh2SftpConnector, sshFingerprint } from '../../batch/ssh2-sftp-agent';
import type { PaymentStore } from '../../store/store-port';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { batchDepsFor, logSink, seedApplied } from './batch-store-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// The mainframe's SFTP server is pinned by its host key fingerprint. Against the real OpenSSH server
// with a wrong pin: the connection is refused before any file operation, the file is FAILED with a
// reason that names both fingerprints, at once (no retries: a key does not change between tries),
// nothing reaches the server; with the right pin the next run sends the same file.

const DATE = '2026-11-23';
const AFTER_CUTOFF = new Date('2026-11-24T04:35:00Z'); // 23:35 in Lima
const WRONG = sshFingerprint(Buffer.from('a key the mainframe never had'));

let sftp: TestSftp;
let dataDir: string;
let store: PaymentStore;

beforeAll(() => {
  sftp = testSftp('hostkey');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-hostkey-'));
  store = openSqliteStore({ file: path.join(dataDir, 'hub.db'), synchronous: 'NORMAL' });
});

afterAll(async () => {
  await store?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function connectorPinnedTo(fingerprint: string): ReturnType<typeof createSsh2SftpConnector> {
  const env = sftp.env;
  const settings = parseSftpSettings(
    env.LOANHUB_MAINFRAME_SFTP_URL ?? '',
    env.LOANHUB_MAINFRAME_SFTP_KEY_FILE,
    fingerprint,
  );
  return createSsh2SftpConnector(settings, { readyTimeoutMs: 10_000 });
}

test('a wrong host fingerprint: refused, the file FAILED with both fingerprints, nothing uploaded', async () => {
  const real = process.env.LOANHUB_TEST_SFTP_HOST_FINGERPRINT ?? '';
  expect(WRONG).not.toBe(real);
  await expect(connectorPinnedTo(WRONG).connect()).rejects.toMatchObject({ code: 'SFTP_HOST_KEY' });

  const ids = await seedApplied(store, { core: 'cash', businessDate: DATE, count: 3, loanPrefix: '1' });
  const logs = logSink();
  const deps = batchDepsFor({
    store,
    connector: connectorPinnedTo(WRONG),
    dataDir,
    now: () => AFTER_CUTOFF,
    logs: logs.stream,
  });
  const [run] = await runBatch(deps, { businessDate: DATE, cores: ['cash'] });
  expect(run?.sent).toHaveLength(1);
  const outcome = run?.sent[0];
  if (outcome?.kind !== 'failed') throw new Error(`expected a failed send, got ${outcome?.kind}`);
  expect(outcome.file.name).toBe('LHUB.PAY.CSH.D261123.S01');
  expect(outcome.error).toMatch(/^SFTP_HOST_KEY: /);
  expect(outcome.error).toContain(`presented host key ${real}, expected ${WRONG}; nothing was sent`);

  const file = await store.batch.getFileByName('LHUB.PAY.CSH.D261123.S01');
  expect(file).toMatchObject({ state: 'FAILED', lastError: outcome.error, recordCount: 3, sentAt: null });
  // No retry was tried: a host key does not change between attempts.
  expect(logs.lines.filter((l) => l.msg === 'mainframe upload failed; retrying')).toEqual([]);
  expect(
    logs.lines.find((l) => l.msg === 'mainframe upload gave up; the file stays FAILED until the next run'),
  ).toMatchObject({
    file: 'LHUB.PAY.CSH.D261123.S01',
    err: outcome.error,
  });
  // Nothing reached the server: not even the inbound directory was made.
  const inbound = path.join(sftp.dir, 'inbound');
  expect(fs.existsSync(inbound) ? fs.readdirSync(inbound) : []).toEqual([]);

  // With the right pin, the next run sends the same file under the same name.
  fs.mkdirSync(inbound, { recursive: true });
  // The CLI's progress bar hears the upload as it goes: records of the file (header, 3 details,
  // trailer) counted from the bytes read by the real upload, from 0 to all 5.
  const ticks: [string, number, number | null, number][] = [];
  const fixed = {
    ...batchDepsFor({ store, connector: connectorPinnedTo(real), dataDir, now: () => AFTER_CUTOFF }),
    progress: (phase: string, done: number, total: number | null, recordLength: number) =>
      ticks.push([phase, done, total, recordLength]),
  };
  const [again] = await runBatch(fixed, { businessDate: DATE, cores: ['cash'] });
  expect(again?.sent.map((s) => [s.kind, s.file.name])).toEqual([['sent', 'LHUB.PAY.CSH.D261123.S01']]);
  const sendTicks = ticks.filter(([phase]) => phase === 'send LHUB.PAY.CSH.D261123.S01');
  expect([sendTicks[0], sendTicks.at(-1)]).toEqual([
    ['send LHUB.PAY.CSH.D261123.S01', 0, 5, 200],
    ['send LHUB.PAY.CSH.D261123.S01', 5, 5, 200],
  ]);
  expect(fs.readdirSync(inbound).sort()).toEqual(['LHUB.PAY.CSH.D261123.S01', 'LHUB.PAY.CSH.D261123.S01.OK']);
  expect(await store.batch.getFileByName('LHUB.PAY.CSH.D261123.S01')).toMatchObject({ state: 'SENT' });
  const sent: string[] = [];
  for await (const page of store.batch.filePayments(file?.id ?? 0, 100)) sent.push(...page.map((p) => p.paymentId));
  expect(sent).toEqual([...ids].sort());
}, 60_000);
