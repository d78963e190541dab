import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setSimulatorFault } from '../../bank/cores/core-faults';
import { parseMinorUnits } from '../../domain/money';
import { api, eventually, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';
import { testStoreEnv } from '../store/contract/test-databases';

// The embedded hub (no broker): a command that keeps failing goes to the dead letters, which stay in
// view across a restart, and `loanhub dlq list|show|replay`, run as its own process the way an operator
// runs it, works on them as it does on RabbitMQ; the replayed payment is applied once.

const BIN = path.join(__dirname, '../../bin/loanhub.js');
const run = promisify(execFile);
const LOAN = '100000000001'; // cash, PEN
jest.setTimeout(60_000);

let dataDir: string;
let hub: TestHub | undefined;
beforeAll(() => {
  if (!fs.existsSync(path.join(__dirname, '../../dist/cli/main.js'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (npm test does)');
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-embedded-dlq-'));
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// a short schedule so the command uses up its attempts in well under a second
const ENV = { LOANHUB_DATA_DIR: '', LOANHUB_AMQP_RETRY_DELAYS_MS: '50', LOANHUB_AMQP_DELIVERY_LIMIT: '3' };
const startHub = (): Promise<TestHub> => startTestHub({ ...ENV, LOANHUB_DATA_DIR: dataDir });

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { LOANHUB_AMQP_URL: _broker, ...env } = process.env;
  return run(process.execPath, [BIN, ...args], {
    env: { ...env, ...testStoreEnv(dataDir).env, LOANHUB_DATA_DIR: dataDir },
    timeout: 30_000,
  });
}

interface Letter {
  id: string;
  lane: string;
  reason: string;
  attempts: number;
  history: { outcome: string }[];
}
const letters = async (): Promise<Letter[]> =>
  JSON.parse((await cli('dlq', 'list', '--core', 'cash', '--json')).stdout) as Letter[];

async function payment(t: TestHub, id: string): Promise<Record<string, unknown>> {
  return (await api(`${t.url}/v1/app/payments/${id}`, { token: await t.token('app') })).json;
}

async function amountDue(t: TestHub): Promise<bigint> {
  const r = await api(`${t.url}/v1/app/loans/${LOAN}`, { token: await t.token('app') });
  const due = parseMinorUnits(r.json.amountDue);
  if (due === undefined) throw new Error(`amountDue ${String(r.json.amountDue)} unreadable`);
  return due;
}

test('a dead command of the embedded hub survives a restart and is replayed with loanhub dlq, applied once', async () => {
  hub = await startHub();
  const before = await amountDue(hub);
  const cash = hub.hub.simulators.find((s) => s.core === 'cash');
  if (!cash) throw new Error('no cash simulator');
  await setSimulatorFault(cash.url, { mode: 'error', status: 503 });
  const created = await api(`${hub.url}/v1/app/payments`, {
    token: await hub.token('app'),
    body: { loanNumber: LOAN, amount: '12.34', currency: 'PEN', channelReference: sampleReference('app') },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(created.status).toBe(201);
  const paymentId = String(created.json.paymentId);
  const id = `${paymentId}:apply_payment`;

  const dead = await eventually(async () => (await letters()).find((l) => l.id === id), 20_000, 'the dead letter');
  expect(dead).toMatchObject({ lane: 'cash', attempts: 3 });
  expect(dead.reason).toMatch(/^gave up after 3 attempts: cash core: payment answered HTTP 503/);
  expect(dead.history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'dead']);
  expect((await payment(hub, paymentId)).status).toBe('ACCEPTED');

  // the hub stops: the letter is still there, for list and show, with no hub running
  await hub.stop();
  hub = undefined;
  expect((await letters()).map((l) => l.id)).toEqual([id]);
  expect((await cli('dlq', 'list', '--core', 'cash')).stdout).toMatch(
    new RegExp(`^id\\s+core\\s+attempts\\s+dead at\\s+reason\\n${id}\\s+cash\\s+3\\s+`),
  );
  expect(JSON.parse((await cli('dlq', 'show', id)).stdout)).toMatchObject({ id, lane: 'cash', attempts: 3 });

  // started again (the simulators come back healthy): the payment waits, in view, until someone replays it
  hub = await startHub();
  await new Promise((r) => setTimeout(r, 500));
  expect((await payment(hub, paymentId)).status).toBe('ACCEPTED');
  expect((await letters()).map((l) => l.id)).toEqual([id]);
  const replay = await cli('dlq', 'replay', '--core', 'cash', '--id', id);
  expect(replay.stdout).toBe('replayed 1 dead letter of cash\n');
  expect(replay.stderr).toContain('the running hub takes them within a second');
  const t = hub;
  await eventually(
    async () => ((await payment(t, paymentId)).status === 'APPLIED' ? true : undefined),
    20_000,
    'the replayed payment is applied',
  );
  await eventually(async () => ((await letters()).length === 0 ? true : undefined), 10_000, 'the letter is gone');
  expect((await cli('dlq', 'replay', '--core', 'cash', '--id', id)).stdout).toBe('replayed 0 dead letters of cash\n');
  expect(before - (await amountDue(hub))).toBe(1234n);
});

test('loanhub dlq refuses a data dir that holds no hub, and says which variable to set', async () => {
  const { LOANHUB_AMQP_URL: _broker, ...env } = process.env;
  const empty = path.join(dataDir, 'not-a-hub');
  await expect(
    run(process.execPath, [BIN, 'dlq', 'list', '--core', 'cash'], { env: { ...env, LOANHUB_DATA_DIR: empty } }),
  ).rejects.toMatchObject({ stderr: expect.stringMatching(/no hub database at .*LOANHUB_DATA_DIR/) });
  expect(fs.existsSync(empty)).toBe(false);
});
