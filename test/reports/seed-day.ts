import { randomUUID } from 'node:crypto';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { CHANNELS, type Channel, type Core } from '../../domain/channel';
import type { Currency } from '../../domain/money';
import type { PaymentStatus } from '../../domain/payment-state';
import type { ReconRun } from '../../store/recon-store-port';
import { api, eventually, sampleReference, type TestHub } from '../integration/hub-fixture';

// A business day played through the API of a test hub: every channel pays every active sample loan
// (all three cores, PEN and USD), closed loans are paid and rejected by their core, a few payments are
// reversed the same day, and the mainframe posts some and rejects one. Returns every payment with the
// state it ended in, so a test can compute what the statement must say.

export interface SeededPayment {
  readonly id: string;
  readonly channel: Channel;
  readonly core: Core;
  readonly currency: Currency;
  /** Minor units. */
  readonly amount: bigint;
  status: PaymentStatus;
}

export interface SeededDay {
  readonly businessDate: string;
  readonly payments: SeededPayment[];
}

function decimal(minor: bigint): string {
  return `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
}

async function pay(t: TestHub, channel: Channel, loanNumber: string, currency: Currency, amount: bigint) {
  const r = await api(`${t.url}/v1/${channel}/payments`, {
    token: await t.token(channel),
    body: { loanNumber, amount: decimal(amount), currency, channelReference: sampleReference(channel) },
    headers: { 'idempotency-key': randomUUID() },
  });
  if (r.status !== 201) throw new Error(`payment refused: ${r.status} ${r.text}`);
  return String(r.json.paymentId);
}

async function settle(t: TestHub, p: SeededPayment, want: readonly PaymentStatus[]): Promise<PaymentStatus> {
  return eventually(
    async () => {
      const r = await api(`${t.url}/v1/${p.channel}/payments/${p.id}`, { token: await t.token(p.channel) });
      const s = r.json.status as PaymentStatus;
      return want.includes(s) ? s : undefined;
    },
    15_000,
    `payment ${p.id} to become ${want.join(' or ')}`,
  );
}

export async function seedDay(t: TestHub): Promise<SeededDay> {
  const store = t.hub.store;
  if (!store) throw new Error('the test hub has no store');
  const payments: SeededPayment[] = [];
  let k = 0n;
  const active = SAMPLE_LOANS.filter((l) => l.status === 'ACTIVE');
  const closed = SAMPLE_LOANS.filter((l) => l.status === 'CLOSED');
  for (const channel of CHANNELS) {
    for (const loan of active) {
      k += 1n;
      // 10.01 .. about 60: inside every channel's per-payment and per-day limits, and every loan's amount due
      const amount = 1000n + ((k * 137n) % 5000n);
      const id = await pay(t, channel, loan.loanNumber, loan.currency, amount);
      payments.push({ id, channel, core: loan.core, currency: loan.currency, amount, status: 'ACCEPTED' });
    }
  }
  for (const [i, loan] of closed.entries()) {
    const channel = CHANNELS[i % CHANNELS.length] ?? 'app';
    const id = await pay(t, channel, loan.loanNumber, loan.currency, 2500n + BigInt(i));
    payments.push({
      id,
      channel,
      core: loan.core,
      currency: loan.currency,
      amount: 2500n + BigInt(i),
      status: 'ACCEPTED',
    });
  }
  for (const p of payments) p.status = await settle(t, p, ['APPLIED', 'REJECTED']);

  // Same-day reversals: one per core.
  const applied = payments.filter((p) => p.status === 'APPLIED');
  const toReverse = (['cash', 'mortgage', 'vehicle'] as const).flatMap((core) =>
    applied.filter((p) => p.core === core).slice(0, 1),
  );
  for (const p of toReverse) {
    const r = await api(`${t.url}/v1/${p.channel}/payments/${p.id}/reversal`, {
      token: await t.token(p.channel),
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
    });
    if (r.status !== 202) throw new Error(`reversal refused: ${r.status} ${r.text}`);
    p.status = await settle(t, p, ['REVERSED']);
  }

  // The mainframe's answers, recorded the way the batch bridge records them (store.recordEvent).
  const stillApplied = payments.filter((p) => p.status === 'APPLIED');
  const posted = stillApplied.filter((_, i) => i % 3 === 0);
  const postRejected = stillApplied.filter((_, i) => i % 3 === 1).slice(0, 2);
  const at = new Date().toISOString();
  for (const [list, status] of [
    [posted, 'POSTED'],
    [postRejected, 'POST_REJECTED'],
  ] as const) {
    for (const p of list) {
      const out = await store.recordEvent({
        paymentId: p.id,
        event: status === 'POSTED' ? { type: 'mainframe_posted' } : { type: 'mainframe_rejected', reason: 'R05' },
        at,
        outbox: () => [],
      });
      if (out.kind !== 'done' || out.payment.status !== status) throw new Error(`could not mark ${p.id} ${status}`);
      p.status = status;
    }
  }
  const first = payments[0];
  const row = first ? await store.getPayment(first.id) : null;
  if (!row) throw new Error('no payment seeded');
  return { businessDate: row.businessDate, payments };
}

/** What the statement must say for one currency (and optionally one channel/core), from the payments made. */
export function expectedFigures(
  payments: readonly SeededPayment[],
  filter: { currency: Currency; channel?: Channel; core?: Core },
) {
  const mine = payments.filter(
    (p) =>
      p.currency === filter.currency &&
      (filter.channel === undefined || p.channel === filter.channel) &&
      (filter.core === undefined || p.core === filter.core),
  );
  const of = (pred: (p: SeededPayment) => boolean) => {
    const list = mine.filter(pred);
    return { count: list.length, amount: decimal(list.reduce((s, p) => s + p.amount, 0n)) };
  };
  const appliedStates: readonly PaymentStatus[] = [
    'APPLIED',
    'REVERSAL_PENDING',
    'REVERSED',
    'POSTED',
    'POST_REJECTED',
  ];
  return {
    accepted: of(() => true),
    applied: of((p) => appliedStates.includes(p.status)),
    rejected: of((p) => p.status === 'REJECTED'),
    reversed: of((p) => p.status === 'REVERSED'),
    posted: of((p) => p.status === 'POSTED'),
    postRejected: of((p) => p.status === 'POST_REJECTED'),
    pending: of((p) => p.status === 'ACCEPTED' || p.status === 'REVERSAL_PENDING'),
    net: of((p) => p.status !== 'REJECTED' && p.status !== 'REVERSED'),
  };
}

/**
 * Reconciles the seeded day on the hub's own store, with the agents' settlement file and the cash core's
 * extract expected but never loaded: the day cannot balance (SOURCE_MISSING breaks besides the rest).
 */
export async function reconcileSeededDay(t: TestHub, day: SeededDay): Promise<ReconRun> {
  const recon = t.hub.store?.recon;
  if (!recon) throw new Error('the test hub has no reconciliation tables');
  return recon.run({
    businessDate: day.businessDate,
    at: new Date().toISOString(),
    expectedChannels: ['agents'],
    expectedCores: ['cash'],
  });
}
