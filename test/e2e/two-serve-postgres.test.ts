import net from 'node:net';
import { Pool } from 'pg';
import { CORES, type Core } from '../../domain/channel';
import { dropSchema, freshSchemaName, testPgUrl } from '../store/contract/test-databases';
import {
  freePorts,
  paymentRequest,
  requireBroker,
  spawnCli,
  startStack,
  waitFor,
  type HubProcess,
  type PaymentRequest,
  type Stack,
} from './process-harness';

// Two `loanhub serve` instances on one PostgreSQL and one RabbitMQ, workers for the three cores and the
// core simulators, all separate processes. Payments go to both instances, a share of the keys is sent to
// both at once, one instance is SIGKILLed mid-stream and the database connection is cut once (every
// connection of both instances dropped and refused for a while, through a TCP relay in front of the test
// PostgreSQL, since other suites share that server). Then: every key has exactly one payment, applied
// once, held once by its core with its amount, and no outbox row is left.

const broker = requireBroker();
const pgUrl = testPgUrl();
jest.setTimeout(300_000);

const PAYMENTS = 1_000;
const LOANS: Readonly<Record<Core, string>> = {
  cash: '100000000001',
  mortgage: '200000000001',
  vehicle: '300000000001',
};

interface Relay {
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
}

async function startRelay(target: URL): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  return {
    port,
    down: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    up: async () => {
      await listen(port);
    },
  };
}

const schema = freshSchemaName('two');
let stack: Stack | undefined;
let second: HubProcess | undefined;
let relay: Relay | undefined;
afterAll(async () => {
  await second?.stop();
  await stack?.stop();
  await relay?.up().catch(() => undefined);
  await dropSchema(pgUrl, schema);
});

/** One answer of an instance, or why there was none. */
async function send(url: string, token: string, req: PaymentRequest): Promise<{ status: number; paymentId?: string }> {
  const res = await fetch(`${url}/v1/${req.channel}/payments`, {
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
  if (!res) return { status: 0 };
  const body = (await res.json().catch(() => ({}))) as { paymentId?: unknown };
  return { status: res.status, ...(typeof body.paymentId === 'string' ? { paymentId: body.paymentId } : {}) };
}

it('1,000 payments across two serve instances: one killed, the database cut once, each applied exactly once', async () => {
  relay = await startRelay(new URL(pgUrl));
  const viaRelay = new URL(pgUrl);
  viaRelay.port = String(relay.port);
  stack = await startStack(broker, {
    name: 'two-serve-pg',
    extraEnv: { LOANHUB_DB_URL: viaRelay.toString(), LOANHUB_DB_SCHEMA: schema, LOANHUB_DB_POOL_MAX: '8' },
  });
  const s = stack;
  const [port2] = await freePorts(1);
  second = spawnCli('serve 2', ['serve', '--port', String(port2)], s.env);
  const url2 = `http://127.0.0.1:${String(port2)}`;
  await waitFor(
    async () => ((await fetch(`${url2}/readyz`).catch(() => null))?.ok ? true : undefined),
    30_000,
    'serve 2',
  );
  const urls = [s.apiUrl, url2];
  const token = await s.token('app');

  const requests = Array.from({ length: PAYMENTS }, (_, i) =>
    paymentRequest('app', LOANS[CORES[i % CORES.length] ?? 'cash'], `1.${String(i % 100).padStart(2, '0')}`, 'PEN'),
  );
  const answers = new Map<string, Set<string>>();
  let killed = false;
  let cut = false;
  let done = 0;
  const payOne = async (req: PaymentRequest, i: number): Promise<void> => {
    const seen = answers.get(req.idempotencyKey) ?? new Set<string>();
    answers.set(req.idempotencyKey, seen);
    for (let attempt = 0; attempt < 200; attempt += 1) {
      // every 5th key is sent to both instances at once; the rest alternate, and retry at the other one
      const targets = i % 5 === 0 && attempt === 0 ? urls : [urls[(i + attempt) % 2] ?? s.apiUrl];
      const results = await Promise.all(targets.map((u) => send(u, token, req)));
      for (const r of results) if (r.paymentId) seen.add(r.paymentId);
      if (results.some((r) => r.status === 201 || r.status === 200)) return;
      // 409 in flight at the other instance, 503 while the database is cut, 0 from the killed instance
      await new Promise((r) => setTimeout(r, 50 + 25 * Math.min(attempt, 20)));
    }
    throw new Error(`payment ${req.idempotencyKey} was never accepted`);
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 1;
      const req = requests[i];
      if (req === undefined) return;
      await payOne(req, i);
      done += 1;
      if (!killed && done >= PAYMENTS * 0.3) {
        killed = true;
        void second?.kill9();
      }
      if (!cut && done >= PAYMENTS * 0.6) {
        cut = true;
        void relay?.down().then(() => new Promise((r) => setTimeout(r, 2_000)).then(() => relay?.up()));
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  expect(killed && cut).toBe(true);

  // every key answered with one payment id, whichever instance answered
  const ids = [...answers.values()].map((set) => [...set]);
  expect(ids.filter((x) => x.length !== 1)).toEqual([]);
  const paymentIds = ids.map((x) => x[0] ?? '');

  const pool = new Pool({ connectionString: pgUrl, max: 2, options: `-c search_path=${schema}` });
  try {
    await waitFor(
      async () => {
        const r = await pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM payments WHERE id = ANY($1) AND status <> 'APPLIED'",
          [paymentIds],
        );
        return r.rows[0]?.n === '0' ? true : undefined;
      },
      180_000,
      'every payment applied',
      1_000,
    );
    const keys = await pool.query<{ n: string }>('SELECT count(*) AS n FROM idempotency_keys WHERE key = ANY($1)', [
      requests.map((r) => r.idempotencyKey),
    ]);
    expect(keys.rows[0]?.n).toBe(String(PAYMENTS));
    const perKey = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM payments WHERE channel = 'app' AND channel_reference = ANY($1)",
      [requests.map((r) => r.channelReference)],
    );
    expect(perKey.rows[0]?.n).toBe(String(PAYMENTS));
    const appliedTwice = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT payment_id FROM payment_events WHERE to_status = 'APPLIED'
         AND payment_id = ANY($1) GROUP BY payment_id HAVING count(*) <> 1) x`,
      [paymentIds],
    );
    expect(appliedTwice.rows[0]?.n).toBe('0');
    // each core holds each of its payments once, with the payment's amount
    const amounts = await pool.query<{ id: string; core: string; amount_minor: string }>(
      'SELECT id, core, amount_minor FROM payments WHERE id = ANY($1)',
      [paymentIds],
    );
    let mismatches = 0;
    for (const core of CORES) {
      const db = s.coreDb(core);
      const row = db.prepare<[string], { n: bigint; amount: bigint | null }>(
        "SELECT count(*) AS n, sum(amount_minor) AS amount FROM payments WHERE external_ref = ? AND outcome = 'APPLIED'",
      );
      for (const p of amounts.rows.filter((x) => x.core === core)) {
        const r = row.get(p.id);
        if (r?.n !== 1n || r.amount !== BigInt(p.amount_minor)) mismatches += 1;
      }
    }
    expect(mismatches).toBe(0);
    // nothing left behind: the killed instance's leases ran out and the survivor took its rows
    await waitFor(
      async () => {
        const r = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE status = 'pending'");
        return r.rows[0]?.n === '0' ? true : undefined;
      },
      120_000,
      'an empty outbox',
      1_000,
    );
    const events = await pool.query<{ events: string; deliveries: string }>(
      `SELECT (SELECT count(*) FROM outbox WHERE topic = 'payment.event') AS events,
              (SELECT count(*) FROM webhook_deliveries) AS deliveries`,
    );
    expect(events.rows[0]?.deliveries).toBe(events.rows[0]?.events);
  } finally {
    await pool.end();
  }
});
