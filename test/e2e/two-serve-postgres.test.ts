import http from 'node:http';
import { Pool } from 'pg';
import { CORES, type Core } from '../../domain/channel';
import { parseSecretList, verifyWebhook } from '../../webhooks/webhook-signature';
import {
  amountDue,
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
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';

// Issue 11, "What this issue must show": two `loanhub serve` instances on one PostgreSQL and one RabbitMQ,
// a worker per core and the core simulators, all separate processes. 5,000 payments go to both instances,
// every 5th key is sent to both at once (and every key is retried at the other instance when an answer
// does not settle it), one instance is SIGKILLed mid-stream and PostgreSQL is restarted for real once (a
// private cluster of this test: the shared test PostgreSQL serves other suites in parallel). Then: every
// key has exactly one payment, applied once, held once by its core with its amount and a core reference
// of its own; the loans' amounts due went down by exactly the sum; every event reached the webhook
// receiver; no outbox row is left and nothing is half-written.

const broker = requireBroker();
// about 5 min measured at a load average of 11 on 2 cores (other suites running); see the phase lines
jest.setTimeout(900_000);

const PAYMENTS = 5_000;
const LANES = 24;
const PG_DOWN_MS = 3_000;
// Leases shortened from their 60 s defaults (LOANHUB_IDEMPOTENCY_LEASE_SECONDS, LOANHUB_OUTBOX_LEASE_SECONDS), so
// that the keys and outbox rows the killed instance held free up within the test, as they would in 60 s.
const IN_FLIGHT_LEASE_S = 15;
const OUTBOX_LEASE_S = 10;
/** How long one key is retried (past the in-flight lease; answers are slow on a loaded machine). */
const KEY_DEADLINE_MS = 240_000;
const LOANS: Readonly<Record<Core, string>> = {
  cash: '100000000001',
  mortgage: '200000000001',
  vehicle: '300000000001',
};
const SCHEMA = 'hub';
const SECRET = 'whsec_' + Buffer.alloc(32, 11).toString('base64');

interface Answer {
  readonly status: number;
  readonly paymentId?: string;
  readonly code?: string;
  readonly contentType?: string;
}

/** One answer of an instance, or status 0 when there was none (the instance is gone). */
async function send(url: string, token: string, req: PaymentRequest): Promise<Answer> {
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
  const body = (await res.json().catch(() => ({}))) as { paymentId?: unknown; code?: unknown };
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    ...(typeof body.paymentId === 'string' ? { paymentId: body.paymentId } : {}),
    ...(typeof body.code === 'string' ? { code: body.code } : {}),
  };
}

/** The channel's webhook endpoint: verifies each signature and counts every webhook-id it is sent. */
interface Receiver {
  readonly url: string;
  /** webhook-id -> times received (a redelivery of the same event carries the same id). */
  readonly received: Map<string, number>;
  readonly badSignatures: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const keys = parseSecretList(SECRET, 'test');
  const received = new Map<string, number>();
  let badSignatures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verdict = verifyWebhook(keys, req.headers, body);
      const id = req.headers['webhook-id'];
      if (!verdict.ok || typeof id !== 'string') {
        badSignatures += 1;
        res.writeHead(400).end();
        return;
      }
      received.set(id, (received.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  const [port] = await freePorts(1);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String(port)}/hooks/loanhub`,
    received,
    get badSignatures() {
      return badSignatures;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let pg: PrivatePostgres | undefined;
let stack: Stack | undefined;
let second: HubProcess | undefined;
let receiver: Receiver | undefined;
let over = false; // set when the test ends, so that lanes still sending (after a timeout) stop
afterAll(async () => {
  over = true;
  await second?.stop();
  await stack?.stop();
  await receiver?.close();
  await pg?.destroy();
});

it('5,000 payments across two serve instances: one killed, PostgreSQL restarted, each applied exactly once', async () => {
  const t0 = Date.now();
  const phase = (what: string): void => {
    process.stderr.write(`two-serve: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  pg = await startPrivatePostgres();
  receiver = await startReceiver();
  stack = await startStack(broker, {
    name: 'two-serve-pg',
    extraEnv: {
      LOANHUB_DB_URL: pg.url,
      // named, so that no schema of the test command's PostgreSQL pass leaks in through the harness
      LOANHUB_DB_SCHEMA: SCHEMA,
      LOANHUB_DB_POOL_MAX: '8',
      LOANHUB_IDEMPOTENCY_LEASE_SECONDS: String(IN_FLIGHT_LEASE_S),
      LOANHUB_OUTBOX_LEASE_SECONDS: String(OUTBOX_LEASE_S),
      LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url,
      LOANHUB_WEBHOOK_SECRETS_APP: SECRET,
    },
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
  const dueBefore = new Map<Core, bigint>();
  for (const core of CORES) dueBefore.set(core, await amountDue(s, 'app', LOANS[core]));
  phase('stack up');

  const requests = Array.from({ length: PAYMENTS }, (_, i) =>
    paymentRequest('app', LOANS[CORES[i % CORES.length] ?? 'cash'], `1.${String(i % 100).padStart(2, '0')}`, 'PEN'),
  );
  const answers = new Map<string, Set<string>>();
  const statuses = new Map<string, number>(); // "503 service_unavailable application/problem+json" -> count
  const tally = (a: Answer): void => {
    if (a.status === 200 || a.status === 201) return;
    const k = `${String(a.status)} ${a.code ?? '-'} ${a.status === 0 ? '-' : ((a.contentType ?? '').split(';')[0] ?? '')}`;
    statuses.set(k, (statuses.get(k) ?? 0) + 1);
  };
  let killed = false;
  let restart: Promise<void> | undefined;
  let pgBackAt = Number.POSITIVE_INFINITY;
  let done = 0;
  const payOne = async (req: PaymentRequest, i: number): Promise<void> => {
    const seen = answers.get(req.idempotencyKey) ?? new Set<string>();
    answers.set(req.idempotencyKey, seen);
    const last: string[] = [];
    const giveUpAt = Date.now() + KEY_DEADLINE_MS;
    for (let attempt = 0; Date.now() < giveUpAt && !over; attempt += 1) {
      // every 5th key goes to both instances at once; the others alternate, and are retried at the other one
      const targets = i % 5 === 0 && attempt === 0 ? urls : [urls[(i + attempt) % 2] ?? s.apiUrl];
      const results = await Promise.all(targets.map((u) => send(u, token, req)));
      for (const r of results) {
        tally(r);
        if (r.paymentId) seen.add(r.paymentId);
        last.push(`${String(r.status)} ${r.code ?? ''}`.trim());
      }
      if (last.length > 6) last.splice(0, last.length - 6);
      if (results.some((r) => r.status === 201 || r.status === 200)) return;
      // the killed instance refuses at once: on to the other one without waiting
      if (results.every((r) => r.status === 0)) continue;
      // 409 while the key is in flight elsewhere (up to its lease when the killed instance held it, or
      // when its release met the stopped database), 503 while PostgreSQL is down
      await new Promise((r) => setTimeout(r, 50 + 25 * Math.min(attempt, 20)));
    }
    const ended = (p: HubProcess | undefined): string =>
      p === undefined ? '' : `${p.name}: exit ${String(p.child.exitCode)} ${String(p.child.signalCode)}\n${p.tail()}\n`;
    throw new Error(
      `payment ${req.idempotencyKey} (#${String(i)}) was not accepted within ${String(KEY_DEADLINE_MS / 1000)} s; ` +
        `last answers: ${last.join(', ')}\n${ended(s.serve)}${ended(second)}`,
    );
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 1;
      const req = requests[i];
      if (req === undefined || over) return;
      await payOne(req, i);
      done += 1;
      if (!killed && done >= PAYMENTS * 0.3) {
        killed = true;
        phase(`SIGKILL serve 2 after ${String(done)} payments`);
        void second?.kill9();
      }
      if (!restart && done >= PAYMENTS * 0.6) {
        phase(`PostgreSQL stopped for ${String(PG_DOWN_MS)} ms after ${String(done)} payments`);
        restart = pg?.restart(PG_DOWN_MS).then(() => {
          pgBackAt = Date.now();
          phase('PostgreSQL up again');
        });
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  await restart;
  phase(`all ${String(PAYMENTS)} accepted; other answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
  expect(killed).toBe(true);
  expect(restart).toBeDefined();

  // While PostgreSQL was down the API said so, as problem+json with its code; nothing else went wrong.
  const kinds = [...statuses.keys()];
  expect(kinds).toContain('503 service_unavailable application/problem+json');
  // the in-flight 409 across the two instances: a key sent to both at once is taken by one, and the other
  // answers 409 while it is in hand there (or replays the stored answer once it is done)
  expect(kinds).toContain('409 idempotency_key_in_flight application/problem+json');
  expect(
    kinds.filter(
      (k) =>
        k !== '503 service_unavailable application/problem+json' &&
        k !== '409 idempotency_key_in_flight application/problem+json' &&
        k !== '0 - -',
    ),
  ).toEqual([]);

  // every key answered with one payment id, whichever instance answered
  const ids = [...answers.values()].map((set) => [...set]);
  expect(ids.filter((x) => x.length !== 1)).toEqual([]);
  const paymentIds = ids.map((x) => x[0] ?? '');
  expect(new Set(paymentIds).size).toBe(PAYMENTS);

  const pool = new Pool({ connectionString: pg.url, max: 2, options: `-c search_path=${SCHEMA}` });
  pool.on('error', () => undefined);
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await pool.query<{ n: string }>(sql, params)).rows[0]?.n ?? NaN);
  try {
    await waitFor(
      async () =>
        (await count("SELECT count(*) AS n FROM payments WHERE status <> 'APPLIED'")) === 0 ? true : undefined,
      180_000,
      'every payment applied',
      1_000,
    );
    phase('all applied');
    // The database is this test's own: it holds these payments and nothing else.
    expect(await count('SELECT count(*) AS n FROM payments')).toBe(PAYMENTS);
    expect(await count('SELECT count(*) AS n FROM payments WHERE id = ANY($1)', [paymentIds])).toBe(PAYMENTS);
    // per idempotency key: one key row, one payment
    expect(await count('SELECT count(*) AS n FROM idempotency_keys')).toBe(PAYMENTS);
    expect(
      await count('SELECT count(DISTINCT payment_id) AS n FROM idempotency_keys WHERE key = ANY($1)', [
        requests.map((r) => r.idempotencyKey),
      ]),
    ).toBe(PAYMENTS);
    expect(await count("SELECT count(DISTINCT channel_reference) AS n FROM payments WHERE channel = 'app'")).toBe(
      PAYMENTS,
    );
    // per core reference: every payment has one, and no two share it
    expect(await count('SELECT count(DISTINCT core_reference) AS n FROM payments')).toBe(PAYMENTS);
    // nothing half-written: per payment its row (the ACCEPTED step) and exactly one event, ACCEPTED ->
    // APPLIED, its ACCEPTED and APPLIED events in the outbox, the daily totals equal to the payments, no
    // key left marked in flight
    expect(
      await count(
        `SELECT count(*) AS n FROM (SELECT payment_id FROM payment_events GROUP BY payment_id
           HAVING count(*) <> 1
               OR count(*) FILTER (WHERE from_status = 'ACCEPTED' AND to_status = 'APPLIED') <> 1) x`,
      ),
    ).toBe(0);
    expect(await count('SELECT count(DISTINCT payment_id) AS n FROM payment_events')).toBe(PAYMENTS);
    expect(
      await count(
        `SELECT count(*) AS n FROM payments p WHERE NOT EXISTS (SELECT 1 FROM outbox o
           WHERE o.topic = 'payment.event' AND o.message_id = p.id || ':ACCEPTED')
           OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.topic = 'payment.event' AND o.message_id = p.id || ':APPLIED')`,
      ),
    ).toBe(0);
    const totals = await pool.query<{ loan_number: string; taken: string; paid: string }>(
      `SELECT t.loan_number, sum(t.taken_minor)::text AS taken,
              (SELECT sum(amount_minor) FROM payments p WHERE p.loan_number = t.loan_number)::text AS paid
         FROM daily_totals t GROUP BY t.loan_number`,
    );
    expect(totals.rows.filter((r) => r.taken !== r.paid)).toEqual([]);
    expect(totals.rows).toHaveLength(CORES.length);
    // A mark is released when its request ends; only the killed instance's, and those whose release met the
    // stopped database, can be left, and none of them outlives its lease from before the restart ended.
    expect(await count('SELECT count(*) AS n FROM idempotency_in_flight')).toBeLessThanOrEqual(2 * LANES);
    expect(
      await count('SELECT count(*) AS n FROM idempotency_in_flight WHERE until > $1', [
        new Date(pgBackAt + IN_FLIGHT_LEASE_S * 1000 + 5_000).toISOString(),
      ]),
    ).toBe(0);

    // each core holds each of its payments once, APPLIED, with the payment's amount and core reference,
    // and no payment it was not sent: the simulators' ledgers agree with the hub
    const hubRows = await pool.query<{ id: string; core: string; amount_minor: string; core_reference: string }>(
      'SELECT id, core, amount_minor, core_reference FROM payments',
    );
    const sumByCore = new Map<Core, bigint>();
    let mismatches = 0;
    for (const core of CORES) {
      const db = s.coreDb(core);
      const row = db.prepare<[string], { n: bigint; amount: bigint | null; ref: string | null }>(
        "SELECT count(*) AS n, sum(amount_minor) AS amount, max(core_ref) AS ref FROM payments WHERE external_ref = ? AND outcome = 'APPLIED'",
      );
      const mine = hubRows.rows.filter((x) => x.core === core);
      for (const p of mine) {
        const r = row.get(p.id);
        if (r?.n !== 1n || r.amount !== BigInt(p.amount_minor) || r.ref !== p.core_reference) mismatches += 1;
      }
      const ledger = db
        .prepare<[string], { n: bigint }>(
          "SELECT count(*) AS n FROM payments WHERE loan_id = ? AND outcome = 'APPLIED'",
        )
        .get(LOANS[core]);
      expect({ core, applied: ledger?.n }).toEqual({ core, applied: BigInt(mine.length) });
      sumByCore.set(
        core,
        mine.reduce((sum, p) => sum + BigInt(p.amount_minor), 0n),
      );
    }
    expect(mismatches).toBe(0);
    // the amounts due, as the API answers them, went down by exactly what was paid
    for (const core of CORES) {
      const after = await amountDue(s, 'app', LOANS[core]);
      expect({ core, lowered: (dueBefore.get(core) ?? 0n) - after }).toEqual({ core, lowered: sumByCore.get(core) });
    }

    // nothing left behind: the killed instance's leases ran out and the survivor took its rows
    await waitFor(
      async () => ((await count("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")) === 0 ? true : undefined),
      120_000,
      'an empty outbox',
      1_000,
    );
    // every event delivered to the channel, every one received (a redelivery keeps its webhook-id)
    const r = receiver;
    await waitFor(
      async () =>
        (await count("SELECT count(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'")) === 0
          ? true
          : undefined,
      120_000,
      'every webhook delivered',
      1_000,
    );
    phase('outbox empty, webhooks delivered');
    const events = (
      await pool.query<{ message_id: string }>("SELECT message_id FROM outbox WHERE topic = 'payment.event'")
    ).rows.map((x) => x.message_id);
    expect(events.length).toBeGreaterThanOrEqual(2 * PAYMENTS);
    expect(await count('SELECT count(*) AS n FROM webhook_deliveries')).toBe(events.length);
    expect(events.filter((id) => !r.received.has(id))).toEqual([]);
    const eventIds = new Set(events);
    expect([...r.received.keys()].filter((id) => !eventIds.has(id))).toEqual([]);
    // per payment: its ACCEPTED and APPLIED events reached the receiver
    const perPayment = new Map<string, number>();
    for (const id of r.received.keys()) {
      const p = id.split(':')[0] ?? '';
      perPayment.set(p, (perPayment.get(p) ?? 0) + 1);
    }
    expect(paymentIds.filter((p) => (perPayment.get(p) ?? 0) < 2)).toEqual([]);
    expect(r.badSignatures).toBe(0);
    const redelivered = [...r.received.values()].filter((n) => n > 1).length;
    phase(`${String(events.length)} events delivered, ${String(redelivered)} of them more than once`);
  } finally {
    await pool.end();
  }
});
