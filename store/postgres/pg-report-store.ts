import type { ReportStore } from '../report-store-port';
import {
  DEAD_LETTER_SQL,
  OUTBOX_BACKLOG_SQL,
  WEBHOOK_BACKLOG_SQL,
  dayTotalRowsOf,
  dayTotalsSql,
  deadLetterRowsOf,
  outboxRowsOf,
  statementRowOf,
  statementSql,
  webhookRowsOf,
  type Aggregate,
} from '../report-sql';
import type { PgDatabase } from './pg-pool';

// The report queries on PostgreSQL: the same SQL as SQLite (store/report-sql.ts), one statement each,
// no transaction held open; aggregates arrive as strings (BIGINT, NUMERIC) and map to bigint.

export function createPgReportStore(db: PgDatabase): ReportStore {
  return Object.freeze({
    statement: async (businessDate: string) =>
      (await db.query<Aggregate>(statementSql('$1'), [businessDate])).map((r) => statementRowOf(r, businessDate)),
    outboxBacklog: async () => outboxRowsOf(await db.query<Aggregate>(OUTBOX_BACKLOG_SQL)),
    deadLetterCounts: async () => deadLetterRowsOf(await db.query<Aggregate>(DEAD_LETTER_SQL)),
    webhookBacklog: async () => webhookRowsOf(await db.query<Aggregate>(WEBHOOK_BACKLOG_SQL)),
    dayTotals: async (from: string, to: string) =>
      dayTotalRowsOf(await db.query<Aggregate>(dayTotalsSql('$1', '$2'), [from, to])),
  });
}
