import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { createIdempotencyLock } from '../../api/idempotency-lock';
import { openPgStore } from '../../store/postgres/pg-store';
import type { PaymentStore } from '../../store/store-port';
import { api, eventually, sampleReference, startTestHub } from '../integration/hub-fixture';
import { dropSchema, freshSchemaName, testPgUrl } from './contract/test-databases';

// Several instances on one PostgreSQL: the in-flight 409 across them, and a hub that lives through its
// database going away (requests 503 while it is down, nothing half-written, everything resumes).

const url = testPgUrl();

describe('the in-flight 409 across instances', () => {
  const schema = freshSchemaName('lock');
  let a: PaymentStore;
  let b: PaymentStore;
  beforeAll(async () => {
    a = await openPgStore({ url, schema, max: 2 });
    b = await openPgStore({ url, schema, max: 2 });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await dropSchema(url, schema);
  });

  it('a key in hand at one instance gets 409 at another, and is free once the first is done', async () => {
    const lockA = createIdempotencyLock({ store: a });
    const lockB = createIdempotencyLock({ store: b });
    let finish: () => void = () => undefined;
    let started: () => void = () => undefined;
    const inHand = new Promise<void>((resolve) => (started = resolve));
    // the work runs only once the mark is in the database
    const first = lockA.run('app-client', 'k1', () => {
      started();
      return new Promise<string>((resolve) => (finish = () => resolve('a')));
    });
    await inHand;
    await expect(lockB.run('app-client', 'k1', async () => 'b')).rejects.toMatchObject({
      code: 'idempotency_key_in_flight',
      status: 409,
    });
    await expect(lockB.run('web-client', 'k1', async () => 'other client')).resolves.toBe('other client');
    finish();
    await expect(first).resolves.toBe('a');
    await expect(lockB.run('app-client', 'k1', async () => 'b')).resolves.toBe('b');
  });

  it('an instance that dies holding a key holds it only until its lease runs out', async () => {
    const t0 = new Date('2026-11-23T17:00:00Z');
    // the dead instance's mark: taken, never released
    expect(await a.claimIdempotencyKey('app-client', 'k2', 'dead-instance', new Date(t0.getTime() + 60_000), t0)).toBe(
      true,
    );
    let clock = new Date(t0.getTime() + 30_000);
    const lockB = createIdempotencyLock({ store: b, leaseMs: 60_000, now: () => clock });
    await expect(lockB.run('app-client', 'k2', async () => 'b')).rejects.toMatchObject({
      code: 'idempotency_key_in_flight',
    });
    clock = new Date(t0.getTime() + 60_000);
    await expect(lockB.run('app-client', 'k2', async () => 'b')).resolves.toBe('b');
  });
});

/** A TCP relay in front of PostgreSQL that can drop every connection and refuse new ones, like a restart. */
async function startRelay(
  target: URL,
): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
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
  const down = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  return { port, down, up: async () => void (await listen(port)), close: down };
}

describe('a hub on PostgreSQL when the database goes away and comes back', () => {
  jest.setTimeout(180_000);
  it('answers 503 while it is down, writes nothing half-way, and resumes by itself', async () => {
    const target = new URL(url);
    const relay = await startRelay(target);
    const schema = freshSchemaName('restart');
    const viaRelay = new URL(url);
    viaRelay.port = String(relay.port);
    const t = await startTestHub({ LOANHUB_DB_URL: viaRelay.toString(), LOANHUB_DB_SCHEMA: schema });
    try {
      expect(t.hub.store?.kind).toBe('postgres');
      const token = await t.token('app');
      const pay = (key: string, channelReference = sampleReference('app')) =>
        api(`${t.url}/v1/app/payments`, {
          token,
          body: {
            loanNumber: '100000000001',
            amount: '10.00',
            currency: 'PEN',
            channelReference,
          },
          headers: { 'idempotency-key': key },
        });
      const before = await pay(randomUUID());
      expect(before.status).toBe(201);

      await relay.down();
      const refusedReference = sampleReference('app');
      const during = await pay(randomUUID(), refusedReference);
      expect([during.status, during.json.code]).toEqual([503, 'service_unavailable']);
      expect(during.headers.get('retry-after')).toBe('1');
      expect((await api(`${t.url}/readyz`)).status).toBe(503);

      await relay.up();
      const key = randomUUID();
      const after = await pay(key);
      expect(after.status).toBe(201);
      const paymentId = String(after.json.paymentId);
      await eventually(
        async () => {
          const r = await api(`${t.url}/v1/app/payments/${paymentId}`, { token });
          return r.json.status === 'APPLIED' ? true : undefined;
        },
        15_000,
        'the payment taken after the outage to be applied',
      );
      // the payment taken just before the outage is applied too: its core result is retried until it lands,
      // or, when the outage caught its outbox row leased, the row comes back after the relay's 60 s lease
      await eventually(
        async () => {
          const r = await api(`${t.url}/v1/app/payments/${String(before.json.paymentId)}`, { token });
          return r.json.status === 'APPLIED' ? true : undefined;
        },
        120_000,
        'the payment taken before the outage to be applied',
      );
      const store = t.hub.store;
      if (!store) throw new Error('no store');
      expect(await store.findPaymentsByReference('app', refusedReference)).toEqual([]);
      // (outbox rows claimed just before the drop come back when their lease runs out, by themselves)
      expect((await api(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      await t.stop();
      await relay.close();
      await dropSchema(url, schema);
    }
  });
});
