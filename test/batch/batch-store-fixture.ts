import { Writable } from 'node:stream';
import type { BatchDeps } from '../../batch/batch-deps';
import type { SftpConnector } from '../../batch/sftp-agent-port';
import { loadBusinessCalendar } from '../../config/business-calendar-file';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import type { Core } from '../../domain/channel';
import { minorUnits } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import { createLogger } from '../../logging/logger';
import type { PaymentStore } from '../../store/store-port';

// A store with APPLIED payments and the batch use cases' dependencies around it, for the batch tests
// that need the hub's own records (file states, leases) but not a whole hub.

let counter = 0;

/** `count` payments of `core` for `businessDate`, accepted and applied by their core; returns their ids. */
export async function seedApplied(
  store: PaymentStore,
  opts: { core: Core; businessDate: string; count: number; loanPrefix: string },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < opts.count; i += 1) {
    counter += 1;
    const p: Payment = {
      id: `0190c${String(process.pid % 1000).padStart(3, '0')}-0000-7000-8000-${String(counter).padStart(12, '0')}`,
      receiptNumber: `A-${opts.businessDate.replace(/-/g, '')}-${String(counter).padStart(9, '0')}`,
      channel: 'app',
      clientId: 'app-client',
      channelReference: `seed-${counter}`,
      loanNumber: `${opts.loanPrefix}${String(i % 1000).padStart(12 - opts.loanPrefix.length, '0')}`,
      core: opts.core,
      amount: minorUnits(BigInt(100 + i)),
      currency: 'PEN',
      businessDate: opts.businessDate,
      status: 'ACCEPTED',
      reason: null,
      coreReference: null,
      createdAt: `${opts.businessDate}T15:00:00.000Z`,
      updatedAt: `${opts.businessDate}T15:00:00.000Z`,
    };
    const accepted = await store.acceptPayment({
      payment: p,
      idempotency: {
        clientId: p.clientId,
        key: `seed-${p.id}`,
        fingerprint: 'seed',
        paymentId: p.id,
        responseStatus: 201,
        responseBody: '{}',
        createdAt: p.createdAt,
        expiresAt: '2026-12-31T00:00:00.000Z',
      },
      outbox: [],
    });
    if (accepted.kind !== 'created') throw new Error(`seeding ${p.id}: ${accepted.kind}`);
    const applied = await store.recordEvent({
      paymentId: p.id,
      event: { type: 'core_applied' },
      coreReference: `CORE-${counter}`,
      at: p.createdAt,
      outbox: () => [],
    });
    if (applied.kind !== 'done') throw new Error(`applying ${p.id}: ${applied.kind}`);
    ids.push(p.id);
  }
  return ids;
}

/** Log lines as parsed JSON, to check what an operator would read. */
export function logSink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

export function batchDepsFor(opts: {
  store: PaymentStore;
  connector: SftpConnector | null;
  dataDir: string;
  now: () => Date;
  logs?: Writable;
}): BatchDeps {
  return {
    store: opts.store,
    connector: opts.connector,
    page: mainframeCodePage('cp037'),
    dataDir: opts.dataDir,
    timeZone: 'America/Lima',
    calendar: loadBusinessCalendar({}),
    now: opts.now,
    logger: opts.logs ? createLogger({ level: 'info', destination: opts.logs }) : createLogger({ level: 'silent' }),
    retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 200 },
  };
}
