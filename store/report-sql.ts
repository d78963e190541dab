import { isChannel, isCore } from '../domain/channel';
import { isCurrency } from '../domain/money';
import type {
  CountAndSum,
  DayTotalRow,
  DeadLetterCountRow,
  OutboxBacklogRow,
  StatementRow,
  WebhookBacklogRow,
} from './report-store-port';

// The report queries' SQL, the same text on SQLite and PostgreSQL (only the parameter markers differ:
// `?` or `$1`), and the mapping of their rows, so both stores count a state the same way. Drivers give
// aggregates as bigint (better-sqlite3 with safe integers) or as strings (pg's BIGINT/NUMERIC): both map.

/** Which payments of the date each measure counts, by their current status. */
export const STATE_PREDICATES = {
  accepted: 'TRUE',
  applied: "status IN ('APPLIED', 'REVERSAL_PENDING', 'REVERSED', 'POSTED', 'POST_REJECTED')",
  rejected: "status = 'REJECTED'",
  reversed: "status = 'REVERSED'",
  posted: "status = 'POSTED'",
  postRejected: "status = 'POST_REJECTED'",
  pending: "status IN ('ACCEPTED', 'REVERSAL_PENDING')",
} as const;
type StateKey = keyof typeof STATE_PREDICATES;
const STATE_KEYS = Object.keys(STATE_PREDICATES) as StateKey[];

export type Aggregate = Record<string, bigint | string | number | null>;

/** One GROUP BY over the (business_date, core, status) index; `date` is the parameter marker. */
export function statementSql(date: string): string {
  const columns = STATE_KEYS.map(
    (k) =>
      `SUM(CASE WHEN ${STATE_PREDICATES[k]} THEN 1 ELSE 0 END) AS ${snake(k)}_count, ` +
      `SUM(CASE WHEN ${STATE_PREDICATES[k]} THEN amount_minor ELSE 0 END) AS ${snake(k)}_sum`,
  ).join(', ');
  return `SELECT channel, core, currency, ${columns} FROM payments WHERE business_date = ${date}
    GROUP BY channel, core, currency ORDER BY channel, core, currency`;
}

export const OUTBOX_BACKLOG_SQL = `SELECT o.topic AS topic, p.core AS core, COUNT(*) AS pending,
    MIN(o.created_at) AS oldest FROM outbox o JOIN payments p ON p.id = o.payment_id
    WHERE o.status = 'pending' GROUP BY o.topic, p.core ORDER BY o.topic, p.core`;

export const DEAD_LETTER_SQL =
  'SELECT lane, status, COUNT(*) AS n FROM dead_letters GROUP BY lane, status ORDER BY lane, status';

export const WEBHOOK_BACKLOG_SQL = `SELECT channel, status, COUNT(*) AS n, MIN(created_at) AS oldest
    FROM webhook_deliveries WHERE status IN ('pending', 'failed', 'dead')
    GROUP BY channel, status ORDER BY channel, status`;

export function dayTotalsSql(from: string, to: string): string {
  return `SELECT business_date, currency, COUNT(*) AS n, SUM(amount_minor) AS net FROM payments
    WHERE business_date BETWEEN ${from} AND ${to} AND status NOT IN ('REJECTED', 'REVERSED')
    GROUP BY business_date, currency ORDER BY business_date, currency`;
}

export function statementRowOf(r: Aggregate, businessDate: string): StatementRow {
  const { channel, core, currency } = r;
  if (!isChannel(channel) || !isCore(core) || !isCurrency(currency)) {
    throw new Error(`payments of ${businessDate} hold an unreadable channel/core/currency`);
  }
  const part = (k: StateKey): CountAndSum => ({
    count: Number(r[`${snake(k)}_count`] ?? 0),
    sum: BigInt(r[`${snake(k)}_sum`] ?? 0),
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
}

export function outboxRowsOf(rows: readonly Aggregate[]): OutboxBacklogRow[] {
  return rows.flatMap((r) =>
    isCore(r.core)
      ? [{ topic: String(r.topic), core: r.core, pending: Number(r.pending), oldestAt: textOrNull(r.oldest) }]
      : [],
  );
}

export function deadLetterRowsOf(rows: readonly Aggregate[]): DeadLetterCountRow[] {
  return rows.map((r) => ({ lane: String(r.lane), status: String(r.status), count: Number(r.n) }));
}

export function webhookRowsOf(rows: readonly Aggregate[]): WebhookBacklogRow[] {
  return rows.map((r) => ({
    channel: String(r.channel),
    status: String(r.status),
    count: Number(r.n),
    oldestAt: textOrNull(r.oldest),
  }));
}

export function dayTotalRowsOf(rows: readonly Aggregate[]): DayTotalRow[] {
  return rows.flatMap((r) =>
    isCurrency(r.currency)
      ? [{ businessDate: String(r.business_date), currency: r.currency, count: Number(r.n), net: BigInt(r.net ?? 0) }]
      : [],
  );
}

function textOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Column aliases in snake_case: PostgreSQL folds unquoted identifiers to lower case. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
