import type { Core } from '../../../domain/channel';
import { minorUnits } from '../../../domain/money';
import type { Payment } from '../../../domain/payment';
import type { PaymentStore } from '../../../store/store-port';
import { idem, samplePayment } from './payment-store-contract';
import { DATABASES, type OpenedTestStore } from './test-databases';

// The BatchStore contract (the mainframe files' tables) on SQLite and on the test PostgreSQL.

async function applied(store: PaymentStore, overrides: Partial<Payment> = {}): Promise<Payment> {
  const p = samplePayment(overrides);
  await store.acceptPayment({ payment: p, idempotency: idem(p, `k-${p.id}`), outbox: [] });
  await store.recordEvent({
    paymentId: p.id,
    event: { type: 'core_applied' },
    coreReference: `CORE-${p.id.slice(-4)}`,
    at: '2026-11-23T16:00:00.000Z',
    outbox: () => [],
  });
  return p;
}

const fileInput = (core: Core, businessDate = '2026-11-23') => ({
  core,
  businessDate,
  createdStamp: '20261123230000',
  at: '2026-11-24T04:00:00.000Z',
  nameFor: (seq: number) =>
    `LH.${core.toUpperCase()}.D${businessDate.replaceAll('-', '')}.S${String(seq).padStart(2, '0')}`,
});

for (const db of DATABASES) {
  describe(`${db.name} batch store`, () => {
    let t: OpenedTestStore;
    beforeEach(async () => {
      t = await db.open();
    });
    afterEach(async () => {
      await t.close();
    });

    it('a file takes every applied payment of its core and date once, with totals and hash total', async () => {
      const { store } = t;
      const a = await applied(store, { loanNumber: '999999999999', amount: minorUnits(12550n) });
      const b = await applied(store, { loanNumber: '999999999999', amount: minorUnits(100n), currency: 'USD' });
      await applied(store, { core: 'mortgage' });
      await applied(store, { businessDate: '2026-11-24' });
      const waiting = await store.batch.waitingPayments('cash', '2026-11-23');
      expect(waiting).toEqual({ count: 2, totalPen: 12550n, totalUsd: 100n });
      const dry: string[] = [];
      for await (const page of store.batch.waitingPaymentRows('cash', '2026-11-23', 1))
        dry.push(...page.map((r) => r.paymentId));
      expect(dry).toEqual([a.id, b.id].sort());
      expect(await store.batch.nextSequence('cash', '2026-11-23')).toBe(1);
      const file = await store.batch.createFile(fileInput('cash'));
      expect(file).toMatchObject({
        name: 'LH.CASH.D20261123.S01',
        sequence: 1,
        state: 'BUILT',
        recordCount: 2,
        totalPen: 12550n,
        totalUsd: 100n,
        hashTotal: (999999999999n * 2n) % 10n ** 18n,
      });
      expect(await store.batch.createFile(fileInput('cash'))).toBeNull();
      expect(await store.batch.nextSequence('cash', '2026-11-23')).toBe(2);
      const rows: string[] = [];
      for await (const page of store.batch.filePayments(file?.id ?? 0, 1)) {
        expect(page).toHaveLength(1);
        rows.push(...page.map((r) => r.paymentId));
        expect(page[0]).toMatchObject({ appliedAt: '2026-11-23T16:00:00.000Z', result: null });
      }
      expect(rows).toEqual([a.id, b.id].sort());
      expect(await store.batch.getFileByName('LH.CASH.D20261123.S01')).toEqual(file);
      // a payment in a file can no longer be reversed
      expect(
        await store.recordEvent({
          paymentId: a.id,
          event: { type: 'reversal_requested' },
          at: '2026-11-24T05:00:00.000Z',
          outbox: () => [],
        }),
      ).toMatchObject({ kind: 'refused', reason: 'payment_in_batch' });
    });

    it("a file's life is recorded: written, failed, sent, accepted, results, complete, alerted", async () => {
      const { store } = t;
      const p = await applied(store);
      const file = await store.batch.createFile(fileInput('cash'));
      if (!file) throw new Error('no file');
      await store.batch.recordWritten(file.id, 'ab'.repeat(32), 400);
      await store.batch.recordSendFailure(file.id, 'connection refused', '2026-11-24T04:01:00.000Z');
      expect(await store.batch.getFile(file.id)).toMatchObject({
        state: 'FAILED',
        attempts: 1,
        lastError: 'connection refused',
      });
      expect(await store.batch.datesToCatchUp('2026-11-25')).toEqual([{ core: 'cash', businessDate: '2026-11-23' }]);
      await store.batch.recordSent(file.id, '2026-11-24T04:02:00.000Z');
      await store.batch.recordAccepted(file.id, 'RESP.S01', '2026-11-24T05:00:00.000Z');
      await store.batch.recordResults(file.id, [
        { paymentId: p.id, result: 'P', reason: '', postingReference: 'POST-1' },
      ]);
      await store.batch.recordComplete(file.id, '2026-11-24T05:01:00.000Z', { posted: 1, rejected: 0 });
      await store.batch.recordAlerted(file.id, '2026-11-24T06:00:00.000Z');
      expect(await store.batch.getFile(file.id)).toMatchObject({
        state: 'COMPLETE',
        attempts: 2,
        lastError: null,
        sha256: 'ab'.repeat(32),
        sizeBytes: 400,
        responseName: 'RESP.S01',
        postedCount: 1,
        alertedAt: '2026-11-24T06:00:00.000Z',
      });
      for await (const page of store.batch.filePayments(file.id, 10)) expect(page[0]?.result).toBe('P');
      expect(await store.batch.datesToCatchUp('2026-11-25')).toEqual([]);
      expect(await store.batch.fileCounts()).toEqual([{ core: 'cash', state: 'COMPLETE', count: 1 }]);
      expect(
        await store.batch.listFiles({ states: ['COMPLETE'], core: 'cash', businessDate: '2026-11-23' }),
      ).toHaveLength(1);
      expect(await store.batch.listFiles({ states: ['SENT'] })).toEqual([]);
    });

    it('a refused file is resent as the next sequence with the same payments, and superseded', async () => {
      const { store } = t;
      await applied(store, { core: 'vehicle' });
      await applied(store, { core: 'vehicle' });
      const file = await store.batch.createFile(fileInput('vehicle'));
      if (!file) throw new Error('no file');
      await store.batch.recordSent(file.id, '2026-11-24T04:02:00.000Z');
      await store.batch.recordRefused(file.id, 'RESP.S01', 'bad header', '2026-11-24T05:00:00.000Z');
      const again = await store.batch.createResendFile(file.id, fileInput('vehicle'));
      expect(again).toMatchObject({ sequence: 2, resendOf: file.id, recordCount: 2, state: 'BUILT' });
      expect(await store.batch.getFile(file.id)).toMatchObject({
        state: 'REFUSED',
        supersededBy: again.id,
        responseReason: 'bad header',
      });
    });

    it('a lease is held by one holder at a time, renewed by it, and taken over once it runs out', async () => {
      const { batch } = t.store;
      const other = (await t.another()).batch;
      const t0 = new Date('2026-11-24T04:00:00Z');
      const until = new Date('2026-11-24T04:05:00Z');
      expect(await batch.acquireLease('night:cash', 'a', until, t0)).toBe(true);
      expect(await other.acquireLease('night:cash', 'b', until, t0)).toBe(false);
      expect(await batch.acquireLease('night:cash', 'a', new Date('2026-11-24T04:10:00Z'), t0)).toBe(true);
      expect(await other.acquireLease('night:cash', 'b', until, new Date('2026-11-24T04:06:00Z'))).toBe(false);
      const later = new Date('2026-11-24T04:20:00Z');
      expect(await other.acquireLease('night:cash', 'b', later, new Date('2026-11-24T04:10:00Z'))).toBe(true);
      await batch.releaseLease('night:cash', 'a'); // not a's any more: stays b's
      expect(await batch.acquireLease('night:cash', 'a', until, new Date('2026-11-24T04:10:00Z'))).toBe(false);
      await other.releaseLease('night:cash', 'b');
      expect(await batch.acquireLease('night:cash', 'a', until, new Date('2026-11-24T04:10:00Z'))).toBe(true);
    });

    it('two instances building the same file at once make one file, never two', async () => {
      const { store } = t;
      for (let i = 0; i < 20; i += 1) await applied(store);
      const other = await t.another();
      const files = await Promise.all([
        store.batch.createFile(fileInput('cash')),
        other.batch.createFile(fileInput('cash')),
      ]);
      const made = files.filter((f) => f !== null);
      expect(made.map((f) => f?.recordCount).reduce((x, y) => (x ?? 0) + (y ?? 0), 0)).toBe(20);
      expect(new Set(made.map((f) => f?.sequence)).size).toBe(made.length);
    });
  });
}
