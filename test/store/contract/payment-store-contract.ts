import { minorUnits } from '../../../domain/money';
import type { Payment } from '../../../domain/payment';
import type { IdempotencyRecord, PaymentStore } from '../../../store/store-port';
import type { OpenedTestStore, TestDatabase } from './test-databases';

// One contract suite for every PaymentStore implementation (STYLE habit 10).

let seq = 0;
export function samplePayment(overrides: Partial<Payment> = {}): Payment {
  seq += 1;
  const id = `0190a000-0000-7000-8000-${seq.toString().padStart(12, '0')}`;
  return {
    id,
    receiptNumber: `A-20261123-${seq.toString().padStart(9, '0')}`,
    channel: 'app',
    clientId: 'app-client',
    channelReference: `ref-${seq}`,
    loanNumber: '100000000017',
    core: 'cash',
    amount: minorUnits(12550n),
    currency: 'PEN',
    businessDate: '2026-11-23',
    status: 'ACCEPTED',
    reason: null,
    coreReference: null,
    createdAt: '2026-11-23T15:00:00.000Z',
    updatedAt: '2026-11-23T15:00:00.000Z',
    ...overrides,
  };
}

export function idem(p: Payment, key: string, fingerprint = 'f1'): IdempotencyRecord {
  return {
    clientId: p.clientId,
    key,
    fingerprint,
    paymentId: p.id,
    responseStatus: 201,
    responseBody: JSON.stringify({ paymentId: p.id }),
    createdAt: p.createdAt,
    expiresAt: '2026-11-24T15:00:00.000Z',
  };
}

export function storeContract(db: TestDatabase): void {
  describe(`${db.name} payment store`, () => {
    let t: OpenedTestStore;
    let store: PaymentStore;
    beforeEach(async () => {
      t = await db.open();
      store = t.store;
    });
    afterEach(async () => {
      await t.close();
    });

    it('accepting a payment writes the payment, its key and its outbox row together', async () => {
      const p = samplePayment();
      const out = await store.acceptPayment({
        payment: p,
        idempotency: idem(p, 'k1'),
        outbox: [{ topic: 'core.command', messageId: `${p.id}:apply_payment`, payload: '{"x":1}' }],
      });
      expect(out.kind).toBe('created');
      expect(await store.getPayment(p.id)).toEqual(p);
      expect(await store.findIdempotency('app-client', 'k1')).toMatchObject({ paymentId: p.id, fingerprint: 'f1' });
      const rows = await store.claimOutbox(['core.command'], 10, 60_000, new Date('2026-11-23T15:00:01Z'));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        paymentId: p.id,
        messageId: `${p.id}:apply_payment`,
        payload: '{"x":1}',
        attempts: 1,
      });
    });

    it('a second acceptance with the same key returns the first record and writes nothing', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k2'), outbox: [] });
      const q = samplePayment();
      const out = await store.acceptPayment({ payment: q, idempotency: idem(q, 'k2', 'f2'), outbox: [] });
      expect(out).toEqual({
        kind: 'existing',
        idempotency: expect.objectContaining({ paymentId: p.id, fingerprint: 'f1' }),
      });
      expect(await store.getPayment(q.id)).toBeNull();
    });

    it('a failed acceptance leaves nothing half-written', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k3'), outbox: [] });
      // Same receipt number: the payment insert fails after nothing else of it was kept.
      const q = samplePayment({ receiptNumber: p.receiptNumber });
      await expect(
        store.acceptPayment({
          payment: q,
          idempotency: idem(q, 'k4'),
          outbox: [{ topic: 'core.command', messageId: 'm', payload: '{}' }],
        }),
      ).resolves.toEqual({ kind: 'receipt_taken' });
      expect(await store.getPayment(q.id)).toBeNull();
      expect(await store.findIdempotency('app-client', 'k4')).toBeNull();
      expect((await store.outboxStats()).pending).toBe(0);
    });

    it('a leased outbox row is not claimed again until released, then after its retry time', async () => {
      const p = samplePayment();
      await store.acceptPayment({
        payment: p,
        idempotency: idem(p, 'k5'),
        outbox: [{ topic: 'core.command', messageId: 'm5', payload: '{}' }],
      });
      const t0 = new Date('2026-11-23T15:00:01Z');
      const [row] = await store.claimOutbox(['core.command'], 10, 60_000, t0);
      expect(row).toBeDefined();
      expect(await store.claimOutbox(['core.command'], 10, 60_000, t0)).toEqual([]);
      if (!row) return;
      await store.releaseOutbox(row.id, 'broker down', new Date('2026-11-23T15:00:05Z'));
      expect(await store.claimOutbox(['core.command'], 10, 60_000, new Date('2026-11-23T15:00:04Z'))).toEqual([]);
      const again = await store.claimOutbox(['core.command'], 10, 60_000, new Date('2026-11-23T15:00:06Z'));
      expect(again.map((r) => [r.id, r.attempts])).toEqual([[row.id, 2]]);
      await store.markOutboxSent(row.id, new Date());
      expect(await store.claimOutbox(['core.command'], 10, 60_000, new Date('2026-11-23T16:00:00Z'))).toEqual([]);
      expect((await store.outboxStats()).pending).toBe(0);
    });

    it('an expired lease makes the row claimable by another relay', async () => {
      const p = samplePayment();
      await store.acceptPayment({
        payment: p,
        idempotency: idem(p, 'k6'),
        outbox: [{ topic: 'core.command', messageId: 'm6', payload: '{}' }],
      });
      await store.claimOutbox(['core.command'], 10, 1_000, new Date('2026-11-23T15:00:01Z'));
      const later = await store.claimOutbox(['core.command'], 10, 1_000, new Date('2026-11-23T15:00:03Z'));
      expect(later).toHaveLength(1);
    });

    it('recording a core result moves the state once and writes its outbox rows with it', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k7'), outbox: [] });
      const first = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'core_applied' },
        coreReference: 'CORE-1',
        at: '2026-11-23T15:00:02.000Z',
        outbox: (after) => [{ topic: 'payment.event', messageId: `${after.id}:${after.status}`, payload: '{}' }],
      });
      expect(first).toMatchObject({ kind: 'done', result: { kind: 'changed', status: 'APPLIED' } });
      const again = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'core_applied' },
        at: '2026-11-23T15:00:03.000Z',
        outbox: () => [{ topic: 'payment.event', messageId: 'dup', payload: '{}' }],
      });
      expect(again).toMatchObject({ kind: 'done', result: { kind: 'unchanged', status: 'APPLIED' } });
      expect(await store.getPayment(p.id)).toMatchObject({ status: 'APPLIED', coreReference: 'CORE-1' });
      const rows = await store.claimOutbox(['payment.event'], 10, 1_000, new Date('2026-11-23T16:00:00Z'));
      expect(rows.map((r) => r.messageId)).toEqual([`${p.id}:APPLIED`]);
      const illegal = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'core_rejected', reason: 'x' },
        at: '2026-11-23T15:00:04.000Z',
        outbox: () => [],
      });
      expect(illegal).toMatchObject({ result: { kind: 'illegal' } });
      expect(
        await store.recordEvent({ paymentId: 'nope', event: { type: 'core_applied' }, at: '', outbox: () => [] }),
      ).toEqual({
        kind: 'not_found',
      });
    });

    it("finds a channel's payments by its own reference only", async () => {
      const p = samplePayment({ channelReference: 'ATM01-000123' });
      const q = samplePayment({ channelReference: 'ATM01-000123', channel: 'web', clientId: 'web-client' });
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k8'), outbox: [] });
      await store.acceptPayment({ payment: q, idempotency: idem(q, 'k8'), outbox: [] });
      expect((await store.findPaymentsByReference('app', 'ATM01-000123')).map((x) => x.id)).toEqual([p.id]);
    });

    it('keeps amounts exact beyond 2^53 minor units', async () => {
      const p = samplePayment({ amount: minorUnits(9_007_199_254_740_993n) });
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k9'), outbox: [] });
      expect((await store.getPayment(p.id))?.amount).toBe(9_007_199_254_740_993n);
    });

    it('purges idempotency keys after they expire', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'k10'), outbox: [] });
      expect(await store.purgeExpiredIdempotency(new Date('2026-11-24T14:00:00Z'))).toBe(0);
      expect(await store.purgeExpiredIdempotency(new Date('2026-11-24T16:00:00Z'))).toBe(1);
      expect(await store.findIdempotency('app-client', 'k10')).toBeNull();
    });

    it('a key past its retention is free again: not found, and a new payment may take it', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'exp'), outbox: [] });
      expect(await store.findIdempotency('app-client', 'exp', new Date('2026-11-24T14:59:59Z'))).not.toBeNull();
      expect(await store.findIdempotency('app-client', 'exp', new Date('2026-11-24T15:00:00Z'))).toBeNull();
      const later = samplePayment({ createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z' });
      const out = await store.acceptPayment({
        payment: later,
        idempotency: { ...idem(later, 'exp', 'f2'), expiresAt: '2026-11-26T10:00:00.000Z' },
        outbox: [],
      });
      expect(out.kind).toBe('created');
      expect(await store.findIdempotency('app-client', 'exp')).toMatchObject({
        paymentId: later.id,
        fingerprint: 'f2',
      });
      // the earlier payment is untouched; only its key was given up
      expect(await store.getPayment(p.id)).toEqual(p);
    });

    it('a key still within its retention is not taken by a later payment', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'keep'), outbox: [] });
      const q = samplePayment({ createdAt: '2026-11-24T14:00:00.000Z' });
      const out = await store.acceptPayment({ payment: q, idempotency: idem(q, 'keep', 'f2'), outbox: [] });
      expect(out).toMatchObject({ kind: 'existing', idempotency: { paymentId: p.id } });
    });

    it('the purge keeps the table bounded: only expired keys and lapsed in-flight marks go', async () => {
      for (let i = 0; i < 5; i += 1) {
        const p = samplePayment();
        const expiresAt = i < 3 ? '2026-11-24T15:00:00.000Z' : '2026-11-30T15:00:00.000Z';
        await store.acceptPayment({ payment: p, idempotency: { ...idem(p, `b${i}`), expiresAt }, outbox: [] });
      }
      await store.claimIdempotencyKey(
        'app-client',
        'busy',
        'h1',
        new Date('2026-11-24T15:01:00Z'),
        new Date('2026-11-24T15:00:00Z'),
      );
      expect(await store.purgeExpiredIdempotency(new Date('2026-11-25T00:00:00Z'))).toBe(3);
      expect(await store.purgeExpiredIdempotency(new Date('2026-11-25T00:00:00Z'))).toBe(0);
      for (let i = 0; i < 5; i += 1) {
        expect((await store.findIdempotency('app-client', `b${i}`)) === null).toBe(i < 3);
      }
      // the lapsed mark went with the purge: a new holder takes the key at an earlier clock than its lease
      expect(
        await store.claimIdempotencyKey(
          'app-client',
          'busy',
          'h2',
          new Date('2026-11-24T15:02:00Z'),
          new Date('2026-11-24T15:00:30Z'),
        ),
      ).toBe(true);
    });

    it('an in-flight mark refuses another holder until released or until its lease runs out', async () => {
      const t0 = new Date('2026-11-23T15:00:00Z');
      const until = new Date('2026-11-23T15:01:00Z');
      expect(await store.claimIdempotencyKey('app-client', 'f', 'a', until, t0)).toBe(true);
      expect(await store.claimIdempotencyKey('app-client', 'f', 'b', until, t0)).toBe(false);
      // another client's key of the same name is its own
      expect(await store.claimIdempotencyKey('web-client', 'f', 'b', until, t0)).toBe(true);
      await store.releaseIdempotencyKey('app-client', 'f', 'b'); // not b's mark: stays
      expect(await store.claimIdempotencyKey('app-client', 'f', 'b', until, t0)).toBe(false);
      await store.releaseIdempotencyKey('app-client', 'f', 'a');
      expect(await store.claimIdempotencyKey('app-client', 'f', 'b', until, t0)).toBe(true);
      // b dies holding it: after the lease, c gets it
      expect(
        await store.claimIdempotencyKey(
          'app-client',
          'f',
          'c',
          new Date('2026-11-23T15:03:00Z'),
          new Date('2026-11-23T15:00:59Z'),
        ),
      ).toBe(false);
      expect(
        await store.claimIdempotencyKey(
          'app-client',
          'f',
          'c',
          new Date('2026-11-23T15:03:00Z'),
          new Date('2026-11-23T15:01:00Z'),
        ),
      ).toBe(true);
    });

    it('a second instance on the same database sees the in-flight mark and the key', async () => {
      const other = await t.another();
      const t0 = new Date('2026-11-23T15:00:00Z');
      expect(await store.claimIdempotencyKey('app-client', 'x', 'a', new Date('2026-11-23T15:01:00Z'), t0)).toBe(true);
      expect(await other.claimIdempotencyKey('app-client', 'x', 'b', new Date('2026-11-23T15:01:00Z'), t0)).toBe(false);
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'x'), outbox: [] });
      const q = samplePayment();
      expect(await other.acceptPayment({ payment: q, idempotency: idem(q, 'x'), outbox: [] })).toMatchObject({
        kind: 'existing',
        idempotency: { paymentId: p.id },
      });
    });

    it('concurrent acceptances with one key on two instances create exactly one payment', async () => {
      const other = await t.another();
      const tries = Array.from({ length: 10 }, (_, i) => {
        const p = samplePayment();
        return (i % 2 === 0 ? store : other).acceptPayment({
          payment: p,
          idempotency: idem(p, 'race'),
          outbox: [{ topic: 'core.command', messageId: `${p.id}:apply_payment`, payload: '{}' }],
        });
      });
      const outcomes = await Promise.all(tries);
      expect(outcomes.filter((o) => o.kind === 'created')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'existing')).toHaveLength(9);
      expect((await store.outboxStats()).pending).toBe(1);
    });

    it('the daily limit per loan counts taken payments, and a rejected one gives its amount back', async () => {
      const limit = 30000n;
      const a = samplePayment({ amount: minorUnits(20000n) });
      const b = samplePayment({ amount: minorUnits(15000n) });
      expect(
        (await store.acceptPayment({ payment: a, idempotency: idem(a, 'd1'), outbox: [], maxPerLoanPerDay: limit }))
          .kind,
      ).toBe('created');
      expect(
        await store.acceptPayment({ payment: b, idempotency: idem(b, 'd2'), outbox: [], maxPerLoanPerDay: limit }),
      ).toEqual({
        kind: 'daily_limit_exceeded',
        alreadyTaken: 20000n,
      });
      expect(await store.getPayment(b.id)).toBeNull();
      expect(await store.findIdempotency('app-client', 'd2')).toBeNull();
      await store.recordEvent({
        paymentId: a.id,
        event: { type: 'core_rejected', reason: 'x' },
        at: '2026-11-23T15:00:02.000Z',
        outbox: () => [],
      });
      expect(
        (await store.acceptPayment({ payment: b, idempotency: idem(b, 'd3'), outbox: [], maxPerLoanPerDay: limit }))
          .kind,
      ).toBe('created');
    });

    it('a reversal stores its key with the change, replays by key, and obeys the guard', async () => {
      const p = samplePayment();
      await store.acceptPayment({ payment: p, idempotency: idem(p, 'r0'), outbox: [] });
      await store.recordEvent({
        paymentId: p.id,
        event: { type: 'core_applied' },
        at: '2026-11-23T15:00:02.000Z',
        outbox: () => [],
      });
      const refused = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'reversal_requested' },
        at: '2026-11-23T15:00:03.000Z',
        outbox: () => [],
        guard: () => 'reversal_window_closed',
      });
      expect(refused).toMatchObject({
        kind: 'refused',
        reason: 'reversal_window_closed',
        payment: { status: 'APPLIED' },
      });
      const record = (after: Payment): IdempotencyRecord => ({ ...idem(after, 'rev'), responseStatus: 202 });
      const first = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'reversal_requested' },
        at: '2026-11-23T15:00:04.000Z',
        outbox: (after) => [{ topic: 'core.command', messageId: `${after.id}:reverse`, payload: '{}' }],
        idempotency: { clientId: 'app-client', key: 'rev', record },
      });
      expect(first).toMatchObject({ kind: 'done', result: { kind: 'changed' } });
      const again = await store.recordEvent({
        paymentId: p.id,
        event: { type: 'reversal_requested' },
        at: '2026-11-23T15:00:05.000Z',
        outbox: () => [],
        idempotency: { clientId: 'app-client', key: 'rev', record },
      });
      expect(again).toMatchObject({ kind: 'existing', idempotency: { responseStatus: 202 } });
      expect(await store.getPayment('no-such')).toBeNull();
    });

    it('renews leases of rows in flight, drops every lease at once, and counts what is pending', async () => {
      const p = samplePayment();
      await store.acceptPayment({
        payment: p,
        idempotency: idem(p, 'l1'),
        outbox: [
          { topic: 'core.command', messageId: 'l1a', payload: '{}' },
          { topic: 'payment.event', messageId: 'l1b', payload: '{}' },
        ],
      });
      expect(await store.outboxStats()).toEqual({ pending: 2, oldestPendingAt: p.createdAt });
      const t0 = new Date('2026-11-23T15:00:01Z');
      const rows = await store.claimOutbox(['core.command', 'payment.event'], 10, 1_000, t0);
      expect(rows.map((r) => r.messageId)).toEqual(['l1a', 'l1b']);
      await store.renewOutboxLeases(
        rows.map((r) => r.id),
        new Date('2026-11-23T15:10:00Z'),
      );
      expect(await store.claimOutbox(['core.command'], 10, 1_000, new Date('2026-11-23T15:05:00Z'))).toEqual([]);
      expect(await store.releaseAllOutboxLeases()).toBe(2);
      expect(await store.claimOutbox(['payment.event'], 10, 1_000, new Date('2026-11-23T15:05:00Z'))).toHaveLength(1);
      await store.ping();
    });
  });
}
