import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// Issue 13: two embedded hubs on one machine (`loanhub start` twice, each its own PORT and data dir, the
// simulator ports left at their defaults) used to die on 8181-8183 with a bare EADDRINUSE. The second
// hub's simulators now take free ports and say so, both hubs take a payment, and each payment lands in
// its own hub's simulated core. A port someone set in its variable still fails, naming that variable.

const ROOT = path.join(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/loanhub.js');
const exec = promisify(execFile);

interface Hub {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly url: string;
  output(): string;
}

const hubs: Hub[] = [];
const dirs: string[] = [];

function env(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Nothing of the caller's LoanHub settings: the simulator ports stay at their defaults, as on a laptop.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOANHUB_')));
  return {
    ...clean,
    PORT: '0',
    LOANHUB_DATA_DIR: dataDir,
    LOANHUB_LOG_LEVEL: 'warn',
    LOANHUB_BATCH_SCHEDULE: 'off',
    ...extra,
  };
}

function newDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-two-hubs-'));
  dirs.push(dir);
  return dir;
}

/** `loanhub start`; resolves with its URL once it listens, rejects with its output if it exits first. */
function startHub(dataDir: string, extra: NodeJS.ProcessEnv = {}): Promise<Hub> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: env(dataDir, extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    // Generous: the machine may be busy with other suites; this is not a speed test.
    const timer = setTimeout(() => reject(new Error(`loanhub start did not start: ${out}`)), 120_000);
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      const m = /loanhub: listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        const hub = { child, dataDir, url: m[1], output: () => out };
        hubs.push(hub);
        resolve(hub);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`loanhub start exited with ${code}: ${out}`), { exitCode: code, output: out }));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function loanhub(dataDir: string, args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [BIN, ...args], { env: env(dataDir) });
  return stdout;
}

async function payAndWait(hub: Hub, amount: string, key: string): Promise<string> {
  const token = (await loanhub(hub.dataDir, ['token', '--channel', 'app'])).trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${hub.url}/v1/app/payments`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': key },
    body: JSON.stringify({ loanNumber: '100000000001', amount, currency: 'PEN', channelReference: `APP-${key}` }),
  });
  expect({ status: created.status, body: created.status === 201 ? '' : await created.clone().text() }).toEqual({
    status: 201,
    body: '',
  });
  const { paymentId } = (await created.json()) as { paymentId: string };
  let status = '';
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${hub.url}/v1/app/payments/${paymentId}`, { headers });
    status = ((await res.json()) as { status: string }).status;
    if (status !== 'ACCEPTED') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return status;
}

async function cashDue(dataDir: string): Promise<string | undefined> {
  const loans = JSON.parse(await loanhub(dataDir, ['loans', 'sample', '--json'])) as {
    loanNumber: string;
    amountDue: string;
  }[];
  return loans.find((l) => l.loanNumber === '100000000001')?.amountDue;
}

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (npm test does)');
  }
});

afterAll(async () => {
  await Promise.all(hubs.map((h) => stop(h.child)));
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

jest.setTimeout(300_000);

/** The log arrives on stdout after the stderr line that said the hub listens: wait for it. */
async function logged(hub: Hub, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 400 && !pattern.test(hub.output()); i++) await new Promise((r) => setTimeout(r, 25));
  return hub.output();
}

test('two embedded hubs on one machine both start on the default simulator ports and both take a payment', async () => {
  const first = await startHub(newDataDir());
  const second = await startHub(newDataDir());

  // The first hub holds 8181-8183 (or, if something else on this machine does, it gave way too): the
  // second cannot have them and says, per core, where its simulator listens and which variable chooses.
  for (const [core, port] of [
    ['cash', 8181],
    ['mortgage', 8182],
    ['vehicle', 8183],
  ] as const) {
    const line = new RegExp(
      `${core} core simulator: port ${port} is in use, listening on http://127\\.0\\.0\\.1:\\d+ instead ` +
        `\\(LOANHUB_CORE_${core.toUpperCase()}_PORT chooses\\)`,
    );
    expect(await logged(second, line)).toMatch(line);
  }

  expect(await payAndWait(first, '10.00', 'twohubs1')).toBe('APPLIED');
  expect(await payAndWait(second, '20.00', 'twohubs2')).toBe('APPLIED');
  // Each payment reached its own hub's simulated core: 25000.00 less 10.00 in one, less 20.00 in the other.
  expect(await cashDue(first.dataDir)).toBe('24990.00');
  expect(await cashDue(second.dataDir)).toBe('24980.00');
});

test('a simulator port set in its variable and in use stops the hub with a message naming the variable', async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const failure = await startHub(newDataDir(), { LOANHUB_CORE_MORTGAGE_PORT: String(port) }).then(
      () => undefined,
      (err: unknown) => err as { exitCode?: number; output?: string },
    );
    expect(failure).toMatchObject({ exitCode: 1 });
    expect(failure?.output).toContain(
      `the mortgage core simulator cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`,
    );
    expect(failure?.output).toContain('set LOANHUB_CORE_MORTGAGE_PORT to a free port (0 takes any free one)');
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});
