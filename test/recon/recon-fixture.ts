import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Channel, Core } from '../../domain/channel';
import { coreForLoan } from '../../domain/core-routing';
import { minorUnits, type Currency } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import type { PaymentEvent } from '../../domain/payment-state';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../store/store-port';
import type { ReconStore } from '../../store/recon-store-port';
import type { TestDatabase } from '../store/contract/test-databases';

// A hub store in a temporary data dir, and payments written the way the hub writes them: accepted
// through acceptPayment, then moved by recordEvent (core applied, reversal, mainframe results).

export interface ReconFixture {
  readonly dir: string;
  readonly store: PaymentStore;
  readonly recon: ReconStore;
  close(): Promise<void>;
}

/** The same fixture on a database of the contract list (a fresh SQLite file, or a fresh PostgreSQL schema). */
export async function openFixtureOn(database: TestDatabase, prefix: string): Promise<ReconFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `loanhub-${prefix}-`));
  const opened = await database.open();
  const recon = opened.store.recon;
  if (!recon) throw new Error(`the ${database.name} store has no recon tables`);
  return {
    dir,
    store: opened.store,
    recon,
    close: async () => {
      await opened.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function openFixture(prefix: string): ReconFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `loanhub-${prefix}-`));
  const store = openSqliteStore({ file: path.join(dir, 'hub.db'), synchronous: 'NORMAL' });
  const recon = store.recon;
  if (!recon) throw new Error('the SQLite store has no recon tables');
  return {
    dir,
    store,
    recon,
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

export function referenceFor(channel: Channel, n: number): string {
  switch (channel) {
    case 'app':
      return `APP-${String(n).padStart(10, '0')}`;
    case 'web':
      return `WEB-${String(n).padStart(10, '0')}`;
    case 'agents':
      return `AG${String(4500 + (n % 7)).padStart(6, '0')}-${String(n).padStart(8, '0')}`;
    case 'atm':
      return `ATM${String(40 + (n % 5)).padStart(4, '0')}-${String(n).padStart(6, '0')}`;
    case 'stores':
      return `STORE${1 + (n % 9)}-${String(n).padStart(6, '0')}`;
    default: {
      const never: never = channel;
      throw new Error(`unknown channel ${String(never)}`);
    }
  }
}

export async function accept(
  store: PaymentStore,
  p: {
    channel: Channel;
    loanNumber: string;
    amount: bigint;
    currency?: Currency;
    businessDate: string;
    reference?: string;
  },
): Promise<Payment> {
  seq += 1;
  const core: Core | undefined = coreForLoan(p.loanNumber);
  if (!core) throw new Error(`no core for ${p.loanNumber}`);
  const at = `${p.businessDate}T15:${String(Math.floor(seq / 60) % 60).padStart(2, '0')}:${String(seq % 60).padStart(2, '0')}.000Z`;
  const payment: Payment = {
    id: `0190b000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    receiptNumber: `R-${p.businessDate.replaceAll('-', '')}-${String(seq).padStart(9, '0')}`,
    channel: p.channel,
    clientId: `${p.channel}-client`,
    channelReference: p.reference ?? referenceFor(p.channel, seq),
    loanNumber: p.loanNumber,
    core,
    amount: minorUnits(p.amount),
    currency: p.currency ?? 'PEN',
    businessDate: p.businessDate,
    status: 'ACCEPTED',
    reason: null,
    coreReference: null,
    createdAt: at,
    updatedAt: at,
  };
  const out = await store.acceptPayment({
    payment,
    idempotency: {
      clientId: payment.clientId,
      key: `k-${payment.id}`,
      fingerprint: 'f',
      paymentId: payment.id,
      responseStatus: 201,
      responseBody: '{}',
      createdAt: at,
      expiresAt: '2099-01-01T00:00:00.000Z',
    },
    outbox: [],
  });
  if (out.kind !== 'created') throw new Error(`payment not created: ${out.kind}`);
  return payment;
}

export async function move(
  store: PaymentStore,
  id: string,
  event: PaymentEvent,
  coreReference?: string,
): Promise<void> {
  const out = await store.recordEvent({
    paymentId: id,
    event,
    at: new Date().toISOString(),
    outbox: () => [],
    ...(coreReference ? { coreReference } : {}),
  });
  if (out.kind !== 'done' || out.result.kind === 'illegal')
    throw new Error(`event ${event.type} on ${id}: ${JSON.stringify(out.kind)}`);
}
