import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sentArchive } from '../../batch/batch-deps';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { runBatch } from '../../batch/run-batch';
import { createSsh2SftpConnector } from '../../batch/ssh2-sftp-agent';
import type { PaymentStore } from '../../store/store-port';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { batchDepsFor, logSink, seedApplied } from './batch-store-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// A send that keeps failing its checks against the real OpenSSH server: a stranger's file already sits
// under the final name. Every attempt refuses to overwrite it, the retries are bounded, the file is
// left FAILED with the reason and nothing of ours appears on the server; once the operator has cleared
// the name, the next run sends the same file and it verifies.

const DATE = '2026-11-23';
const NAME = 'LHUB.PAY.MTG.D261123.S01';
const STRANGER = Buffer.from('somebody else wrote this\n');

let sftp: TestSftp;
let dataDir: string;
let store: PaymentStore;

beforeAll(() => {
  sftp = testSftp('sendfail');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-sendfail-'));
  store = openSqliteStore({ file: path.join(dataDir, 'hub.db'), synchronous: 'NORMAL' });
});

afterAll(async () => {
  await store?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a send that keeps failing ends FAILED after bounded retries, overwrites nothing, and the next run sends it', async () => {
  const settings = batchSettingsFromEnv(sftp.env).sftp;
  if (!settings) throw new Error('no SFTP settings');
  const inbound = path.join(sftp.dir, 'inbound');
  fs.mkdirSync(inbound, { recursive: true });
  fs.writeFileSync(path.join(inbound, NAME), STRANGER);
  await seedApplied(store, { core: 'mortgage', businessDate: DATE, count: 4, loanPrefix: '2' });
  const logs = logSink();
  const deps = batchDepsFor({
    store,
    connector: createSsh2SftpConnector(settings),
    dataDir,
    now: () => new Date('2026-11-24T04:35:00Z'),
    logs: logs.stream,
  });

  const [run] = await runBatch(deps, { businessDate: DATE, cores: ['mortgage'] });
  const outcome = run?.sent[0];
  if (outcome?.kind !== 'failed') throw new Error(`expected a failed send, got ${outcome?.kind}`);
  expect(outcome.error).toMatch(
    new RegExp(
      `^SFTP_TRANSFER: .*/inbound/${NAME.replace(/\./g, '\\.')} already exists on the server with other content; not overwritten`,
    ),
  );
  expect(await store.batch.getFileByName(NAME)).toMatchObject({ state: 'FAILED', lastError: outcome.error });
  // deps.retry allows 4 attempts: three retries logged, then the give-up line with the reason.
  expect(logs.lines.filter((l) => l.msg === 'mainframe upload failed; retrying').map((l) => l.attempt)).toEqual([
    1, 2, 3,
  ]);
  expect(
    logs.lines.filter((l) => l.msg === 'mainframe upload gave up; the file stays FAILED until the next run'),
  ).toHaveLength(1);
  // The stranger's file is as it was; no trigger, no temporary file of ours.
  expect(fs.readdirSync(inbound)).toEqual([NAME]);
  expect(fs.readFileSync(path.join(inbound, NAME)).equals(STRANGER)).toBe(true);

  // The operator clears the name; the next run sends the same file (same name, same bytes as recorded).
  fs.rmSync(path.join(inbound, NAME));
  const [again] = await runBatch(deps, { businessDate: DATE, cores: ['mortgage'] });
  expect(again?.sent.map((s) => [s.kind, s.file.name])).toEqual([['sent', NAME]]);
  const file = await store.batch.getFileByName(NAME);
  expect(file).toMatchObject({ state: 'SENT', recordCount: 4 });
  expect(fs.readdirSync(inbound).sort()).toEqual([NAME, `${NAME}.OK`]);
  const remote = createHash('sha256')
    .update(fs.readFileSync(path.join(inbound, NAME)))
    .digest('hex');
  expect(remote).toBe(file?.sha256);
  expect(fs.readFileSync(sentArchive(dataDir, NAME)).equals(fs.readFileSync(path.join(inbound, NAME)))).toBe(true);
}, 60_000);
