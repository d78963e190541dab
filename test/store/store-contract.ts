import { minorUnits } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import type { IdempotencyRecord, PaymentStore } from '../../store/store-port';

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

function idem(p: Payment, key: string, fingerprint = 'f1'): IdempotencyRecord {
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

export function storeContract(name: string, open: () => Promise<PaymentStore>): void {
  describe(`${name} store`, () => {
    let store: PaymentStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
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
  });
}
