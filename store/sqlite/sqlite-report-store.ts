import type Database from 'better-sqlite3';
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

// The report queries on the hub's SQLite file, on the store's connection (read-only). The statement is
// one GROUP BY over the (business_date, core, status) index: a day of 1M payments costs one scan of that
// day's index range, and memory holds 5 channels × 3 cores × 2 currencies rows at most.

export function createSqliteReportStore(db: Database.Database): ReportStore {
  const statement = db.prepare(statementSql('?'));
  const backlog = db.prepare(OUTBOX_BACKLOG_SQL);
  const dayTotals = db.prepare(dayTotalsSql('?', '?'));
  const tableExists = db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?");
  // The webhook and dead-letter tables are made by their own parts when they first open the file.
  const ifTable = (name: string, sql: string): Aggregate[] =>
    tableExists.get(name) ? (db.prepare(sql).all() as Aggregate[]) : [];

  return Object.freeze({
    statement: async (businessDate: string) =>
      (statement.all(businessDate) as Aggregate[]).map((r) => statementRowOf(r, businessDate)),
    outboxBacklog: async () => outboxRowsOf(backlog.all() as Aggregate[]),
    deadLetterCounts: async () => deadLetterRowsOf(ifTable('dead_letters', DEAD_LETTER_SQL)),
    webhookBacklog: async () => webhookRowsOf(ifTable('webhook_deliveries', WEBHOOK_BACKLOG_SQL)),
    dayTotals: async (from: string, to: string) => dayTotalRowsOf(dayTotals.all(from, to) as Aggregate[]),
  });
}
