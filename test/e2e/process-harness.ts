import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { freePorts } from '../integration/hub-fixture';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { CHANNELS, CORES, type Channel, type Core } from '../../domain/channel';
import { openHubDb, placeholders, type HubDb } from '../integration/hub-db';
import { testStoreEnv } from '../store/contract/test-databases';
import { brokerControl, requireTestBroker, vhostUrl, type TestBroker } from '../transport/test-broker';

// The hub as production runs it: `loanhub serve`, one `loanhub work --core X` per core and the core
// simulators, each a separate process of the compiled CLI, joined by the real RabbitMQ that
// scripts/test.sh starts (a vhost of its own per stack). Every process started here is stopped by
// `stack.stop()`; tests call it in afterAll. With LOANHUB_TEST_STORE=postgres (the test command's
// PostgreSQL pass) every process of the stack gets LOANHUB_DB_URL/LOANHUB_DB_SCHEMA: the hub's store is a
// schema of its own in the test PostgreSQL, dropped by `stop()` (a test's extraEnv may name its own).

const BIN = path.join(__dirname, '../../bin/loanhub.js');
const run = promisify(execFile);

export type Broker = TestBroker;

/** The broker the test command started; without it the e2e tests fail, they never skip. */
export function requireBroker(): Broker {
  const broker = requireTestBroker(' and `npm run build`');
  if (!fs.existsSync(BIN) || !fs.existsSync(path.join(__dirname, '../../dist'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (npm test does)');
  }
  return broker;
}

/** Runs a control script of the test RabbitMQ node (`stop`, `start`, `add-vhost NAME`). */
export const rabbitControl = brokerControl;

export { freePorts };

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Exit {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One process of the CLI; the last lines of its output are kept for failure messages. */
export interface HubProcess {
  readonly name: string;
  readonly child: ChildProcess;
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after graceMs; resolves to how it ended. */
  stop(graceMs?: number): Promise<Exit>;
  kill9(): Promise<void>;
}

export function spawnCli(name: string, args: readonly string[], env: NodeJS.ProcessEnv): HubProcess {
  const lines: string[] = [];
  const keep = (d: Buffer): void => {
    lines.push(...d.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = (): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => child.once('exit', () => r()));
  return {
    name,
    child,
    tail: () => lines.slice(-30).join('\n'),
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        const done = exited();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await done;
        clearTimeout(timer);
      }
      return { name, code: child.exitCode, signal: child.signalCode };
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited();
      child.kill('SIGKILL');
      await done;
    },
  };
}

async function untilHttpOk(proc: HubProcess, url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited ${proc.child.exitCode}: ${proc.tail()}`);
      const r = await fetch(url).catch(() => null);
      return r?.ok ? true : undefined;
    },
    timeoutMs,
    `${proc.name} at ${url}`,
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- ${proc.name} output ---\n${proc.tail()}`);
  });
}

/** Runs one CLI command to its end and returns its stdout; a non-zero exit throws with stderr. */
export async function cli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`loanhub ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** Channel policies with every channel open all day and room for load tests (the serve process runs on the real clock). */
export function writeWidePolicies(dir: string): string {
  const source = path.join(__dirname, '../../channels/policies');
  fs.mkdirSync(dir, { recursive: true });
  for (const channel of CHANNELS) {
    const policy = JSON.parse(fs.readFileSync(path.join(source, `${channel}.json`), 'utf8')) as Record<string, unknown>;
    policy.operatingHours = { from: '00:00', to: '24:00' };
    policy.paymentCutoff = '23:59';
    policy.rateLimit = { perClientPerMinute: 600_000, perIpPerMinute: 1_200_000 };
    const limits = policy.limits as Record<string, Record<string, string>>;
    for (const currency of Object.keys(limits))
      limits[currency] = { ...limits[currency], maxPerLoanPerDay: '1000000.00' };
    fs.writeFileSync(path.join(dir, `${channel}.json`), JSON.stringify(policy, null, 2));
  }
  return dir;
}

export interface Stack {
  readonly apiUrl: string;
  /** The `serve` process (its output's tail for failure messages). */
  readonly serve: HubProcess;
  readonly amqpUrl: string;
  readonly dataDir: string;
  readonly coreUrls: Readonly<Record<Core, string>>;
  readonly workerUrls: Readonly<Record<Core, string>>;
  /** The environment every process of the stack gets (LOANHUB_AMQP_URL, core URLs, policies). */
  readonly env: NodeJS.ProcessEnv;
  token(channel: Channel): Promise<string>;
  startWorker(core: Core): Promise<void>;
  worker(core: Core): HubProcess | undefined;
  /** Runs a CLI command with the stack's environment. */
  cli(args: readonly string[]): Promise<string>;
  /** A read-only connection to the hub's store (hub.db, or its PostgreSQL schema); `stop()` closes it. */
  hubDb(): HubDb;
  coreDb(core: Core): Database.Database;
  /** Stops every process (SIGTERM, SIGKILL after 10 s) and says how each ended. */
  stop(): Promise<Exit[]>;
}

export interface StackOptions {
  readonly name: string;
  readonly extraEnv?: NodeJS.ProcessEnv;
}

/** Starts simulators, serve and one worker per core on a fresh vhost of the test broker. */
export async function startStack(broker: Broker, opts: StackOptions): Promise<Stack> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `loanhub-e2e-${opts.name}-`));
  const vhost = `e2e-${opts.name}-${process.pid}-${Date.now()}`;
  await rabbitControl(broker, 'add-vhost', vhost);
  const amqpUrl = vhostUrl(broker, vhost);
  const [apiPort, cashPort, mortgagePort, vehiclePort, ...workerPorts] = await freePorts(4 + CORES.length);
  const port = (p: number | undefined): number => {
    if (p === undefined) throw new Error('not enough free ports');
    return p;
  };
  const coreUrls: Record<Core, string> = {
    cash: `http://127.0.0.1:${port(cashPort)}`,
    mortgage: `http://127.0.0.1:${port(mortgagePort)}`,
    vehicle: `http://127.0.0.1:${port(vehiclePort)}`,
  };
  const workerPort = (core: Core): number => port(workerPorts[CORES.indexOf(core)]);
  const workerUrls: Record<Core, string> = {
    cash: `http://127.0.0.1:${workerPort('cash')}`,
    mortgage: `http://127.0.0.1:${workerPort('mortgage')}`,
    vehicle: `http://127.0.0.1:${workerPort('vehicle')}`,
  };
  const dataDir = path.join(root, 'hub');
  const store = testStoreEnv(dataDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...store.env,
    LOANHUB_AMQP_URL: amqpUrl,
    LOANHUB_DATA_DIR: dataDir,
    LOANHUB_CORE_CASH_URL: coreUrls.cash,
    LOANHUB_CORE_MORTGAGE_URL: coreUrls.mortgage,
    LOANHUB_CORE_VEHICLE_URL: coreUrls.vehicle,
    LOANHUB_CHANNEL_POLICIES_DIR: writeWidePolicies(path.join(root, 'policies')),
    LOANHUB_LOG_LEVEL: 'warn',
    ...opts.extraEnv,
  };
  const processes: HubProcess[] = [];
  const workers = new Map<Core, HubProcess>();
  const dbs: Database.Database[] = [];
  const hubDbs: HubDb[] = [];

  const stop = async (): Promise<Exit[]> => {
    for (const db of dbs.splice(0)) db.close();
    for (const db of hubDbs.splice(0)) await db.close();
    // workers and serve first (they finish in-flight work), the cores they call last
    const [sims, ...rest] = processes.splice(0);
    const exits = await Promise.all(rest.map((p) => p.stop()));
    if (sims) exits.push(await sims.stop());
    await store.drop();
    fs.rmSync(root, { recursive: true, force: true });
    return exits;
  };

  try {
    const sims = spawnCli(
      'simulators',
      [
        'simulate',
        'cores',
        '--data-dir',
        path.join(root, 'cores'),
        '--cash-port',
        String(cashPort),
        '--mortgage-port',
        String(mortgagePort),
        '--vehicle-port',
        String(vehiclePort),
      ],
      env,
    );
    processes.push(sims);
    for (const core of CORES) await untilHttpOk(sims, `${coreUrls[core]}/_admin/fault`);

    const serve = spawnCli('serve', ['serve', '--port', String(apiPort)], env);
    processes.push(serve);
    const apiUrl = `http://127.0.0.1:${port(apiPort)}`;
    await untilHttpOk(serve, `${apiUrl}/readyz`);

    const startWorker = async (core: Core): Promise<void> => {
      const w = spawnCli(`worker ${core}`, ['work', '--core', core, '--port', String(workerPort(core))], {
        ...env,
        LOANHUB_DATA_DIR: path.join(root, `worker-${core}`),
      });
      const at = processes.indexOf(workers.get(core) ?? w);
      if (at >= 0) processes.splice(at, 1);
      processes.push(w);
      workers.set(core, w);
      await untilHttpOk(w, `${workerUrls[core]}/readyz`);
    };
    await Promise.all(CORES.map(startWorker));

    const tokens = new Map<Channel, string>();
    const stackCli = (args: readonly string[]): Promise<string> => cli(args, env);
    return {
      apiUrl,
      serve,
      amqpUrl,
      dataDir,
      coreUrls,
      workerUrls,
      env,
      async token(channel) {
        const cached = tokens.get(channel);
        if (cached) return cached;
        const t = (await stackCli(['token', '--channel', channel])).trim();
        tokens.set(channel, t);
        return t;
      },
      startWorker,
      worker: (core) => workers.get(core),
      cli: stackCli,
      hubDb() {
        const db = openHubDb(env);
        hubDbs.push(db);
        return db;
      },
      coreDb(core) {
        const db = new Database(path.join(root, 'cores', 'cores', `${core}.db`), {
          readonly: true,
          fileMustExist: true,
        });
        db.defaultSafeIntegers(true);
        dbs.push(db);
        return db;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- talking to the API as a channel does ----

export interface PaymentRequest {
  readonly channel: Channel;
  readonly loanNumber: string;
  readonly amount: string;
  readonly currency: 'PEN' | 'USD';
  readonly idempotencyKey: string;
  readonly channelReference: string;
}

export interface Accepted {
  readonly request: PaymentRequest;
  readonly paymentId: string;
  /** 201 on the first answer; a retried request that had reached the hub gets its stored answer. */
  readonly status: number;
  /** How many times the client had to send it (network errors and 5xx are retried with the same key). */
  readonly sends: number;
}

let referenceSeq = 0;
/** A channel reference in the channel's own format (channels/policies/*.json). */
export function channelReference(channel: Channel): string {
  referenceSeq += 1;
  const n = (digits: number): string =>
    String((Date.now() % 10 ** (digits - 3)) * 1000 + (referenceSeq % 1000)).padStart(digits, '0');
  switch (channel) {
    case 'app':
      return `APP-${n(10)}`;
    case 'web':
      return `WEB-${n(10)}`;
    case 'agents':
      return `AG004512-${n(8)}`;
    case 'atm':
      return `ATM0042-${n(6)}`;
    case 'stores':
      return `STORE7-${n(6)}`;
    default: {
      const never: never = channel;
      return String(never);
    }
  }
}

export function paymentRequest(
  channel: Channel,
  loanNumber: string,
  amount: string,
  currency: 'PEN' | 'USD',
): PaymentRequest {
  return {
    channel,
    loanNumber,
    amount,
    currency,
    idempotencyKey: randomUUID(),
    channelReference: channelReference(channel),
  };
}

/** Sends one payment the way a careful channel does: on a network error or a 5xx, again with the same key. */
export async function pay(stack: Stack, req: PaymentRequest): Promise<Accepted> {
  const token = await stack.token(req.channel);
  for (let sends = 1; ; sends += 1) {
    const res = await fetch(`${stack.apiUrl}/v1/${req.channel}/payments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': req.idempotencyKey,
      },
      body: JSON.stringify({
        loanNumber: req.loanNumber,
        amount: req.amount,
        currency: req.currency,
        channelReference: req.channelReference,
      }),
    }).catch(() => null);
    if (res && res.status < 500) {
      const text = await res.text();
      if (res.status !== 201 && res.status !== 200) {
        throw new Error(`payment ${req.idempotencyKey} on ${req.channel} got ${res.status}: ${text}`);
      }
      const body = JSON.parse(text) as { paymentId?: unknown };
      if (typeof body.paymentId !== 'string') throw new Error(`no paymentId in ${text}`);
      return { request: req, paymentId: body.paymentId, status: res.status, sends };
    }
    if (res) await res.text();
    if (sends >= 20)
      throw new Error(`payment ${req.idempotencyKey} failed ${sends} times (last ${res?.status ?? 'network error'})`);
    await new Promise((r) => setTimeout(r, 100 * sends));
  }
}

/** Sends every request with at most `concurrency` in flight; `onAccepted` sees each answer as it comes. */
export async function payAll(
  stack: Stack,
  requests: readonly PaymentRequest[],
  concurrency: number,
  onAccepted?: (accepted: Accepted, count: number) => void,
): Promise<Accepted[]> {
  const out: Accepted[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 1;
      const req = requests[i];
      if (req === undefined) return;
      const accepted = await pay(stack, req);
      out.push(accepted);
      onAccepted?.(accepted, out.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}

/**
 * The loan's amount due as the API answers it (the core is asked through its worker), in minor units.
 * Right after a broker restart the worker may still be reconnecting: a 503 core_unavailable is what a
 * channel would get then, and is asked again for a while, as a channel would.
 */
export async function amountDue(stack: Stack, channel: Channel, loanNumber: string): Promise<bigint> {
  const deadline = Date.now() + 30_000;
  let res: Response;
  let text: string;
  for (;;) {
    res = await fetch(`${stack.apiUrl}/v1/${channel}/loans/${loanNumber}`, {
      headers: { authorization: `Bearer ${await stack.token(channel)}` },
    });
    text = await res.text();
    if (res.status !== 503 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (res.status !== 200) throw new Error(`loan ${loanNumber} inquiry got ${res.status}: ${text}`);
  const body = JSON.parse(text) as { amountDue?: unknown };
  return minor(String(body.amountDue));
}

export function minor(amount: string): bigint {
  const m = /^(\d+)\.(\d{2})$/.exec(amount);
  if (!m) throw new Error(`not an amount: ${amount}`);
  return BigInt(`${m[1] ?? ''}${m[2] ?? ''}`);
}

/** Waits until none of these payments is ACCEPTED any more (read from the hub's database). */
export async function untilSettled(stack: Stack, paymentIds: readonly string[], timeoutMs: number): Promise<void> {
  const db = stack.hubDb();
  const pending = async (): Promise<bigint> => {
    let n = 0n;
    for (let i = 0; i < paymentIds.length; i += 500) {
      const ids = paymentIds.slice(i, i + 500);
      const row = await db.get<{ n: bigint }>(
        `SELECT count(*) AS n FROM payments WHERE id IN (${placeholders(ids.length)}) AND status = 'ACCEPTED'`,
        ids,
      );
      if (row === undefined) throw new Error('count(*) gave no row');
      n += row.n;
    }
    return n;
  };
  let last: bigint | undefined;
  await waitFor(
    async () => {
      last = await pending();
      return last === 0n ? true : undefined;
    },
    timeoutMs,
    `${paymentIds.length} payments to leave ACCEPTED`,
    250,
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)} (still ${String(last)})`);
  });
}

export interface ExactlyOnceReport {
  /** idempotency keys whose payment count is not exactly one */
  readonly keysWithoutOnePayment: number;
  readonly notApplied: ReadonlyArray<{ id: string; status: string }>;
  /** payments with other than exactly one APPLIED event in the hub */
  readonly appliedEventsNotOne: number;
  /** payments the core does not hold exactly once as APPLIED with the payment's amount */
  readonly coreMismatches: number;
}

/**
 * Counts, per idempotency key, what the hub and the cores hold: one payment per key, APPLIED, one
 * APPLIED event, and exactly one applied row at its core (the core's external reference is the payment id).
 */
export async function exactlyOnce(stack: Stack, accepted: readonly Accepted[]): Promise<ExactlyOnceReport> {
  const hub = stack.hubDb();
  const keyCount = (key: string) =>
    hub.get<{ n: bigint }>('SELECT count(*) AS n FROM idempotency_keys WHERE key = ?', [key]);
  const payment = (id: string) =>
    hub.get<{ status: string; core: string; amount_minor: bigint }>(
      'SELECT status, core, amount_minor FROM payments WHERE id = ?',
      [id],
    );
  const appliedEvents = (id: string) =>
    hub.get<{ n: bigint }>("SELECT count(*) AS n FROM payment_events WHERE payment_id = ? AND to_status = 'APPLIED'", [
      id,
    ]);
  const coreRows = new Map<string, Database.Statement<[string], { n: bigint; amount: bigint | null }>>();
  const coreStatement = (core: string): Database.Statement<[string], { n: bigint; amount: bigint | null }> => {
    let s = coreRows.get(core);
    if (!s) {
      const c = CORES.find((x) => x === core);
      if (!c) throw new Error(`unknown core ${core}`);
      s = stack
        .coreDb(c)
        .prepare<[string], { n: bigint; amount: bigint | null }>(
          "SELECT count(*) AS n, sum(amount_minor) AS amount FROM payments WHERE external_ref = ? AND outcome = 'APPLIED'",
        );
      coreRows.set(core, s);
    }
    return s;
  };
  let keysWithoutOnePayment = 0;
  let appliedEventsNotOne = 0;
  let coreMismatches = 0;
  const notApplied: Array<{ id: string; status: string }> = [];
  for (const a of accepted) {
    if ((await keyCount(a.request.idempotencyKey))?.n !== 1n) keysWithoutOnePayment += 1;
    const p = await payment(a.paymentId);
    if (!p || p.status !== 'APPLIED') {
      notApplied.push({ id: a.paymentId, status: p?.status ?? 'missing' });
      continue;
    }
    if ((await appliedEvents(a.paymentId))?.n !== 1n) appliedEventsNotOne += 1;
    const row = coreStatement(p.core).get(a.paymentId);
    if (row?.n !== 1n || row.amount !== p.amount_minor) coreMismatches += 1;
  }
  return { keysWithoutOnePayment, notApplied: notApplied.slice(0, 10), appliedEventsNotOne, coreMismatches };
}

/** A value of a Prometheus metric line such as `loanhub_core_breaker_state{core="cash"}`. */
export async function metric(url: string, name: string, labels: string): Promise<number | undefined> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
