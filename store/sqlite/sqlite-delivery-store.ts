import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
import { migrate } from './sqlite-migrations';
import { WEBHOOK_MIGRATIONS } from './webhook-migrations';

// The webhook delivery tables in the hub's SQLite file, reached through their own connection (WAL lets the
// CLI use them while the hub runs). better-sqlite3 is synchronous: each method body is one transaction.

interface DeliveryRow {
  id: number;
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

export function openSqliteDeliveryStore(opts: { file: string; synchronous?: 'FULL' | 'NORMAL' }): DeliveryStore {
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  const db = new Database(opts.file);
  db.pragma('journal_mode = WAL');
  // NORMAL is enough here: a lost commit of a delivery result means one more delivery (at least once),
  // and the insert that consumes an outbox row is idempotent by event id.
  db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  migrate(db, WEBHOOK_MIGRATIONS);

  const insertOne = db.prepare(`INSERT INTO webhook_deliveries (event_id, event_type, channel, payment_id, payload,
    status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (event_id, channel) DO NOTHING`);
  // A lease moves next_attempt_at to the lease's end, so rows in flight leave the head of the due index
  // (a claim does not wade through them) and come back by themselves if this process dies. INDEXED BY:
  // the planner otherwise sorts every unfinished row for each claim.
  const claimDueRows = db.prepare(`UPDATE webhook_deliveries SET lease_until = @until, next_attempt_at = @until
    WHERE id IN (SELECT d.id FROM webhook_deliveries d INDEXED BY webhook_deliveries_due
      WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= @now
        AND d.channel NOT IN (SELECT value FROM json_each(@skip))
        AND d.channel NOT IN (SELECT channel FROM webhook_endpoints WHERE disabled_at IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.payment_id = d.payment_id
          AND e.channel = d.channel AND e.id < d.id AND e.status IN ('pending', 'failed'))
      ORDER BY d.next_attempt_at, d.id LIMIT @limit)
    RETURNING *`);
  const releaseOne = db.prepare(`UPDATE webhook_deliveries SET lease_until = NULL, next_attempt_at = ?
    WHERE id = ? AND status IN ('pending', 'failed')`);
  const release = db.transaction((ids: readonly number[], now: Date) => {
    const at = now.toISOString();
    for (const id of ids) releaseOne.run(at, id);
  });
  const markDelivered = db.prepare(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
    last_status = ?, last_error = NULL, lease_until = NULL, delivered_at = ?, updated_at = ? WHERE id = ?`);
  const markRetry = db.prepare(`UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1,
    last_status = ?, last_error = ?, next_attempt_at = ?, first_failed_at = COALESCE(first_failed_at, ?),
    lease_until = NULL, updated_at = ? WHERE id = ?`);
  const markDead = db.prepare(`UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1,
    last_status = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?`);
  const markGone = db.prepare(`UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1,
    last_status = 410, last_error = 'the endpoint answered 410 Gone; endpoint disabled', next_attempt_at = ?,
    lease_until = NULL, updated_at = ? WHERE id = ?`);
  const markSkipped = db.prepare(`UPDATE webhook_deliveries SET status = 'skipped_no_endpoint', lease_until = NULL,
    last_error = 'the channel has no callback URL', updated_at = ? WHERE id = ?`);
  const disable = db.prepare(`INSERT INTO webhook_endpoints (channel, disabled_at, disabled_reason, updated_at)
    VALUES (?, ?, ?, ?) ON CONFLICT (channel) DO UPDATE SET disabled_at = excluded.disabled_at,
    disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at
    WHERE webhook_endpoints.disabled_at IS NULL`);
  const enableEndpoint = db.prepare(`UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL,
    updated_at = ? WHERE channel = ? AND disabled_at IS NOT NULL`);
  const refreshWaiting = db.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ?, first_failed_at = NULL,
    updated_at = ? WHERE channel = ? AND status IN ('pending', 'failed') AND lease_until IS NULL`);
  const selectEndpoint = db.prepare('SELECT * FROM webhook_endpoints WHERE channel = ?');
  const selectDisabled = db.prepare('SELECT channel FROM webhook_endpoints WHERE disabled_at IS NOT NULL');
  const countByStatus = db.prepare('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = ?');
  const selectBacklog = db.prepare(`SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries
    WHERE status IN ('pending', 'failed') GROUP BY channel`);
  const dropAll = db.prepare(`UPDATE webhook_deliveries SET lease_until = NULL, next_attempt_at = ?
    WHERE lease_until IS NOT NULL AND status IN ('pending', 'failed')`);
  // A delivery in flight (leased) is left alone: its own result is about to be recorded.
  const reopen = db.prepare(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, first_failed_at = NULL,
    next_attempt_at = @at, updated_at = @at WHERE id = @id AND (lease_until IS NULL OR lease_until <= @at)
    RETURNING *`);

  const claim = (limit: number, leaseMs: number, now: Date, skip: readonly Channel[]): Delivery[] => {
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const rows = claimDueRows.all({
      skip: JSON.stringify(skip),
      now: now.toISOString(),
      until,
      limit,
    }) as DeliveryRow[];
    // RETURNING gives no order; oldest first.
    return rows.sort((a, b) => a.id - b.id).map(toDelivery);
  };

  const record = db.transaction((results: readonly DeliveryResult[], now: Date) => {
    const at = now.toISOString();
    for (const r of results) {
      switch (r.kind) {
        case 'delivered':
          markDelivered.run(r.httpStatus, at, at, r.id);
          break;
        case 'retry':
          markRetry.run(r.httpStatus, r.error.slice(0, 500), r.nextAttemptAt.toISOString(), at, at, r.id);
          break;
        case 'dead':
          markDead.run(r.httpStatus, r.error.slice(0, 500), at, r.id);
          break;
        case 'gone':
          markGone.run(at, at, r.id);
          disable.run(r.channel, at, 'the endpoint answered 410 Gone', at);
          break;
        case 'skipped':
          markSkipped.run(at, r.id);
          break;
        default: {
          const never: never = r;
          throw new Error(`unknown delivery result ${JSON.stringify(never)}`);
        }
      }
    }
  });

  const insert = db.transaction((deliveries: readonly NewDelivery[], now: Date): number => {
    const at = now.toISOString();
    let n = 0;
    for (const d of deliveries) {
      n += insertOne.run(d.eventId, d.eventType, d.channel, d.paymentId, d.payload, d.status, at, at, at).changes;
    }
    return n;
  });

  // Prepared on first use: the CLI opens this store on files where only the delivery table matters.
  let markOutboxSent: Database.Statement | undefined;
  const insertFromOutbox = db.transaction(
    (deliveries: readonly NewDelivery[], outboxIds: readonly number[], now: Date): number => {
      const n = insert(deliveries, now);
      markOutboxSent ??= db.prepare(`UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL,
        last_error = NULL WHERE id = ? AND status = 'pending'`);
      const at = now.toISOString();
      for (const id of outboxIds) markOutboxSent.run(at, id);
      return n;
    },
  );

  const redeliver = db.transaction((sel: RedeliverySelector, now: Date): Delivery[] => {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (sel.id !== undefined) {
      if (/^\d+$/.test(sel.id)) {
        where.push('id = @id');
        params.id = Number(sel.id);
      } else {
        where.push('event_id = @eventId');
        params.eventId = sel.id;
      }
    }
    if (sel.channel !== undefined) {
      where.push('channel = @channel');
      params.channel = sel.channel;
    }
    const statuses: string[] = [];
    if (sel.dead) statuses.push("'dead'");
    if (sel.skipped) statuses.push("'skipped_no_endpoint'");
    if (statuses.length > 0) where.push(`status IN (${statuses.join(', ')})`);
    if (sel.id === undefined && statuses.length === 0) return [];
    const ids = db
      .prepare(`SELECT id FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY id`)
      .all(params) as Array<{ id: number }>;
    const at = now.toISOString();
    const reopened: Delivery[] = [];
    for (const { id } of ids) {
      const row = reopen.get({ at, id }) as DeliveryRow | undefined;
      if (row) reopened.push(toDelivery(row));
    }
    return reopened;
  });

  const enable = db.transaction((channel: Channel, now: Date) => {
    const at = now.toISOString();
    const wasDisabled = enableEndpoint.run(at, channel).changes > 0;
    const waiting = wasDisabled ? refreshWaiting.run(at, at, channel).changes : 0;
    return { wasDisabled, waiting };
  });

  return Object.freeze({
    insert: async (deliveries: readonly NewDelivery[], now: Date) =>
      deliveries.length === 0 ? 0 : insert(deliveries, now),
    insertFromOutbox: async (deliveries: readonly NewDelivery[], outboxIds: readonly number[], now: Date) =>
      insertFromOutbox(deliveries, outboxIds, now),
    claimDue: async (limit: number, leaseMs: number, now: Date, skipChannels: readonly Channel[] = []) =>
      limit <= 0 ? [] : claim(limit, leaseMs, now, skipChannels),
    record: async (results: readonly DeliveryResult[], now: Date) => {
      if (results.length > 0) record(results, now);
    },
    release: async (ids: readonly number[], now: Date) => {
      if (ids.length > 0) release(ids, now);
    },
    dropLeases: async (now: Date) => dropAll.run(now.toISOString()).changes,
    async list(filter: DeliveryFilter): Promise<Delivery[]> {
      const where: string[] = [];
      const params: Record<string, string | number> = { limit: filter.limit ?? 100 };
      if (filter.channel !== undefined) {
        where.push('channel = @channel');
        params.channel = filter.channel;
      }
      if (filter.status !== undefined) {
        where.push('status = @status');
        params.status = filter.status;
      }
      if (filter.paymentId !== undefined) {
        where.push('payment_id = @paymentId');
        params.paymentId = filter.paymentId;
      }
      const sql = `SELECT * FROM webhook_deliveries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT @limit`;
      return (db.prepare(sql).all(params) as DeliveryRow[]).map(toDelivery);
    },
    redeliver: async (sel: RedeliverySelector, now: Date) => redeliver(sel, now),
    count: async (status: DeliveryStatus) => (countByStatus.get(status) as { n: number }).n,
    backlog: async () =>
      (selectBacklog.all() as Array<{ channel: string; n: number; oldest: string | null }>).flatMap((r) =>
        isChannel(r.channel) ? [{ channel: r.channel, waiting: r.n, oldestCreatedAt: r.oldest }] : [],
      ),
    disabledChannels: async () =>
      (selectDisabled.all() as Array<{ channel: string }>).map((r) => r.channel).filter(isChannel),
    async endpoint(channel: Channel): Promise<EndpointState> {
      const r = selectEndpoint.get(channel) as
        { disabled_at: string | null; disabled_reason: string | null } | undefined;
      return { channel, disabledAt: r?.disabled_at ?? null, disabledReason: r?.disabled_reason ?? null };
    },
    enable: async (channel: Channel, now: Date) => enable(channel, now),
    close: async () => {
      if (db.open) db.close();
    },
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
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    channel: r.channel,
    paymentId: r.payment_id,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    firstFailedAt: r.first_failed_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
  };
}
