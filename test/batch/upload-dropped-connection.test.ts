import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openMainframeLedger } from '../../bank/mainframe/mainframe-ledger';
import { startMainframeSimulator } from '../../bank/mainframe/mainframe-simulator';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import { uploadVerified, withAgent, withRetries } from '../../batch/mainframe-transfer';
import type { RequestDetail } from '../../batch/request-detail-record';
import { writeRequestFile } from '../../batch/request-file-writer';
import { createSsh2SftpConnector } from '../../batch/ssh2-sftp-agent';
import { testSftp, type TestSftp } from './sftp-test-env';

// The connection to the real OpenSSH server is dropped (the test servers' drop script) while a big
// request file is on its way up: the mainframe never sees a file under its final name until it is
// whole and verified, the retry on a new connection sends it, the final file has the local bytes, and
// the mainframe simulator posts each payment once, also when the next run offers the file again.

const PAYMENTS = 40_000; // 8 MB: long enough on loopback to be cut half-way
const NAME = 'LHUB.PAY.VEH.D261124.S01';
const page = mainframeCodePage('cp037');
const run = promisify(execFile);

let sftp: TestSftp;
let work: string;
let local: string;
let size: number;
let sha256: string;

beforeAll(async () => {
  sftp = testSftp('drop');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-drop-'));
  local = path.join(work, NAME);
  async function* details(): AsyncGenerator<RequestDetail[]> {
    for (let start = 0; start < PAYMENTS; start += 5_000) {
      yield Array.from({ length: 5_000 }, (_, k) => {
        const i = start + k;
        return {
          paymentId: `0190b000-0000-7000-8000-${String(i).padStart(12, '0')}`,
          receiptNumber: `W-20261124-${String(i).padStart(9, '0')}`,
          channel: 'web',
          channelReference: `web-${i}`,
          loanNumber: String(300_000_000_000 + (i % 997)),
          currency: i % 10 === 0 ? 'USD' : 'PEN',
          amount: BigInt(1_00 + (i % 50_000)),
          appliedAt: '20261124120000',
          coreReference: `VEH-${i}`,
        };
      });
    }
  }
  const written = await writeRequestFile({
    target: local,
    header: { fileName: NAME, core: 'vehicle', businessDate: '2026-11-24', sequence: 1, createdAt: '20261124233000' },
    details: details(),
    page,
  });
  size = written.size;
  sha256 = written.sha256;
  expect(size).toBe((PAYMENTS + 2) * 200);
}, 60_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('a connection dropped mid-upload: no partial file under the final name, the retry sends it, posted once', async () => {
  const settings = batchSettingsFromEnv(sftp.env);
  if (!settings.sftp) throw new Error('no SFTP settings');
  const connector = createSsh2SftpConnector(settings.sftp);
  const inbound = path.join(sftp.dir, 'inbound');
  fs.mkdirSync(inbound, { recursive: true });
  const final = path.join(inbound, NAME);
  const temp = path.join(inbound, `.${NAME}.part`);

  // Watch the served directory the whole time, as the mainframe would: the final name and its trigger
  // may only ever hold the whole file. Cut the connection once a file on its way up has grown.
  const seenFinal: number[] = [];
  const seenTrigger: boolean[] = [];
  const seenNames = new Set<string>();
  let dropped: Promise<unknown> | null = null;
  let partAtDrop = 0;
  const sizeOf = (p: string): number | null => {
    try {
      return fs.statSync(p).size;
    } catch {
      return null;
    }
  };
  const watch = setInterval(() => {
    for (const name of fs.readdirSync(inbound)) seenNames.add(name);
    const f = sizeOf(final);
    if (f !== null) seenFinal.push(f);
    if (sizeOf(`${final}.OK`) !== null) seenTrigger.push(f === size);
    const growing = Math.max(sizeOf(temp) ?? 0, f ?? 0);
    if (!dropped && growing > size / 10 && growing < size / 2) {
      partAtDrop = growing;
      dropped = run(sftp.dropScript);
    }
  }, 2);

  const retries: string[] = [];
  let attempts = 0;
  let outcome: string;
  try {
    outcome = await withRetries(
      { attempts: 4, baseDelayMs: 50, maxDelayMs: 200 },
      (attempt) => {
        attempts = attempt;
        return withAgent(connector, (agent) =>
          uploadVerified(agent, connector.basePath, { name: NAME, localPath: local, sha256, size }),
        );
      },
      (_attempt, err) => retries.push(err instanceof Error ? err.message : String(err)),
    );
  } finally {
    clearInterval(watch);
  }
  await dropped;

  expect(partAtDrop).toBeGreaterThan(0);
  expect(partAtDrop).toBeLessThan(size);
  expect(retries.length).toBeGreaterThanOrEqual(1);
  expect(attempts).toBe(retries.length + 1);
  expect(outcome).toBe('uploaded');
  // Whenever the final name or its trigger was there, the file was whole.
  expect(seenFinal.every((s) => s === size)).toBe(true);
  expect(seenTrigger.every(Boolean)).toBe(true);
  expect([...seenNames].sort()).toEqual([`.${NAME}.part`, NAME, `${NAME}.OK`].sort());
  // On the server: the verified bytes under the final name, the trigger, no temporary file.
  expect(fs.readdirSync(inbound).sort()).toEqual([NAME, `${NAME}.OK`]);
  expect(createHash('sha256').update(fs.readFileSync(final)).digest('hex')).toBe(sha256);

  // The mainframe posts every payment once; a second offer of the same file (the next run) changes nothing.
  const ledgerFile = path.join(work, 'ledger.jsonl');
  const simulator = startMainframeSimulator({ dir: sftp.dir, ledgerFile, page, pollMs: 60_000 });
  try {
    expect(await simulator.processOnce()).toEqual(['LHUB.RSP.VEH.D261124.S01']);
    expect(simulator.ledger.files.get(NAME)).toMatchObject({ status: 'A', posted: PAYMENTS, rejected: 0 });
    expect(
      await withAgent(connector, (agent) =>
        uploadVerified(agent, connector.basePath, { name: NAME, localPath: local, sha256, size }),
      ),
    ).toBe('already_there');
    expect(await simulator.processOnce()).toEqual([]);
  } finally {
    await simulator.close();
  }
  const reopened = openMainframeLedger(ledgerFile);
  expect(reopened.postings.size).toBe(PAYMENTS);
  const postingLines = fs
    .readFileSync(ledgerFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"posting"'));
  expect(postingLines).toHaveLength(PAYMENTS);
}, 120_000);
