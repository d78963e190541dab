import type { Message, Options } from 'amqplib';
import type { AttemptRecord, CoreCommandMessage, CoreResultMessage, DeadLetter, Lane } from './transport-port';

// How a hub message looks on the wire in RabbitMQ: JSON body, AMQP properties (persistent, message id,
// correlation id, timestamp, type) and headers carrying the schema version, the W3C traceparent and
// the attempt history that retries and dead letters keep.

export const HEADER = {
  schemaVersion: 'x-schema-version',
  traceparent: 'traceparent',
  /** Attempts finished before this copy was published (0 for a fresh message or a replay). */
  attempts: 'x-loanhub-attempts',
  /** JSON array of AttemptRecord. */
  history: 'x-loanhub-history',
  deadReason: 'x-loanhub-dead-reason',
  deadAt: 'x-loanhub-dead-at',
  /** Unique per publish, so a returned (unroutable) message finds the publish it belongs to. */
  publishId: 'x-loanhub-publish-id',
} as const;

/** History kept on a message; older entries are dropped so headers stay far below the 64 KiB frame table. */
const MAX_HISTORY = 20;

export type HubMessage = CoreCommandMessage | CoreResultMessage;
type Headers = Record<string, unknown>;

export function publishOptions(message: HubMessage, headers: Headers): Options.Publish {
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    messageId: message.messageId,
    correlationId: message.correlationId,
    // AMQP timestamps are whole seconds since the epoch
    timestamp: Math.floor(Date.parse(message.timestamp) / 1000) || Math.floor(Date.now() / 1000),
    type: message.type,
    appId: 'loanhub',
    headers: {
      [HEADER.schemaVersion]: message.schemaVersion,
      ...(message.traceparent ? { [HEADER.traceparent]: message.traceparent } : {}),
      ...headers,
    },
  };
}

export function encode(message: HubMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

export function decode(msg: Message): HubMessage {
  return JSON.parse(msg.content.toString('utf8')) as HubMessage;
}

function headersOf(msg: Message): Headers {
  const h: unknown = msg.properties.headers;
  return h && typeof h === 'object' ? (h as Headers) : {};
}

function numberHeader(msg: Message, name: string): number {
  const v = headersOf(msg)[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * The attempt this delivery is: attempts finished before this copy, plus the quorum queue's own
 * count of earlier deliveries of the copy (x-delivery-count: nacks and consumers that died unacked).
 */
export function attemptOf(msg: Message): number {
  return numberHeader(msg, HEADER.attempts) + numberHeader(msg, 'x-delivery-count') + 1;
}

export function historyOf(msg: Message): AttemptRecord[] {
  const raw = headersOf(msg)[HEADER.history];
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  if (typeof text !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as AttemptRecord[]) : [];
  } catch {
    return [
      { attempt: 0, at: new Date().toISOString(), outcome: 'retry', reason: 'unreadable history header dropped' },
    ];
  }
}

/** Headers for a copy of `msg` published by the hub (retry, dead letter, replay): broker bookkeeping dropped. */
export function copyHeaders(
  msg: Message,
  attempts: number,
  history: readonly AttemptRecord[],
  extra: Headers = {},
): Headers {
  const kept: Headers = {};
  for (const [k, v] of Object.entries(headersOf(msg))) {
    if (k.startsWith('x-death') || k.startsWith('x-first-death') || k.startsWith('x-last-death')) continue;
    if (k === 'x-delivery-count' || k === HEADER.publishId || k === HEADER.deadReason || k === HEADER.deadAt) continue;
    kept[k] = v;
  }
  return {
    ...kept,
    [HEADER.attempts]: attempts,
    [HEADER.history]: JSON.stringify(history.slice(-MAX_HISTORY)),
    ...extra,
  };
}

/** Why the broker dead-lettered a message on its own (x-death, newest first), when the hub did not say. */
function brokerDeathReason(msg: Message): { reason: string; at: string } | undefined {
  const deaths = headersOf(msg)['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const latest: unknown = deaths[0];
  if (!latest || typeof latest !== 'object') return undefined;
  const { reason, queue, time } = latest as { reason?: unknown; queue?: unknown; time?: unknown };
  const when =
    time && typeof time === 'object' && 'value' in time && typeof time.value === 'number'
      ? new Date(time.value * 1000).toISOString()
      : new Date(0).toISOString();
  const text =
    reason === 'delivery_limit'
      ? `delivery limit reached in ${String(queue)}: consumers stopped without an answer too many times`
      : `dead-lettered by the broker from ${String(queue)}: ${String(reason)}`;
  return { reason: text, at: when };
}

export function toDeadLetter(msg: Message, lane: Lane): DeadLetter {
  const h = headersOf(msg);
  const broker = brokerDeathReason(msg);
  const hubReason = h[HEADER.deadReason];
  const hubAt = h[HEADER.deadAt];
  const text = (v: unknown): string | undefined =>
    Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : undefined;
  let message: HubMessage | null = null;
  try {
    message = decode(msg);
  } catch {
    message = null; // kept as raw text below; the reason header says why it could not be handled
  }
  const propertyId: unknown = msg.properties.messageId;
  return {
    id: typeof propertyId === 'string' ? propertyId : (message?.messageId ?? `delivery-${msg.fields.deliveryTag}`),
    lane,
    reason: text(hubReason) ?? broker?.reason ?? 'unknown',
    attempts: text(hubReason) !== undefined ? numberHeader(msg, HEADER.attempts) : attemptOf(msg) - 1,
    history: historyOf(msg),
    deadAt: text(hubAt) ?? broker?.at ?? new Date(0).toISOString(),
    message,
    ...(message === null ? { raw: msg.content.toString('utf8') } : {}),
  };
}
