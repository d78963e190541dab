import { isChannel, type Channel } from '../../domain/channel';
import {
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryFilter,
  type DeliveryResult,
  type DeliveryStatus,
  type DeliveryStore,
  type EndpointState,
  type NewDelivery,
  type RedeliverySelector,
} from '../delivery-store-port';
import type { PgDatabase } from './pg-pool';

// The webhook delivery tables on PostgreSQL. Claims lease rows with FOR UPDATE SKIP LOCKED, so the
// dispatchers of several instances take disjoint deliveries; a lease moves next_attempt_at to its end,
// so a crashed instance's deliveries come back by themselves when it runs out.

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  channel: string;
  payment_id: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  first_failed_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export function createPgDeliveryStore(db: PgDatabase): DeliveryStore {
  const insertRows = async (
    q: (sql: string, params: unknown[]) => Promise<{ rowCount: number | null }>,
    deliveries: readonly NewDelivery[],
    at: string,
  ): Promise<number> => {
    if (deliveries.length === 0) return 0;
    const r = await q(
      `INSERT INTO webhook_deliveries (event_id, event_type, channel, payment_id, payload, status, next_attempt_at,
         created_at, updated_at)
       SELECT e, t, c, p, b, s, $7, $7, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[]) AS r(e, t, c, p, b, s)
       ON CONFLICT (event_id, channel) DO NOTHING`,
      [
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.eventType),
        deliveries.map((d) => d.channel),
        deliveries.map((d) => d.paymentId),
        deliveries.map((d) => d.payload),
        deliveries.map((d) => d.status),
        at,
      ],
    );
    return r.rowCount ?? 0;
  };

  return Object.freeze({
    insert: (deliveries: readonly NewDelivery[], now: Date) =>
      db.tx((c) => insertRows((sql, params) => c.query(sql, params), deliveries, now.toISOString())),
    insertFromOutbox: (deliveries: readonly NewDelivery[], outboxIds: readonly number[], now: Date) =>
      db.tx(async (c) => {
        const at = now.toISOString();
        const n = await insertRows((sql, params) => c.query(sql, params), deliveries, at);
        if (outboxIds.length > 0) {
          await c.query(
            `UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL
             WHERE id = ANY($2::bigint[]) AND status = 'pending'`,
            [at, outboxIds],
          );
        }
        return n;
      }),
    claimDue: async (limit: number, leaseMs: number, now: Date, skipChannels: readonly Channel[] = []) => {
      if (limit <= 0) return [];
      const until = new Date(now.getTime() + leaseMs).toISOString();
      const rows = await db.query<DeliveryRow>(
        `UPDATE webhook_deliveries w SET lease_until = $3, next_attempt_at = $3
         FROM (SELECT d.id FROM webhook_deliveries d
               WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= $1
                 AND NOT (d.channel = ANY($4::text[]))
                 AND d.channel NOT IN (SELECT channel FROM webhook_endpoints WHERE disabled_at IS NOT NULL)
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.payment_id = d.payment_id
                   AND e.channel = d.channel AND e.id < d.id AND e.status IN ('pending', 'failed'))
               ORDER BY d.next_attempt_at, d.id LIMIT $2 FOR UPDATE SKIP LOCKED) due
         WHERE w.id = due.id
         RETURNING w.*`,
        [now.toISOString(), limit, until, skipChannels],
      );
      return rows.map(toDelivery).sort((a, b) => a.id - b.id);
    },
    record: async (results: readonly DeliveryResult[], now: Date) => {
      if (results.length === 0) return;
      const at = now.toISOString();
      await db.tx(async (c) => {
        for (const r of results) {
          switch (r.kind) {
            case 'delivered':
              await c.query(
                `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $1,
                 last_error = NULL, lease_until = NULL, delivered_at = $2, updated_at = $2 WHERE id = $3`,
                [r.httpStatus, at, r.id],
              );
              break;
            case 'retry':
              await c.query(
                `UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = $1,
                 last_error = $2, next_attempt_at = $3, first_failed_at = COALESCE(first_failed_at, $4),
                 lease_until = NULL, updated_at = $4 WHERE id = $5`,
                [r.httpStatus, r.error.slice(0, 500), r.nextAttemptAt.toISOString(), at, r.id],
              );
              break;
            case 'dead':
              await c.query(
                `UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, last_status = $1,
                 last_error = $2, lease_until = NULL, updated_at = $3 WHERE id = $4`,
                [r.httpStatus, r.error.slice(0, 500), at, r.id],
              );
              break;
            case 'gone':
              await c.query(
                `UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = 410,
                 last_error = 'the endpoint answered 410 Gone; endpoint disabled', next_attempt_at = $1,
                 lease_until = NULL, updated_at = $1 WHERE id = $2`,
                [at, r.id],
              );
              await c.query(
                `INSERT INTO webhook_endpoints (channel, disabled_at, disabled_reason, updated_at)
                 VALUES ($1, $2, 'the endpoint answered 410 Gone', $2) ON CONFLICT (channel) DO UPDATE
                 SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
                   updated_at = excluded.updated_at WHERE webhook_endpoints.disabled_at IS NULL`,
                [r.channel, at],
              );
              break;
            case 'skipped':
              await c.query(
                `UPDATE webhook_deliveries SET status = 'skipped_no_endpoint', lease_until = NULL,
                 last_error = 'the channel has no callback URL', updated_at = $1 WHERE id = $2`,
                [at, r.id],
              );
              break;
            default: {
              const never: never = r;
              throw new Error(`unknown delivery result ${JSON.stringify(never)}`);
            }
          }
        }
      });
    },
    release: async (ids: readonly number[], now: Date) => {
      if (ids.length === 0) return;
      await db.query(
        `UPDATE webhook_deliveries SET lease_until = NULL, next_attempt_at = $1
         WHERE id = ANY($2::bigint[]) AND status IN ('pending', 'failed')`,
        [now.toISOString(), ids],
      );
    },
    dropLeases: async (now: Date) => {
      const r = await db.query<{ n: string }>(
        `WITH d AS (UPDATE webhook_deliveries SET lease_until = NULL, next_attempt_at = $1
           WHERE lease_until IS NOT NULL AND status IN ('pending', 'failed') RETURNING 1) SELECT COUNT(*) AS n FROM d`,
        [now.toISOString()],
      );
      return Number(r[0]?.n ?? 0);
    },
    list: async (filter: DeliveryFilter) => {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: string, v: unknown): void => {
        args.push(v);
        where.push(sql.replace('?', `$${args.length}`));
      };
      if (filter.channel !== undefined) add('channel = ?', filter.channel);
      if (filter.status !== undefined) add('status = ?', filter.status);
      if (filter.paymentId !== undefined) add('payment_id = ?', filter.paymentId);
      args.push(filter.limit ?? 100);
      const sql = `SELECT * FROM webhook_deliveries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $${args.length}`;
      return (await db.query<DeliveryRow>(sql, args)).map(toDelivery);
    },
    redeliver: async (sel: RedeliverySelector, now: Date) => {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: string, v: unknown): void => {
        args.push(v);
        where.push(sql.replace('?', `$${args.length}`));
      };
      if (sel.id !== undefined) {
        if (/^\d+$/.test(sel.id)) add('id = ?', Number(sel.id));
        else add('event_id = ?', sel.id);
      }
      if (sel.channel !== undefined) add('channel = ?', sel.channel);
      const statuses: string[] = [];
      if (sel.dead) statuses.push('dead');
      if (sel.skipped) statuses.push('skipped_no_endpoint');
      if (statuses.length > 0) add('status = ANY(?::text[])', statuses);
      if (sel.id === undefined && statuses.length === 0) return [];
      args.push(now.toISOString());
      const at = `$${args.length}`;
      // A delivery in flight (leased) is left alone: its own result is about to be recorded.
      const rows = await db.query<DeliveryRow>(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, first_failed_at = NULL,
           next_attempt_at = ${at}, updated_at = ${at}
         WHERE ${where.join(' AND ')} AND (lease_until IS NULL OR lease_until <= ${at}) RETURNING *`,
        args,
      );
      return rows.map(toDelivery).sort((a, b) => a.id - b.id);
    },
    count: async (status: DeliveryStatus) =>
      Number(
        (await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = $1', [status]))[0]
          ?.n ?? 0,
      ),
    backlog: async () =>
      (
        await db.query<{ channel: string; n: string; oldest: string | Date | null }>(
          `SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries
            WHERE status IN ('pending', 'failed') GROUP BY channel`,
        )
      ).flatMap((r) =>
        isChannel(r.channel)
          ? [
              {
                channel: r.channel,
                waiting: Number(r.n),
                oldestCreatedAt: r.oldest === null ? null : new Date(r.oldest).toISOString(),
              },
            ]
          : [],
      ),
    disabledChannels: async () =>
      (await db.query<{ channel: string }>('SELECT channel FROM webhook_endpoints WHERE disabled_at IS NOT NULL'))
        .map((r) => r.channel)
        .filter(isChannel),
    endpoint: async (channel: Channel): Promise<EndpointState> => {
      const r = (
        await db.query<{ disabled_at: string | null; disabled_reason: string | null }>(
          'SELECT disabled_at, disabled_reason FROM webhook_endpoints WHERE channel = $1',
          [channel],
        )
      )[0];
      return { channel, disabledAt: r?.disabled_at ?? null, disabledReason: r?.disabled_reason ?? null };
    },
    enable: (channel: Channel, now: Date) =>
      db.tx(async (c) => {
        const at = now.toISOString();
        const on = await c.query(
          `UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, updated_at = $1
           WHERE channel = $2 AND disabled_at IS NOT NULL`,
          [at, channel],
        );
        const wasDisabled = (on.rowCount ?? 0) > 0;
        if (!wasDisabled) return { wasDisabled, waiting: 0 };
        const w = await c.query(
          `UPDATE webhook_deliveries SET next_attempt_at = $1, first_failed_at = NULL, updated_at = $1
           WHERE channel = $2 AND status IN ('pending', 'failed') AND lease_until IS NULL`,
          [at, channel],
        );
        return { wasDisabled, waiting: w.rowCount ?? 0 };
      }),
    // The pool belongs to the payment store; it closes it.
    close: async () => undefined,
  });
}

function isStatus(s: string): s is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(s);
}

function toDelivery(r: DeliveryRow): Delivery {
  if (!isChannel(r.channel) || !isStatus(r.status)) {
    throw new Error(`webhook delivery ${r.id} has an unreadable row (channel/status)`);
  }
  return {
    id: Number(r.id),
    eventId: r.event_id,
    eventType: r.event_type,
    channel: r.channel,
    paymentId: r.payment_id,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    firstFailedAt: r.first_failed_at,
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
  };
}
