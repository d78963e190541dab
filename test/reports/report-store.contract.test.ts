import type { Channel, Core } from '../../domain/channel';
import { MESSAGE_SCHEMA_VERSION } from '../../outbox/transport-port';
import { minorUnits, type Currency } from '../../domain/money';
import type { PaymentEvent } from '../../domain/payment-state';
import type { HubDeadLetter } from '../../outbox/dead-letter-port';
import type { PaymentStore } from '../../store/store-port';
import { idem, samplePayment } from '../store/contract/payment-store-contract';
import {
  DATABASES,
  dropSchema,
  freshSchemaName,
  testPgUrl,
  type OpenedTestStore,
} from '../store/contract/test-databases';
import { main } from '../../cli/main';
import { openPgStore } from '../../store/postgres/pg-store';

// The report store's contract, run on SQLite and on the real PostgreSQL (LOANHUB_TEST_PG_URL; that half
// fails without it): the statement counts each payment of the date in every measure its state belongs
// to, sums to the minor unit, skips other dates; backlogs and day totals as the tables say.

interface Planned {
  readonly channel: Channel;
  readonly core: Core;
  readonly currency: Currency;
  readonly amount: bigint;
  readonly events: readonly PaymentEvent[];
  readonly date?: string;
}

const APPLIED: PaymentEvent = { type: 'core_applied' };
const PLAN: readonly Planned[] = [
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 12550n, events: [] },
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 1n, events: [APPLIED] },
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 99999n, events: [APPLIED, { type: 'mainframe_posted' }] },
  {
    channel: 'app',
    core: 'cash',
    currency: 'PEN',
    amount: 700n,
    events: [APPLIED, { type: 'mainframe_rejected', reason: 'R05' }],
  },
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 333n, events: [{ type: 'core_rejected', reason: 'x' }] },
  {
    channel: 'app',
    core: 'cash',
    currency: 'PEN',
    amount: 4444n,
    events: [APPLIED, { type: 'reversal_requested' }, { type: 'reversal_applied' }],
  },
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 5n, events: [APPLIED, { type: 'reversal_requested' }] },
  { channel: 'agents', core: 'vehicle', currency: 'USD', amount: 250075n, events: [APPLIED] },
  { channel: 'agents', core: 'vehicle', currency: 'USD', amount: 25n, events: [APPLIED, { type: 'mainframe_posted' }] },
  { channel: 'app', core: 'cash', currency: 'PEN', amount: 777n, events: [APPLIED], date: '2026-11-22' },
];

async function play(store: PaymentStore): Promise<void> {
  for (const [i, p] of PLAN.entries()) {
    const payment = samplePayment({
      channel: p.channel,
      core: p.core,
      currency: p.currency,
      amount: minorUnits(p.amount),
      businessDate: p.date ?? '2026-11-23',
      loanNumber: p.core === 'cash' ? '100000000017' : '300000000017',
    });
    const out = await store.acceptPayment({
      payment,
      idempotency: idem(payment, `k-${i}-${payment.id}`),
      outbox: [{ topic: 'core.command', messageId: `m-${payment.id}`, payload: '{}' }],
    });
    if (out.kind !== 'created') throw new Error(`not created: ${out.kind}`);
    for (const event of p.events) {
      const r = await store.recordEvent({ paymentId: payment.id, event, at: payment.createdAt, outbox: () => [] });
      if (r.kind !== 'done' || r.result.kind !== 'changed') throw new Error(`event ${event.type} did not apply`);
    }
  }
}

for (const db of DATABASES) {
  describe(`${db.name} report store`, () => {
    let t: OpenedTestStore;
    beforeAll(async () => {
      t = await db.open();
      await play(t.store);
    });
    afterAll(async () => {
      await t?.close();
    });
    const reports = () => {
      if (!t.store.reports) throw new Error(`${db.name} store has no reports`);
      return t.store.reports;
    };

    it('the statement of a date: every measure per channel × core × currency, to the minor unit', async () => {
      const rows = await reports().statement('2026-11-23');
      const cs = (count: number, sum: bigint) => ({ count, sum });
      expect(rows).toEqual([
        {
          channel: 'agents',
          core: 'vehicle',
          currency: 'USD',
          accepted: cs(2, 250100n),
          applied: cs(2, 250100n),
          rejected: cs(0, 0n),
          reversed: cs(0, 0n),
          posted: cs(1, 25n),
          postRejected: cs(0, 0n),
          pending: cs(0, 0n),
        },
        {
          channel: 'app',
          core: 'cash',
          currency: 'PEN',
          accepted: cs(7, 12550n + 1n + 99999n + 700n + 333n + 4444n + 5n),
          applied: cs(5, 1n + 99999n + 700n + 4444n + 5n),
          rejected: cs(1, 333n),
          reversed: cs(1, 4444n),
          posted: cs(1, 99999n),
          postRejected: cs(1, 700n),
          pending: cs(2, 12550n + 5n),
        },
      ]);
      expect(await reports().statement('2026-11-24')).toEqual([]);
    });

    it('day totals: what each date keeps (not rejected, not reversed) per currency', async () => {
      expect(await reports().dayTotals('2026-11-20', '2026-11-23')).toEqual([
        { businessDate: '2026-11-22', currency: 'PEN', count: 1, net: 777n },
        { businessDate: '2026-11-23', currency: 'PEN', count: 5, net: 12550n + 1n + 99999n + 700n + 5n },
        { businessDate: '2026-11-23', currency: 'USD', count: 2, net: 250100n },
      ]);
    });

    it('outbox backlog per topic and core; dead letters per lane and status; webhook backlog', async () => {
      const backlog = await reports().outboxBacklog();
      expect(backlog.map(({ topic, core, pending }) => ({ topic, core, pending }))).toEqual([
        { topic: 'core.command', core: 'cash', pending: 8 },
        { topic: 'core.command', core: 'vehicle', pending: 2 },
      ]);
      expect(backlog.every((b) => typeof b.oldestAt === 'string')).toBe(true);
      expect(await reports().deadLetterCounts()).toEqual([]);
      const dead: HubDeadLetter = {
        id: 'p1:apply_payment',
        lane: 'cash',
        reason: 'poison',
        attempts: 1,
        history: [{ attempt: 1, at: '2026-11-23T15:00:00.000Z', outcome: 'dead', reason: 'poison' }],
        deadAt: '2026-11-23T15:00:00.000Z',
        message: {
          schemaVersion: MESSAGE_SCHEMA_VERSION,
          messageId: 'p1:apply_payment',
          type: 'apply_payment',
          paymentId: 'p1',
          core: 'cash',
          correlationId: 'c1',
          timestamp: '2026-11-23T15:00:00.000Z',
          body: {
            loanNumber: '100000000017',
            amount: '1.00',
            currency: 'PEN',
            receiptNumber: 'A-1',
            channel: 'app',
            businessDate: '2026-11-23',
          },
        },
      };
      await t.deadLetters.add(dead);
      expect(await reports().deadLetterCounts()).toEqual([{ lane: 'cash', status: 'dead', count: 1 }]);
      expect(await reports().webhookBacklog()).toEqual([]);
    });
  });
}

describe('loanhub report daily on PostgreSQL (LOANHUB_DB_URL)', () => {
  it('prints the statement of the date from the PostgreSQL store', async () => {
    const url = testPgUrl();
    const schema = freshSchemaName('report');
    const store = await openPgStore({ url, schema, max: 2 });
    const saved = { ...process.env };
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await play(store);
      process.env.LOANHUB_DB_URL = url;
      process.env.LOANHUB_DB_SCHEMA = schema;
      expect(await main(['node', 'loanhub', 'report', 'daily', '--date', '2026-11-23', '--format', 'json'])).toBe(0);
    } finally {
      spy.mockRestore();
      process.env = saved;
      await store.close();
      await dropSchema(url, schema);
    }
    const json = JSON.parse(written.join('')) as { totals: { currency: string; net: unknown; posted: unknown }[] };
    expect(json.totals).toEqual([
      expect.objectContaining({
        currency: 'PEN',
        net: { count: 5, amount: '1132.55' },
        posted: { count: 1, amount: '999.99' },
      }),
      expect.objectContaining({
        currency: 'USD',
        net: { count: 2, amount: '2501.00' },
        posted: { count: 1, amount: '0.25' },
      }),
    ]);
  });
});
