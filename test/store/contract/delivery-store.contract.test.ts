import type { Channel } from '../../../domain/channel';
import type { NewDelivery } from '../../../store/delivery-store-port';
import { idem, samplePayment } from './payment-store-contract';
import { DATABASES, type OpenedTestStore } from './test-databases';

// The DeliveryStore contract (webhook deliveries and endpoints) on SQLite and on the test PostgreSQL.

const T0 = new Date('2026-11-23T15:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

function delivery(paymentId: string, status: string, channel: Channel = 'app'): NewDelivery {
  return {
    eventId: `${paymentId}:${status}`,
    eventType: `payment.${status.toLowerCase()}`,
    channel,
    paymentId,
    payload: JSON.stringify({ id: `${paymentId}:${status}` }),
    status: 'pending',
  };
}

for (const db of DATABASES) {
  describe(`${db.name} delivery store`, () => {
    let t: OpenedTestStore;
    beforeEach(async () => {
      t = await db.open();
    });
    afterEach(async () => {
      await t.close();
    });

    it('turns outbox rows into deliveries and marks them sent in one step, once per event and channel', async () => {
      const { store } = t;
      const p = samplePayment();
      await store.acceptPayment({
        payment: p,
        idempotency: idem(p, 'w1'),
        outbox: [{ topic: 'payment.event', messageId: `${p.id}:ACCEPTED`, payload: '{}' }],
      });
      const rows = await store.claimOutbox(['payment.event'], 10, 60_000, at(1));
      expect(
        await store.deliveries.insertFromOutbox(
          [delivery(p.id, 'ACCEPTED')],
          rows.map((r) => r.id),
          at(1),
        ),
      ).toBe(1);
      expect((await store.outboxStats()).pending).toBe(0);
      // a retry after a crash inserts nothing again
      expect(
        await store.deliveries.insertFromOutbox(
          [delivery(p.id, 'ACCEPTED')],
          rows.map((r) => r.id),
          at(2),
        ),
      ).toBe(0);
      expect(
        await store.deliveries.insert([delivery(p.id, 'ACCEPTED'), delivery(p.id, 'ACCEPTED', 'web')], at(2)),
      ).toBe(1);
      expect(await store.deliveries.count('pending')).toBe(2);
      expect((await store.deliveries.list({ paymentId: p.id, channel: 'web' })).map((d) => d.eventId)).toEqual([
        `${p.id}:ACCEPTED`,
      ]);
    });

    it("claims only a payment's oldest unfinished event, leases it, and records each kind of result", async () => {
      const d = t.store.deliveries;
      await d.insert([delivery('p1', 'ACCEPTED'), delivery('p1', 'APPLIED'), delivery('p2', 'ACCEPTED', 'web')], at(0));
      const first = await d.claimDue(10, 60_000, at(1));
      expect(first.map((x) => x.eventId)).toEqual(['p1:ACCEPTED', 'p2:ACCEPTED']);
      expect(await d.claimDue(10, 60_000, at(2))).toEqual([]); // leased, and p1's next waits
      const [a, b] = first;
      if (!a || !b) throw new Error('claims missing');
      await d.record(
        [
          { id: a.id, kind: 'delivered', httpStatus: 204 },
          { id: b.id, kind: 'retry', httpStatus: 500, error: 'HTTP 500', nextAttemptAt: at(30) },
        ],
        at(3),
      );
      expect((await d.claimDue(10, 60_000, at(4))).map((x) => x.eventId)).toEqual(['p1:APPLIED']);
      const retried = await d.claimDue(10, 60_000, at(31));
      expect(retried).toMatchObject([
        { eventId: 'p2:ACCEPTED', attempts: 1, lastStatus: 500, firstFailedAt: at(3).toISOString() },
      ]);
      await d.record([{ id: b.id, kind: 'dead', httpStatus: null, error: 'gave up' }], at(32));
      expect(await d.count('dead')).toBe(1);
      expect(await d.count('delivered')).toBe(1);
    });

    it("counts the unfinished deliveries (pending, failed) per channel with the oldest one's creation time", async () => {
      const d = t.store.deliveries;
      expect(await d.backlog()).toEqual([]);
      await d.insert([delivery('p1', 'ACCEPTED'), delivery('p1', 'APPLIED')], at(0));
      await d.insert([delivery('p2', 'ACCEPTED', 'web')], at(5));
      const [a, b] = await d.claimDue(10, 60_000, at(6));
      if (!a || !b) throw new Error('claims missing');
      await d.record(
        [
          { id: a.id, kind: 'delivered', httpStatus: 204 },
          { id: b.id, kind: 'retry', httpStatus: 500, error: 'HTTP 500', nextAttemptAt: at(30) },
        ],
        at(7),
      );
      const byChannel = async (): Promise<unknown[]> =>
        [...(await d.backlog())].sort((x, y) => x.channel.localeCompare(y.channel));
      expect(await byChannel()).toEqual([
        { channel: 'app', waiting: 1, oldestCreatedAt: at(0).toISOString() },
        { channel: 'web', waiting: 1, oldestCreatedAt: at(5).toISOString() },
      ]);
      await d.claimDue(10, 60_000, at(31));
      await d.record([{ id: b.id, kind: 'dead', httpStatus: null, error: 'gave up' }], at(32));
      expect(await byChannel()).toEqual([{ channel: 'app', waiting: 1, oldestCreatedAt: at(0).toISOString() }]);
    });

    it('skips channels at their share, releases surplus untried, and drops leases after a crash', async () => {
      const d = t.store.deliveries;
      await d.insert(
        [delivery('p1', 'ACCEPTED'), delivery('p2', 'ACCEPTED', 'web'), delivery('p3', 'ACCEPTED', 'atm')],
        at(0),
      );
      expect((await d.claimDue(10, 60_000, at(1), ['app', 'web'])).map((x) => x.eventId)).toEqual(['p3:ACCEPTED']);
      const two = await d.claimDue(10, 60_000, at(1));
      expect(two).toHaveLength(2);
      await d.release([two[0]?.id ?? 0], at(2));
      expect((await d.claimDue(10, 60_000, at(2))).map((x) => x.id)).toEqual([two[0]?.id]);
      expect(await d.dropLeases(at(3))).toBe(3);
      expect(await d.claimDue(10, 60_000, at(3))).toHaveLength(3);
    });

    it('a 410 disables the endpoint until enabled; redelivery reopens dead and skipped ones', async () => {
      const d = t.store.deliveries;
      await d.insert([delivery('p1', 'ACCEPTED'), delivery('p2', 'ACCEPTED')], at(0));
      await d.insert([{ ...delivery('p3', 'ACCEPTED', 'web'), status: 'skipped_no_endpoint' }], at(0));
      const [one] = await d.claimDue(1, 60_000, at(1));
      if (!one) throw new Error('no claim');
      await d.record([{ id: one.id, kind: 'gone', channel: 'app' }], at(2));
      expect(await d.disabledChannels()).toEqual(['app']);
      expect(await d.endpoint('app')).toMatchObject({ disabledReason: 'the endpoint answered 410 Gone' });
      expect(await d.endpoint('web')).toEqual({ channel: 'web', disabledAt: null, disabledReason: null });
      expect(await d.claimDue(10, 60_000, at(100))).toEqual([]);
      expect(await d.enable('app', at(101))).toEqual({ wasDisabled: true, waiting: 2 });
      expect(await d.enable('app', at(101))).toEqual({ wasDisabled: false, waiting: 0 });
      const due = await d.claimDue(10, 60_000, at(101));
      expect(due).toHaveLength(2);
      await d.record(
        due.map((x) => ({ id: x.id, kind: 'dead' as const, httpStatus: 500, error: 'x' })),
        at(102),
      );
      expect((await d.redeliver({ dead: true, channel: 'app' }, at(103))).map((x) => x.status)).toEqual([
        'pending',
        'pending',
      ]);
      expect(await d.redeliver({ skipped: true }, at(103))).toHaveLength(1);
      expect(await d.redeliver({ id: 'p1:ACCEPTED' }, at(104))).toHaveLength(1);
      expect(await d.redeliver({}, at(104))).toEqual([]);
    });

    it('two dispatchers on one database never claim the same delivery', async () => {
      const other = (await t.another()).deliveries;
      const d = t.store.deliveries;
      await d.insert(
        Array.from({ length: 60 }, (_, i) => delivery(`p${i}`, 'ACCEPTED')),
        at(0),
      );
      const claims = await Promise.all([
        d.claimDue(20, 60_000, at(1)),
        other.claimDue(20, 60_000, at(1)),
        d.claimDue(20, 60_000, at(1)),
        other.claimDue(20, 60_000, at(1)),
      ]);
      const ids = claims.flat().map((x) => x.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(60);
    });
  });
}
