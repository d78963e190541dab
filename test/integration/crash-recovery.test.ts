import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testStoreEnv } from '../store/contract/test-databases';
import { openHubDb } from './hub-db';
import { api, eventually, freePorts } from './hub-fixture';

// The hub as an operator runs it (`loanhub start`, the compiled CLI), killed with SIGKILL right after a
// 201 and started again: the payment is applied exactly once. With LOANHUB_TEST_STORE=postgres the
// processes get LOANHUB_DB_URL/LOANHUB_DB_SCHEMA: the hub's store is a schema of its own in the test PostgreSQL.

const BIN = path.join(__dirname, '../../bin/loanhub.js');
// On SQLite the restarted hub is the only relay and drops the killed one's outbox leases at start; on
// PostgreSQL other instances may share the outbox, so it waits for the lease to run out first: 5 s here
// (LOANHUB_OUTBOX_LEASE_SECONDS; 60 s by default).
const ON_POSTGRES = process.env.LOANHUB_TEST_STORE === 'postgres';
const OUTBOX_LEASE_SECONDS = 5;
const APPLIED_WITHIN_MS = 20_000 + (ON_POSTGRES ? OUTBOX_LEASE_SECONDS * 1000 : 0);

interface Hub {
  child: ChildProcess;
  url: string;
  output: string[];
}

async function startHubProcess(dataDir: string, ports: number[]): Promise<Hub> {
  const [port, cash, mortgage, vehicle, mainframe] = ports;
  const output: string[] = [];
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env,
      ...testStoreEnv(dataDir).env,
      PORT: String(port),
      LOANHUB_DATA_DIR: dataDir,
      LOANHUB_CORE_CASH_PORT: String(cash),
      LOANHUB_CORE_MORTGAGE_PORT: String(mortgage),
      LOANHUB_CORE_VEHICLE_PORT: String(vehicle),
      // Every listener of the hub on a port chosen here: left to port 0, the simulated mainframe's SFTP
      // server (started first) was once given a port just chosen for a core simulator (EADDRINUSE).
      LOANHUB_MAINFRAME_SIM_PORT: String(mainframe),
      LOANHUB_OUTBOX_LEASE_SECONDS: String(OUTBOX_LEASE_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${String(port)}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`hub exited ${child.exitCode}: ${output.join('')}`);
      return fetch(`${url}/healthz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      );
    },
    20_000,
    'the hub to serve /healthz',
  );
  return { child, url, output };
}

async function kill9(hub: Hub): Promise<void> {
  if (hub.child.exitCode !== null) return;
  const exited = new Promise((r) => hub.child.once('exit', r));
  hub.child.kill('SIGKILL');
  await exited;
}

async function cli(dataDir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...testStoreEnv(dataDir).env, LOANHUB_DATA_DIR: dataDir },
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`loanhub ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

describe('SIGKILL right after a 201', () => {
  let dataDir: string;
  let hub: Hub | undefined;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-crash-'));
  });
  afterEach(async () => {
    if (hub) await kill9(hub);
    await testStoreEnv(dataDir).drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const when of ['while the core is down', 'with the core up'] as const) {
    it(
      `applies the payment exactly once after a restart (${when})`,
      async () => {
        const ports = await freePorts(5);
        hub = await startHubProcess(dataDir, ports);
        const token = (await cli(dataDir, ['token', '--channel', 'app'])).trim();
        const loan = '100000000001';
        const before = await api(`${hub.url}/v1/app/loans/${loan}`, { token });
        expect(before.status).toBe(200);
        if (when === 'while the core is down') {
          // The cash core refuses connections: the payment cannot be applied before the kill.
          await cli(dataDir, [
            'simulate',
            'fault',
            '--core',
            'cash',
            '--mode',
            'down',
            '--url',
            `http://127.0.0.1:${String(ports[1])}`,
          ]);
        }
        const created = await api(`${hub.url}/v1/app/payments`, {
          token,
          body: { loanNumber: loan, amount: '12.34', currency: 'PEN', channelReference: 'APP-CRASH0001' },
          headers: { 'idempotency-key': randomUUID() },
        });
        expect(created.status).toBe(201);
        await kill9(hub);

        hub = await startHubProcess(dataDir, ports);
        const paymentId = String(created.json.paymentId);
        const final = await eventually(
          async () => {
            const r = await api(`${hub?.url}/v1/app/payments/${paymentId}`, { token });
            return r.json.status === 'APPLIED' ? r.json : undefined;
          },
          APPLIED_WITHIN_MS,
          'the payment to be APPLIED after the restart',
        );
        expect(final.status).toBe('APPLIED');
        const after = await api(`${hub.url}/v1/app/loans/${loan}`, { token });
        const minor = (s: unknown) => BigInt(String(s).replace('.', ''));
        expect(minor(before.json.amountDue) - minor(after.json.amountDue)).toBe(1234n);
        // and in the hub's own store: the one payment, applied by one APPLIED event
        const db = openHubDb({ ...testStoreEnv(dataDir).env, LOANHUB_DATA_DIR: dataDir });
        try {
          expect(await db.all('SELECT id, status FROM payments')).toEqual([{ id: paymentId, status: 'APPLIED' }]);
          expect(
            await db.get("SELECT count(*) AS n FROM payment_events WHERE payment_id = ? AND to_status = 'APPLIED'", [
              paymentId,
            ]),
          ).toEqual({ n: 1n });
        } finally {
          await db.close();
        }
      },
      APPLIED_WITHIN_MS + 40_000,
    );
  }
});
