import { connect, type Channel, type ChannelModel, type ConfirmChannel, type GetMessage, type Message } from 'amqplib';
import { readManagementQueues } from './rabbitmq-management';
import { HEADER, copyHeaders, decode, historyOf, toDeadLetter } from './rabbitmq-message';
import { LANES, RABBITMQ_RETRY_DELAYS_MS, isAmqpError, laneNames } from './rabbitmq-topology';
import { retryQueueDelays } from './retry-schedule';
import { TransportError, type DeadLetter, type Lane } from './transport-port';

// Operations on the broker for people (`loanhub queues`, `loanhub dlq …`): counts per lane, and the
// dead-letter queues read and replayed over plain AMQP, so no management plugin is needed.
// Dead letters are read with basic.get and held unacked; closing the channel puts back every one
// that was not replayed, in place, so listing changes nothing and an interrupted replay loses nothing.

export interface QueueCounts {
  /** A core, or `results` for the hub's results queue. */
  readonly core: Lane;
  readonly ready: number;
  /**
   * Delivered and not yet acked. AMQP 0-9-1 reports only ready messages, so this is null unless the
   * management API was asked (reportQueues with a managementUrl) and had the figure.
   */
  readonly unacked: number | null;
  /** Waiting out a retry delay, over all retry queues of the lane. */
  readonly retrying: number;
  readonly deadLettered: number;
  readonly consumers: number;
}

export interface AdminOptions {
  /** The retry schedule the workers use; it names the retry queues. */
  readonly retryDelaysMs?: readonly number[];
}

export async function inspectQueues(url: string, opts: AdminOptions = {}): Promise<QueueCounts[]> {
  const delays = retryQueueDelays(opts.retryDelaysMs ?? RABBITMQ_RETRY_DELAYS_MS);
  return withConnection(url, async (conn) => {
    const out: QueueCounts[] = [];
    for (const lane of LANES) {
      const n = laneNames(lane);
      const work = await check(conn, n.queue);
      if (!work) {
        throw new TransportError(
          'transport_not_ready',
          `queue ${n.queue} does not exist yet: start the relay or a worker once to declare the topology`,
        );
      }
      let retrying = 0;
      for (const d of delays) retrying += (await check(conn, n.retryQueue(d)))?.messageCount ?? 0;
      const dlq = await check(conn, n.deadLetterQueue);
      out.push({
        core: lane,
        ready: work.messageCount,
        unacked: null,
        retrying,
        deadLettered: dlq?.messageCount ?? 0,
        consumers: work.consumerCount,
      });
    }
    return out;
  });
}

/** The counts, and where `unacked` came from: the management API, or why it is not there. */
export interface QueueReport {
  readonly counts: QueueCounts[];
  readonly unacked: { readonly kind: 'management' } | { readonly kind: 'unavailable'; readonly reason: string };
}

/**
 * inspectQueues, plus unacked per work queue from the management HTTP API when its URL is given
 * (LOANHUB_AMQP_MANAGEMENT_URL). A management API that fails leaves unacked null and says why; the
 * AMQP counts are shown all the same.
 */
export async function reportQueues(
  url: string,
  opts: AdminOptions & { readonly managementUrl?: string } = {},
): Promise<QueueReport> {
  const counts = await inspectQueues(url, opts);
  if (!opts.managementUrl) {
    return {
      counts,
      unacked: {
        kind: 'unavailable',
        reason: 'AMQP does not report unacked messages; set LOANHUB_AMQP_MANAGEMENT_URL to the management API',
      },
    };
  }
  const answer = await readManagementQueues({ managementUrl: opts.managementUrl, amqpUrl: url });
  if (answer.kind === 'unavailable') return { counts, unacked: answer };
  const missing: string[] = [];
  const withUnacked = counts.map((c) => {
    const q = answer.queues.get(laneNames(c.core).queue);
    if (!q) missing.push(laneNames(c.core).queue);
    return { ...c, unacked: q ? q.unacked : null };
  });
  if (missing.length > 0) {
    return {
      counts: withUnacked,
      unacked: {
        kind: 'unavailable',
        reason: `the management API has no statistics yet for ${missing.join(', ')} (they refresh every few seconds)`,
      },
    };
  }
  return { counts: withUnacked, unacked: { kind: 'management' } };
}

export async function listDeadLetters(url: string, core: Lane): Promise<DeadLetter[]> {
  return withConnection(url, async (conn) => {
    const ch = await conn.createChannel();
    try {
      return (await holdAll(ch, laneNames(core).deadLetterQueue)).map((m) => toDeadLetter(m, core));
    } finally {
      await ch.close().catch(() => undefined); // puts every held message back
    }
  });
}

/** The dead letter with this message id, in whichever lane holds it. */
export async function findDeadLetter(url: string, id: string): Promise<DeadLetter | null> {
  for (const lane of LANES) {
    const found = (await listDeadLetters(url, lane)).find((d) => d.id === id);
    if (found) return found;
  }
  return null;
}

/**
 * Sends dead letters of a lane back to its work queue with a fresh attempt count and their history
 * kept. Each is removed from the dead-letter queue only after the broker confirmed its copy, so a
 * crash in between leaves a duplicate (consumers are idempotent), never a loss. Repeating a replay
 * finds nothing more to send. Returns how many were replayed.
 */
export async function replayDeadLetters(
  url: string,
  core: Lane,
  which: { readonly id?: string; readonly all?: boolean },
): Promise<number> {
  if (which.all !== true && which.id === undefined) throw new RangeError('replay needs an id or all');
  const n = laneNames(core);
  return withConnection(url, async (conn) => {
    const ch = await conn.createConfirmChannel();
    const returned = new Set<string>();
    ch.on('return', (m: Message) => {
      const id: unknown = m.properties.messageId;
      if (typeof id === 'string') returned.add(id);
    });
    try {
      let replayed = 0;
      for (const msg of await holdAll(ch, n.deadLetterQueue)) {
        const letter = toDeadLetter(msg, core);
        if (which.all !== true && letter.id !== which.id) continue;
        if (letter.message === null) continue; // not a hub message: it stays for a person to look at
        const message = decode(msg);
        const at = new Date().toISOString();
        const headers = copyHeaders(msg, 0, [
          ...historyOf(msg),
          { attempt: letter.attempts, at, outcome: 'replayed', reason: `replayed from ${n.deadLetterQueue}` },
        ]);
        const routingKey = core === 'results' ? `${message.core}.${message.type}` : n.routingKey;
        await confirmPublish(ch, n.exchange, routingKey, msg, headers);
        if (returned.has(letter.id)) {
          throw new TransportError('publish_unroutable', `no queue took the replay of ${letter.id} on ${n.exchange}`);
        }
        ch.ack(msg);
        replayed += 1;
      }
      return replayed;
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
}

function confirmPublish(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  msg: Message,
  headers: Record<string, unknown>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const { headers: _old, ...properties } = msg.properties;
    ch.publish(
      exchange,
      routingKey,
      msg.content,
      {
        ...cleanProperties(properties),
        persistent: true,
        mandatory: true,
        headers: { ...headers, [HEADER.attempts]: 0 },
      },
      (err: unknown) =>
        err
          ? reject(new TransportError('publish_nacked', `broker did not confirm the replay: ${String(err)}`))
          : resolve(),
    );
  });
}

/** AMQP properties as amqplib returns them (undefined for absent ones), ready to publish again. */
function cleanProperties(p: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined && v !== null));
}

/** Takes every message of a queue without acking it; the caller acks some and closes the channel. */
async function holdAll(ch: Channel, queue: string): Promise<GetMessage[]> {
  const { messageCount } = await ch.checkQueue(queue);
  const held: GetMessage[] = [];
  // messages put back by an earlier reader may arrive after the count was taken; the count bounds the loop
  while (held.length < messageCount) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) break;
    held.push(m);
  }
  return held;
}

async function check(
  conn: ChannelModel,
  queue: string,
): Promise<{ messageCount: number; consumerCount: number } | null> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined); // a 404 closes this channel; reported as null below
  try {
    return await ch.checkQueue(queue);
  } catch (err) {
    if (isAmqpError(err, 404)) return null;
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

async function withConnection<T>(url: string, work: (conn: ChannelModel) => Promise<T>): Promise<T> {
  const conn = await connect(url, { clientProperties: { connection_name: `loanhub-admin-${process.pid}` } });
  conn.on('error', () => undefined); // the awaited operation reports the failure
  try {
    return await work(conn);
  } finally {
    await conn.close().catch(() => undefined);
  }
}
