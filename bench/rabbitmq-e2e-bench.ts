import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';

// End-to-end benchmark (not a test) of the production path through RabbitMQ: `loanhub serve` (API +
// outbox relay + results), three `loanhub work --core X` processes and the core simulators, each a
// separate process, on one machine. Channels' payments go in over HTTP; a payment counts once the hub
// has recorded it APPLIED. Prints applied payments/s and the latency from the 201 to APPLIED (the
// APPLIED event's time in the hub's database minus the moment the client read the 201), then where the
// time of a payment goes, stage by stage, and the CPU each process used (markdown tables, see stages()).
//
//   npm run build && node dist/bench/rabbitmq-e2e-bench.js [--payments 6000] [--concurrency 32] [--rate 0]
//                                                            [--drain] [--profile DIR] [--webhooks]
//
// --webhooks: the app and web channels get a callback URL (a receiver in this process answering 204),
// so serve also sends the confirmation webhooks and the breakdown has its webhook stage. Off by default,
// so applied/s stays comparable with the earlier runs (which had no callback URLs).
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
const WEBHOOKS = process.argv.includes('--webhooks');
const WEBHOOK_SECRET = 'whsec_' + Buffer.alloc(32, 42).toString('base64');

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
const cleanups: Array<() => Promise<void>> = [];

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

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null when it is gone. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)
const CLOCK_TICKS = 100;

/** The core-call histogram of a worker's /metrics (operation apply, every outcome), cumulative. */
async function coreCalls(url: string): Promise<{ count: number; sum: number; buckets: Map<number, number> }> {
  const text = await (await fetch(url)).text();
  const out = { count: 0, sum: 0, buckets: new Map<number, number>() };
  for (const line of text.split('\n')) {
    if (!line.startsWith('loanhub_core_request_duration_seconds') || !line.includes('operation="apply"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('loanhub_core_request_duration_seconds_count')) out.count += value;
    else if (line.startsWith('loanhub_core_request_duration_seconds_sum')) out.sum += value;
    else {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      out.buckets.set(bound, (out.buckets.get(bound) ?? 0) + value);
    }
  }
  return out;
}

/** The bucket bound below which p % of the calls between two scrapes fell (the histogram's resolution). */
function bucketPercentile(before: Map<number, number>, after: Map<number, number>, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const b of bounds) {
    if ((after.get(b) ?? 0) - (before.get(b) ?? 0) >= (p / 100) * total) return b * 1000;
  }
  return NaN;
}

interface Stage {
  readonly stage: string;
  readonly covers: string;
  readonly ms: number[];
}

function stageTable(stages: readonly Stage[], total: readonly number[]): string {
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const totalMean = mean(total);
  const rows = stages.map((st) => {
    const sorted = [...st.ms].sort((a, b) => a - b);
    const m = mean(sorted);
    return `| ${st.stage} | ${st.covers} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${m.toFixed(1)} | ${((100 * m) / totalMean).toFixed(0)} % |`;
  });
  const sortedTotal = [...total].sort((a, b) => a - b);
  return [
    '| stage | covers | p50 ms | p99 ms | mean ms | share of mean total |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
    `| **total** | POST sent -> ${WEBHOOKS ? 'webhook delivered' : 'APPLIED written'} | ${percentile(sortedTotal, 50).toFixed(1)} | ${percentile(sortedTotal, 99).toFixed(1)} | ${totalMean.toFixed(1)} | 100 % |`,
  ].join('\n');
}

/** A webhook receiver answering 204 to every POST, in this process (its CPU is the bench's). */
async function webhookReceiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const b = await broker();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-e2e-bench-'));
  try {
    const vhost = `bench-${process.pid}-${Date.now()}`;
    await run(path.join(b.serversDir, 'rabbitmq', 'add-vhost'), [vhost], { timeout: 60_000 });
    const [apiPort, cash, mortgage, vehicle, ...workerPorts] = await freePorts(7);
    const receiver = WEBHOOKS ? await webhookReceiver() : null;
    if (receiver) cleanups.push(receiver.close);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOANHUB_AMQP_URL: `${b.baseUrl}/${encodeURIComponent(vhost)}`,
      LOANHUB_DATA_DIR: path.join(work, 'hub'),
      LOANHUB_CORE_CASH_URL: `http://127.0.0.1:${cash}`,
      LOANHUB_CORE_MORTGAGE_URL: `http://127.0.0.1:${mortgage}`,
      LOANHUB_CORE_VEHICLE_URL: `http://127.0.0.1:${vehicle}`,
      LOANHUB_CHANNEL_POLICIES_DIR: widePolicies(path.join(work, 'policies')),
      LOANHUB_LOG_LEVEL: 'warn',
      ...(receiver
        ? {
            LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url,
            LOANHUB_CHANNEL_WEB_CALLBACK_URL: receiver.url,
            LOANHUB_WEBHOOK_SECRETS_APP: WEBHOOK_SECRET,
            LOANHUB_WEBHOOK_SECRETS_WEB: WEBHOOK_SECRET,
          }
        : {}),
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
    const send = async (): Promise<{ id: string; sentAt: number; acceptedAt: number }> => {
      seq += 1;
      const sentAt = Date.now();
      const n = seq;
      const channel = n % 2 === 0 ? 'app' : 'web';
      const { loan, currency } = LOANS[n % LOANS.length] ?? { loan: '100000000001', currency: 'PEN' };
      const key = randomUUID();
      const post = (): Promise<Response> =>
        fetch(`${api}/v1/${channel}/payments`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokens[channel]}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({
            loanNumber: loan,
            amount: '1.00',
            currency,
            channelReference: `${channel.toUpperCase()}-B${process.pid}N${n}`,
          }),
        });
      const causeOf = (err: unknown): string =>
        // undici says only "fetch failed"; the reason (ECONNRESET, a timeout ...) is its cause
        err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      let res: Response | undefined;
      for (let attempt = 1; res === undefined; attempt += 1) {
        try {
          res = await post();
        } catch (err) {
          // A kept-alive socket the server closed as it was reused resets (seen under load 15-20): the
          // same Idempotency-Key makes the retry safe (a replay answers the first 201).
          if (attempt >= 3 || !causeOf(err).includes('ECONNRESET'))
            throw new Error(`payment ${n}: POST failed: ${causeOf(err)}`, { cause: err });
        }
      }
      const text = await res.text();
      const acceptedAt = Date.now();
      if (res.status !== 201) throw new Error(`payment ${n} got ${res.status}: ${text}`);
      return { id: (JSON.parse(text) as { paymentId: string }).paymentId, sentAt, acceptedAt };
    };
    const pending = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM payments WHERE status = 'ACCEPTED'");
    const settled = async (): Promise<void> =>
      until('every payment to be applied', () => Promise.resolve(pending.get()?.n === 0), 600_000);

    type Sent = { id: string; sentAt: number; acceptedAt: number };
    const burst = async (count: number): Promise<Sent[]> => {
      const out: Sent[] = [];
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

    // CPU of every process from here to the last APPLIED (webhook) of the measured payments
    const rabbitPidFile = path.join(b.serversDir, 'rabbitmq', 'rabbitmq.pid');
    const beamPid = fs.existsSync(rabbitPidFile) ? Number(fs.readFileSync(rabbitPidFile, 'utf8').trim()) : undefined;
    const measured: Array<{ name: string; pid: number | undefined }> = [
      ...procs.map((p) => ({ name: p.name, pid: p.child.pid })),
      { name: 'RabbitMQ (beam.smp)', pid: beamPid },
    ];
    const cpuBefore = measured.map((m) => cpuSeconds(m.pid));
    const benchCpuBefore = process.cpuUsage();
    const workerMetrics = cores.map((_, i) => `http://127.0.0.1:${workerPorts[i] ?? 0}/metrics`);
    const callsBefore = await Promise.all(workerMetrics.map(coreCalls));
    const t0 = Date.now();
    const accepted = await burst(PAYMENTS);
    const tAccepted = Date.now();
    await settled();
    const delivered = db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'failed')",
    );
    if (WEBHOOKS)
      await until('every webhook to be delivered', () => Promise.resolve(delivered.get()?.n === 0), 600_000);
    const tDone = Date.now();
    const cpuAfter = measured.map((m) => cpuSeconds(m.pid));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const callsAfter = await Promise.all(workerMetrics.map(coreCalls));
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
    const breakdown = stages(db, accepted, work, callsBefore, callsAfter);
    db.close();
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`\nWhere the time of a payment goes (${PAYMENTS} payments, ${machine()}):\n\n${breakdown}\n`);
    const wall = (tDone - t0) / 1000;
    const cpuRows = measured.map((m, i) => {
      const a = cpuAfter[i];
      const b0 = cpuBefore[i];
      return { name: m.name, cpu: a !== null && a !== undefined && b0 !== null && b0 !== undefined ? a - b0 : NaN };
    });
    cpuRows.push({ name: 'bench client (+ webhook receiver)', cpu: (benchCpu.user + benchCpu.system) / 1e6 });
    const cpuTotal = cpuRows.reduce((acc, r) => acc + (Number.isNaN(r.cpu) ? 0 : r.cpu), 0);
    process.stdout.write(
      [
        '',
        `CPU per process from the first POST to the last ${WEBHOOKS ? 'webhook' : 'APPLIED'} (${wall.toFixed(1)} s wall, ${os.cpus().length} cores = ${(wall * os.cpus().length).toFixed(1)} CPU-s available):`,
        '',
        '| process | CPU s | % of one core | share of the measured CPU | CPU ms per payment |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...cpuRows.map(
          (r) =>
            `| ${r.name} | ${r.cpu.toFixed(2)} | ${((100 * r.cpu) / wall).toFixed(0)} % | ${((100 * r.cpu) / cpuTotal).toFixed(0)} % | ${((1000 * r.cpu) / PAYMENTS).toFixed(2)} |`,
        ),
        `| **all** | ${cpuTotal.toFixed(2)} | ${((100 * cpuTotal) / wall).toFixed(0)} % | 100 % | ${((1000 * cpuTotal) / PAYMENTS).toFixed(2)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
    if (b.own)
      await run(path.join(root ?? '.', 'scripts', 'test-servers', 'stop.sh'), [b.serversDir]).catch(() => undefined);
  }
}

/**
 * Per payment, the moments the hub and the cores already record: the POST sent and its 201 read (this
 * client), the payment and its outbox row written (payments.created_at), the command confirmed by the
 * broker (outbox.sent_at, set once the publisher confirm came back), the core's ledger row
 * (payments.created_at in the simulator's database, written while the worker's HTTP call is open), the
 * APPLIED event written by serve's results consumer and, with --webhooks, the webhook delivered. The
 * worker's own share is the core-call histogram of its /metrics (bucketed, so p50/p99 are bucket
 * bounds). Moments are in ms from one clock (one machine). The relay's confirm overlaps the delivery to
 * the worker (the broker delivers before the confirm is back): its row is inside "to the core", and the
 * payment is written before the 201 is read, so the shares add up to a little over 100 %.
 */
function stages(
  db: Database.Database,
  accepted: ReadonlyArray<{ id: string; sentAt: number; acceptedAt: number }>,
  work: string,
  callsBefore: ReadonlyArray<Awaited<ReturnType<typeof coreCalls>>>,
  callsAfter: ReadonlyArray<Awaited<ReturnType<typeof coreCalls>>>,
): string {
  const coreAt = new Map<string, number>();
  const coreDbs = fs
    .readdirSync(path.join(work, 'cores', 'cores'))
    .filter((f) => f.endsWith('.db'))
    .map((f) => path.join(work, 'cores', 'cores', f));
  for (const file of coreDbs) {
    const core = new Database(file, { readonly: true, fileMustExist: true });
    for (const r of core
      .prepare<[], { external_ref: string; created_at: string }>('SELECT external_ref, created_at FROM payments')
      .all())
      coreAt.set(r.external_ref, Date.parse(r.created_at));
    core.close();
  }
  const row = db.prepare<
    [string],
    {
      created_at: string;
      receipt_number: string;
      sent_at: string | null;
      applied_at: string | null;
      hook_at: string | null;
    }
  >(
    `SELECT p.created_at, p.receipt_number,
            (SELECT sent_at FROM outbox o WHERE o.payment_id = p.id AND o.topic = 'core.command') AS sent_at,
            (SELECT at FROM payment_events e WHERE e.payment_id = p.id AND e.to_status = 'APPLIED') AS applied_at,
            (SELECT min(delivered_at) FROM webhook_deliveries w
              WHERE w.payment_id = p.id AND w.status = 'delivered' AND w.event_type LIKE '%applied%') AS hook_at
       FROM payments p WHERE p.id = ?`,
  );
  const api: number[] = [];
  const relay: number[] = [];
  const delivery: number[] = [];
  const result: number[] = [];
  const hook: number[] = [];
  const total: number[] = [];
  let missing = 0;
  for (const a of accepted) {
    const r = row.get(a.id);
    const created = Date.parse(r?.created_at ?? '');
    const sent = Date.parse(r?.sent_at ?? '');
    const applied = Date.parse(r?.applied_at ?? '');
    const core = coreAt.get(a.id) ?? coreAt.get(r?.receipt_number ?? '');
    const hooked = Date.parse(r?.hook_at ?? '');
    if ([created, sent, applied].some(Number.isNaN) || core === undefined || (WEBHOOKS && Number.isNaN(hooked))) {
      missing += 1;
      continue;
    }
    const gap = (from: number, to: number): number => Math.max(0, to - from);
    api.push(gap(a.sentAt, a.acceptedAt));
    relay.push(gap(created, sent));
    delivery.push(gap(created, core));
    result.push(gap(core, applied));
    if (WEBHOOKS) hook.push(gap(applied, hooked));
    total.push(gap(a.sentAt, WEBHOOKS ? hooked : applied));
  }
  const calls = { count: 0, sum: 0 };
  const before = new Map<number, number>();
  const after = new Map<number, number>();
  callsAfter.forEach((c, i) => {
    const b0 = callsBefore[i];
    calls.count += c.count - (b0?.count ?? 0);
    calls.sum += c.sum - (b0?.sum ?? 0);
    for (const [k, v] of c.buckets) after.set(k, (after.get(k) ?? 0) + v);
    for (const [k, v] of b0?.buckets ?? []) before.set(k, (before.get(k) ?? 0) + v);
  });
  const list: Stage[] = [
    {
      stage: 'API',
      covers: 'POST sent -> 201 read: HTTP, auth, validation, the payment + outbox transaction',
      ms: api,
    },
    {
      stage: 'to the core',
      covers:
        'payment written -> core ledger row: relay poll, publish, queue, worker, HTTP to the core, core transaction',
      ms: delivery,
    },
    {
      stage: '(within it) relay until confirmed',
      covers: 'payment written -> outbox row marked sent (the publisher confirm; the broker delivers meanwhile)',
      ms: relay,
    },
    {
      stage: 'result',
      covers: 'core ledger row -> APPLIED written: core answer, result publish + confirm, results consumer, store',
      ms: result,
    },
    ...(WEBHOOKS
      ? [{ stage: 'webhook', covers: 'APPLIED written -> webhook delivered: intake, dispatch, receiver', ms: hook }]
      : []),
  ];
  const callMean = calls.count > 0 ? (1000 * calls.sum) / calls.count : NaN;
  const totalMean = total.reduce((x, y) => x + y, 0) / Math.max(1, total.length);
  return [
    stageTable(list, total),
    '',
    `Inside the worker: the core call (HTTP round trip to the simulator, from loanhub_core_request_duration_seconds of the three workers, ${calls.count} calls) p50 <= ${bucketPercentile(before, after, 50)} ms, p99 <= ${bucketPercentile(before, after, 99)} ms, mean ${callMean.toFixed(1)} ms (${((100 * callMean) / totalMean).toFixed(0)} % of the mean total).`,
    ...(missing > 0 ? [`${missing} payment(s) lacked a moment and are left out.`] : []),
  ].join('\n');
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  for (const p of procs) process.stderr.write(`--- ${p.name} ---\n${p.lines.join('\n')}\n`);
  await stopAll();
  process.exitCode = 1;
});
