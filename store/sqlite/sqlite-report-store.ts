import type Database from 'better-sqlite3';
import { isChannel, isCore } from '../../domain/channel';
import { isCurrency } from '../../domain/money';
import type {
  CountAndSum,
  DayTotalRow,
  DeadLetterCountRow,
  OutboxBacklogRow,
  ReportStore,
  StatementRow,
  WebhookBacklogRow,
} from '../report-store-port';

// The report queries on the hub's SQLite file, on the store's connection (read-only). The statement is
// one GROUP BY over the (business_date, core, status) index: a day of 1M payments costs one scan of that
// day's index range, and memory holds 5 channels × 3 cores × 2 currencies rows at most.

const STATES = {
  accepted: '1',
  applied: "status IN ('APPLIED', 'REVERSAL_PENDING', 'REVERSED', 'POSTED', 'POST_REJECTED')",
  rejected: "status = 'REJECTED'",
  reversed: "status = 'REVERSED'",
  posted: "status = 'POSTED'",
  postRejected: "status = 'POST_REJECTED'",
  pending: "status IN ('ACCEPTED', 'REVERSAL_PENDING')",
} as const;
type StateKey = keyof typeof STATES;
const STATE_KEYS = Object.keys(STATES) as StateKey[];

const STATEMENT_SQL = `SELECT channel, core, currency, ${STATE_KEYS.map(
  (k) =>
    `SUM(CASE WHEN ${STATES[k]} THEN 1 ELSE 0 END) AS ${k}_count, ` +
    `SUM(CASE WHEN ${STATES[k]} THEN amount_minor ELSE 0 END) AS ${k}_sum`,
).join(', ')}
  FROM payments WHERE business_date = ? GROUP BY channel, core, currency ORDER BY channel, core, currency`;

type Aggregate = Record<string, bigint | string | null>;

export function createSqliteReportStore(db: Database.Database): ReportStore {
  const statement = db.prepare(STATEMENT_SQL);
  const backlog = db.prepare(`SELECT o.topic AS topic, p.core AS core, COUNT(*) AS pending,
      MIN(o.created_at) AS oldest FROM outbox o JOIN payments p ON p.id = o.payment_id
      WHERE o.status = 'pending' GROUP BY o.topic, p.core ORDER BY o.topic, p.core`);
  const dayTotals = db.prepare(`SELECT business_date, currency, COUNT(*) AS n, SUM(amount_minor) AS net
      FROM payments WHERE business_date BETWEEN ? AND ? AND status NOT IN ('REJECTED', 'REVERSED')
      GROUP BY business_date, currency ORDER BY business_date, currency`);
  const tableExists = db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?");
  // The webhook and dead-letter tables are made by their own parts when they first open the file.
  const ifTable = <T>(name: string, sql: string, map: (r: Aggregate) => T): T[] => {
    if (!tableExists.get(name)) return [];
    return (db.prepare(sql).all() as Aggregate[]).map(map);
  };

  return Object.freeze({
    statement: async (businessDate: string): Promise<StatementRow[]> =>
      (statement.all(businessDate) as Aggregate[]).map((r) => {
        const { channel, core, currency } = r;
        if (!isChannel(channel) || !isCore(core) || !isCurrency(currency)) {
          throw new Error(`payments of ${businessDate} hold an unreadable channel/core/currency`);
        }
        const part = (k: StateKey): CountAndSum => ({
          count: Number(r[`${k}_count`] ?? 0n),
          sum: BigInt(r[`${k}_sum`] ?? 0n),
        });
        return {
          channel,
          core,
          currency,
          accepted: part('accepted'),
          applied: part('applied'),
          rejected: part('rejected'),
          reversed: part('reversed'),
          posted: part('posted'),
          postRejected: part('postRejected'),
          pending: part('pending'),
        };
      }),
    outboxBacklog: async (): Promise<OutboxBacklogRow[]> =>
      (backlog.all() as Aggregate[]).flatMap((r) =>
        isCore(r.core)
          ? [{ topic: String(r.topic), core: r.core, pending: Number(r.pending), oldestAt: strOrNull(r.oldest) }]
          : [],
      ),
    deadLetterCounts: async (): Promise<DeadLetterCountRow[]> =>
      ifTable(
        'dead_letters',
        'SELECT lane, status, COUNT(*) AS n FROM dead_letters GROUP BY lane, status ORDER BY lane, status',
        (r) => ({ lane: String(r.lane), status: String(r.status), count: Number(r.n) }),
      ),
    webhookBacklog: async (): Promise<WebhookBacklogRow[]> =>
      ifTable(
        'webhook_deliveries',
        `SELECT channel, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries
         WHERE status IN ('pending', 'failed', 'dead') GROUP BY channel, status ORDER BY channel, status`,
        (r) => ({
          channel: String(r.channel),
          status: String(r.status),
          count: Number(r.n),
          oldestAt: strOrNull(r.oldest),
        }),
      ),
    dayTotals: async (from: string, to: string): Promise<DayTotalRow[]> =>
      (dayTotals.all(from, to) as Aggregate[]).flatMap((r) =>
        isCurrency(r.currency)
          ? [
              {
                businessDate: String(r.business_date),
                currency: r.currency,
                count: Number(r.n),
                net: BigInt(r.net ?? 0n),
              },
            ]
          : [],
      ),
  });
}

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
