import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';

// End-to-end benchmark (not a test) of the production path through RabbitMQ: `loanhub serve` (API +
// outbox relay + results), three `loanhub work --core X` processes and the core simulators, each a
// separate process, on one machine. Channels' payments go in over HTTP; a payment counts once the hub
// has recorded it APPLIED. Prints applied payments/s and the latency from the 201 to APPLIED (the
// APPLIED event's time in the hub's database minus the moment the client read the 201).
//
//   npm run build && node dist/bench/rabbitmq-e2e-bench.js [--payments 6000] [--concurrency 32] [--rate 0]
//                                                            [--drain] [--profile DIR]
//
// --rate N paces the payments at N/s (0, the default: as fast as the API takes them). Uses the broker
// of LOANHUB_TEST_AMQP_URL + LOANHUB_TEST_SERVERS_DIR (a fresh vhost), or starts private servers with
// scripts/test-servers/start.sh and stops them at the end.

const run = promisify(execFile);
const root = [path.join(__dirname, '..', '..'), path.join(__dirname, '..')].find((p) =>
  fs.existsSync(path.join(p, 'bin', 'loanhub.js')),
);
if (root === undefined) throw new Error('bin/loanhub.js not found: run from the repository after npm run build');
const BIN = path.join(root, 'bin', 'loanhub.js');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a whole number`);
  return v;
}
const PAYMENTS = option('payments', 6_000);
const CONCURRENCY = option('concurrency', 32);
const RATE = option('rate', 0);
// --drain: the API's part left out; payments wait in the queues while the workers are stopped, then
// three workers drain them (applied/s from the first to the last APPLIED)
const DRAIN = process.argv.includes('--drain');
const WARMUP = 300;
// --profile DIR: every hub process writes a V8 CPU profile there when it stops (open in Chrome DevTools)
const profileAt = process.argv.indexOf('--profile');
const PROFILE_DIR = profileAt >= 0 ? process.argv[profileAt + 1] : undefined;

// The active loans of the three cores, with their currencies; 1.00 a payment fits 6,000+ payments.
const LOANS: ReadonlyArray<{ loan: string; currency: 'PEN' | 'USD' }> = [
  { loan: '100000000001', currency: 'PEN' },
  { loan: '100000000002', currency: 'USD' },
  { loan: '200000000001', currency: 'PEN' },
  { loan: '200000000002', currency: 'USD' },
  { loan: '300000000001', currency: 'PEN' },
  { loan: '300000000002', currency: 'USD' },
];

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
}

const procs: Proc[] = [];

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const profile = PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name.replace(' ', '-')}.cpuprofile`]
    : [];
  const child = spawn(process.execPath, [...profile, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (d: Buffer): void => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const p = { name, child, lines };
  procs.push(p);
  return p;
}

async function stopAll(which: readonly Proc[] = procs): Promise<void> {
  const stopping = which === procs ? procs.splice(0) : which.filter((p) => procs.includes(p));
  for (const p of stopping) procs.splice(procs.indexOf(p), 1);
  await Promise.all(
    stopping.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
          p.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          p.child.kill('SIGTERM');
        }),
    ),
  );
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function httpOk(proc: Proc, url: string): Promise<void> {
  await until(`${proc.name} at ${url}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${proc.lines.join('\n')}`);
    return (await fetch(url)).ok;
  });
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function broker(): Promise<{ baseUrl: string; serversDir: string; own: boolean }> {
  const baseUrl = process.env.LOANHUB_TEST_AMQP_URL;
  const serversDir = process.env.LOANHUB_TEST_SERVERS_DIR;
  if (baseUrl && serversDir) return { baseUrl, serversDir, own: false };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-servers.'));
  process.stderr.write(`bench: starting private test servers in ${dir}\n`);
  const { stdout } = await run(path.join(root ?? '.', 'scripts', 'test-servers', 'start.sh'), [dir], {
    timeout: 180_000,
  });
  const url = /^LOANHUB_TEST_AMQP_URL=(.*)$/m.exec(stdout)?.[1];
  if (!url) throw new Error(`start.sh printed no LOANHUB_TEST_AMQP_URL:\n${stdout}`);
  return { baseUrl: url, serversDir: dir, own: true };
}

/** The wide-open channel policies (the API process runs on the real clock and rate limits would cap the bench). */
function widePolicies(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const channel of ['app', 'web', 'agents', 'atm', 'stores']) {
    const p = JSON.parse(
      fs.readFileSync(path.join(root ?? '.', 'channels', 'policies', `${channel}.json`), 'utf8'),
    ) as {
      limits: Record<string, Record<string, string>>;
    } & Record<string, unknown>;
    p.operatingHours = { from: '00:00', to: '24:00' };
    p.paymentCutoff = '23:59';
    p.rateLimit = { perClientPerMinute: 6_000_000, perIpPerMinute: 12_000_000 };
    for (const c of Object.keys(p.limits)) p.limits[c] = { ...p.limits[c], maxPerLoanPerDay: '1000000.00' };
    fs.writeFileSync(path.join(dir, `${channel}.json`), JSON.stringify(p));
  }
  return dir;
}

function machine(): string {
  return `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const b = await broker();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-e2e-bench-'));
  try {
    const vhost = `bench-${process.pid}-${Date.now()}`;
    await run(path.join(b.serversDir, 'rabbitmq', 'add-vhost'), [vhost], { timeout: 60_000 });
    const [apiPort, cash, mortgage, vehicle, ...workerPorts] = await freePorts(7);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOANHUB_AMQP_URL: `${b.baseUrl}/${encodeURIComponent(vhost)}`,
      LOANHUB_DATA_DIR: path.join(work, 'hub'),
      LOANHUB_CORE_CASH_URL: `http://127.0.0.1:${cash}`,
      LOANHUB_CORE_MORTGAGE_URL: `http://127.0.0.1:${mortgage}`,
      LOANHUB_CORE_VEHICLE_URL: `http://127.0.0.1:${vehicle}`,
      LOANHUB_CHANNEL_POLICIES_DIR: widePolicies(path.join(work, 'policies')),
      LOANHUB_LOG_LEVEL: 'warn',
    };
    const sims = start(
      'simulators',
      [
        'simulate',
        'cores',
        '--data-dir',
        path.join(work, 'cores'),
        '--cash-port',
        String(cash),
        '--mortgage-port',
        String(mortgage),
        '--vehicle-port',
        String(vehicle),
      ],
      env,
    );
    for (const port of [cash, mortgage, vehicle]) await httpOk(sims, `http://127.0.0.1:${port}/_admin/fault`);
    const serve = start('serve', ['serve', '--port', String(apiPort)], env);
    const api = `http://127.0.0.1:${apiPort}`;
    await httpOk(serve, `${api}/readyz`);
    const cores = ['cash', 'mortgage', 'vehicle'] as const;
    const startWorkers = (): Promise<Proc[]> =>
      Promise.all(
        cores.map(async (core, i) => {
          const port = workerPorts[i] ?? 0;
          const w = start(`worker ${core}`, ['work', '--core', core, '--port', String(port)], {
            ...env,
            LOANHUB_DATA_DIR: path.join(work, `worker-${core}`),
          });
          await httpOk(w, `http://127.0.0.1:${port}/readyz`);
          return w;
        }),
      );
    const workers = await startWorkers();
    const tokens = {
      app: (await run(process.execPath, [BIN, 'token', '--channel', 'app'], { env })).stdout.trim(),
      web: (await run(process.execPath, [BIN, 'token', '--channel', 'web'], { env })).stdout.trim(),
    };
    const db = new Database(path.join(work, 'hub', 'hub.db'), { readonly: true, fileMustExist: true });

    let seq = 0;
    const send = async (): Promise<{ id: string; acceptedAt: number }> => {
      seq += 1;
      const n = seq;
      const channel = n % 2 === 0 ? 'app' : 'web';
      const { loan, currency } = LOANS[n % LOANS.length] ?? { loan: '100000000001', currency: 'PEN' };
      const res = await fetch(`${api}/v1/${channel}/payments`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens[channel]}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({
          loanNumber: loan,
          amount: '1.00',
          currency,
          channelReference: `${channel.toUpperCase()}-B${process.pid}N${n}`,
        }),
      });
      const text = await res.text();
      const acceptedAt = Date.now();
      if (res.status !== 201) throw new Error(`payment ${n} got ${res.status}: ${text}`);
      return { id: (JSON.parse(text) as { paymentId: string }).paymentId, acceptedAt };
    };
    const pending = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM payments WHERE status = 'ACCEPTED'");
    const settled = async (): Promise<void> =>
      until('every payment to be applied', () => Promise.resolve(pending.get()?.n === 0), 600_000);

    const burst = async (count: number): Promise<Array<{ id: string; acceptedAt: number }>> => {
      const out: Array<{ id: string; acceptedAt: number }> = [];
      let next = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (;;) {
            const i = next;
            next += 1;
            if (i >= count) return;
            if (RATE > 0) {
              const due = started + (i * 1000) / RATE;
              if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
            }
            out.push(await send());
          }
        }),
      );
      return out;
    };

    await burst(WARMUP);
    await settled();

    if (DRAIN) {
      // the pipeline behind the API alone: the stream waits in the queues, then three workers drain it
      await stopAll(workers);
      const accepted = await burst(PAYMENTS);
      const unsent = db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM outbox WHERE topic = 'core.command' AND status = 'pending'",
      );
      await until('the outbox to be published', () => Promise.resolve(unsent.get()?.n === 0), 120_000);
      await startWorkers();
      await settled();
      const span = db
        .prepare<[string], { first: string; last: string }>(
          `SELECT min(at) AS first, max(at) AS last FROM payment_events
           WHERE to_status = 'APPLIED' AND payment_id IN (SELECT value FROM json_each(?))`,
        )
        .get(JSON.stringify(accepted.map((a) => a.id)));
      const seconds = (Date.parse(span?.last ?? '') - Date.parse(span?.first ?? '')) / 1000;
      db.close();
      process.stdout.write(
        `${JSON.stringify({ machine: machine(), date: new Date().toISOString(), payments: PAYMENTS, drainedAppliedPerSecond: Math.round(PAYMENTS / seconds) }, null, 2)}\n`,
      );
      return;
    }

    const t0 = Date.now();
    const accepted = await burst(PAYMENTS);
    const tAccepted = Date.now();
    await settled();
    const applied = db.prepare<[string], { at: string }>(
      "SELECT at FROM payment_events WHERE payment_id = ? AND to_status = 'APPLIED'",
    );
    let lastApplied = 0;
    const latencies: number[] = [];
    for (const a of accepted) {
      const row = applied.get(a.id);
      if (!row) throw new Error(`payment ${a.id} has no APPLIED event`);
      const at = Date.parse(row.at);
      lastApplied = Math.max(lastApplied, at);
      latencies.push(Math.max(0, at - a.acceptedAt));
    }
    latencies.sort((x, y) => x - y);
    const seconds = (lastApplied - t0) / 1000;
    const figures = {
      machine: machine(),
      date: new Date().toISOString(),
      payments: PAYMENTS,
      concurrency: CONCURRENCY,
      pacedRatePerSecond: RATE || null,
      acceptedPerSecond: Math.round(PAYMENTS / ((tAccepted - t0) / 1000)),
      appliedPerSecond: Math.round(PAYMENTS / seconds),
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1] ?? NaN,
      },
    };
    db.close();
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
    if (b.own)
      await run(path.join(root ?? '.', 'scripts', 'test-servers', 'stop.sh'), [b.serversDir]).catch(() => undefined);
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  for (const p of procs) process.stderr.write(`--- ${p.name} ---\n${p.lines.join('\n')}\n`);
  await stopAll();
  process.exitCode = 1;
});
