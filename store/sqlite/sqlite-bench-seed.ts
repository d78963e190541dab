import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Core } from '../../domain/channel';

// Benchmarks only: writes `count` APPLIED payments of one core and business date straight into a hub
// file that openSqliteStore has already migrated, with their `core_applied` event, 20,000 per
// transaction. Going through the API would make the benchmark measure the API instead of the batch.

export function seedAppliedPayments(opts: {
  readonly file: string;
  readonly count: number;
  readonly core: Core;
  readonly businessDate: string;
  readonly onProgress?: (done: number) => void;
}): void {
  const db = new Database(opts.file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const payment = db.prepare(`INSERT INTO payments (id, receipt_number, channel, client_id, channel_reference,
      loan_number, core, amount_minor, currency, business_date, status, reason, core_reference, created_at, updated_at)
      VALUES (?, ?, 'agents', 'agents-client', ?, ?, ?, ?, ?, ?, 'APPLIED', NULL, ?, ?, ?)`);
    const event = db.prepare(`INSERT INTO payment_events (payment_id, from_status, to_status, event, reason, at)
      VALUES (?, 'ACCEPTED', 'APPLIED', 'core_applied', NULL, ?)`);
    const prefix = { cash: '1', mortgage: '2', vehicle: '3' }[opts.core];
    const at = `${opts.businessDate}T15:00:00.000Z`;
    const chunk = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const id = randomUUID();
        const loan = `${prefix}${String(i % 100_000_000_000).padStart(11, '0')}`;
        payment.run(
          id,
          `AG${opts.businessDate.replace(/-/g, '')}${String(i).padStart(10, '0')}`,
          `AG${String(i % 1_000_000).padStart(6, '0')}-${String(i).padStart(8, '0')}`,
          loan,
          opts.core,
          BigInt(100 + (i % 500_000)),
          i % 10 === 0 ? 'USD' : 'PEN',
          opts.businessDate,
          `CORE-${String(i).padStart(12, '0')}`,
          at,
          at,
        );
        event.run(id, at);
      }
    });
    for (let from = 0; from < opts.count; from += 20_000) {
      const to = Math.min(opts.count, from + 20_000);
      chunk(from, to);
      opts.onProgress?.(to);
    }
  } finally {
    db.close();
  }
}
