import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { CoreUnavailableError, type LoanInquiry } from '../domain/loan-inquiry';
import { isCore, type Core } from '../domain/channel';
import { formatAmount, isCurrency, parseMinorUnits } from '../domain/money';
import type { Logger } from '../logging/logger';
import type { InquiryClient } from './inquiry-client-port';
import { createReconnectLoop, redactUrl } from './rabbitmq-connection';

// Debt inquiry over the broker when the API and the core adapters run in different processes: RPC with
// RabbitMQ's direct reply-to (no reply queue to declare or clean up). A request waits at most
// `timeoutMs`; it carries the same expiration, so a worker never answers a question nobody waits for.
// Inquiries are reads: they are not persistent and their queues are classic, per core.

export const inquiryQueue = (core: Core): string => `loanhub.inquiry.${core}`;
const REPLY_TO = 'amq.rabbitmq.reply-to';

interface Reply {
  readonly found: boolean;
  readonly loan?: { loanNumber: string; core: string; currency: string; amountDue: string; status: string };
  readonly error?: string;
}

export function createRabbitMqInquiryClient(opts: { url: string; timeoutMs?: number; logger: Logger }): InquiryClient {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const pending = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let session: Promise<{ connection: ChannelModel; channel: Channel }> | null = null;
  let closed = false;

  const failAll = (err: Error): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(err);
      pending.delete(id);
    }
  };
  const open = (): Promise<{ connection: ChannelModel; channel: Channel }> => {
    session ??= (async () => {
      const connection = await connect(opts.url);
      const channel = await connection.createChannel();
      const drop = (): void => {
        session = null;
        failAll(new Error('broker connection lost'));
      };
      connection.on('close', drop);
      connection.on('error', (err: Error) =>
        opts.logger.warn({ err: err.message, broker: redactUrl(opts.url) }, 'inquiry connection error'),
      );
      await channel.consume(
        REPLY_TO,
        (msg: ConsumeMessage | null) => {
          if (!msg) return;
          const id = msg.properties.correlationId as string | undefined;
          const waiting = id ? pending.get(id) : undefined;
          if (!waiting || !id) return;
          pending.delete(id);
          clearTimeout(waiting.timer);
          try {
            waiting.resolve(JSON.parse(msg.content.toString('utf8')) as Reply);
          } catch (err) {
            waiting.reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        { noAck: true },
      );
      return { connection, channel };
    })().catch((err: unknown) => {
      session = null;
      throw err;
    });
    return session;
  };

  return Object.freeze({
    async inquire(core: Core, loanNumber: string): Promise<LoanInquiry | null> {
      if (closed) throw new CoreUnavailableError(core, 'inquiry client is closed', true);
      let reply: Reply;
      try {
        const { channel } = await open();
        const id = randomUUID();
        reply = await new Promise<Reply>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`no answer from the ${core} workers within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, { resolve, reject, timer });
          channel.sendToQueue(inquiryQueue(core), Buffer.from(JSON.stringify({ loanNumber })), {
            correlationId: id,
            replyTo: REPLY_TO,
            expiration: String(timeoutMs),
            contentType: 'application/json',
            persistent: false,
          });
        });
      } catch (err) {
        throw new CoreUnavailableError(core, err instanceof Error ? err.message : String(err), true, { cause: err });
      }
      if (reply.error)
        throw new CoreUnavailableError(core, `the ${core} worker could not ask its core: ${reply.error}`, true);
      if (!reply.found || !reply.loan) return null;
      return toInquiry(core, reply.loan);
    },
    async close(): Promise<void> {
      closed = true;
      failAll(new Error('inquiry client closed'));
      const s = session;
      session = null;
      if (s) await (await s).connection.close().catch(() => undefined);
    },
  });
}

/**
 * The worker side: answers the inquiries of its cores through their adapters. Like the transport, it
 * reconnects with backoff after the broker goes away (a restart must not leave the API without answers).
 */
export async function serveRabbitMqInquiries(opts: {
  url: string;
  cores: readonly Core[];
  inquire: (core: Core, loanNumber: string) => Promise<LoanInquiry | null>;
  logger: Logger;
}): Promise<{ close(): Promise<void> }> {
  let connection: ChannelModel | null = null;
  let closed = false;

  const answer = async (core: Core, content: Buffer): Promise<Reply> => {
    try {
      const { loanNumber } = JSON.parse(content.toString('utf8')) as { loanNumber?: unknown };
      if (typeof loanNumber !== 'string') return { found: false };
      const loan = await opts.inquire(core, loanNumber);
      return loan
        ? {
            found: true,
            loan: {
              loanNumber: loan.loanNumber,
              core: loan.core,
              currency: loan.currency,
              amountDue: formatAmount(loan.amountDue),
              status: loan.status,
            },
          }
        : { found: false };
    } catch (err) {
      opts.logger.warn({ core, err: err instanceof Error ? err.message : String(err) }, 'inquiry failed');
      return { found: false, error: err instanceof CoreUnavailableError ? 'core_unavailable' : 'inquiry_failed' };
    }
  };

  const connectOnce = async (): Promise<void> => {
    const conn = await connect(opts.url);
    const channel = await conn.createChannel();
    await channel.prefetch(32);
    for (const core of opts.cores) {
      await channel.assertQueue(inquiryQueue(core), { durable: false, arguments: { 'x-message-ttl': 30_000 } });
      await channel.consume(inquiryQueue(core), (msg) => {
        if (!msg) return;
        const replyTo = msg.properties.replyTo as string | undefined;
        void answer(core, msg.content).then((reply) => {
          try {
            if (replyTo) {
              channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
                correlationId: msg.properties.correlationId as string,
                contentType: 'application/json',
              });
            }
            channel.ack(msg);
          } catch (err) {
            // The channel went away with the connection; the asker times out and the API says 503.
            opts.logger.warn(
              { core, err: err instanceof Error ? err.message : String(err) },
              'inquiry answer not sent',
            );
          }
        });
      });
    }
    conn.on('error', (err: Error) =>
      opts.logger.warn({ err: err.message, broker: redactUrl(opts.url) }, 'inquiry server connection error'),
    );
    conn.on('close', () => {
      connection = null;
      if (!closed) reconnect.schedule();
    });
    connection = conn;
    reconnect.reset();
  };
  // The transport's reconnect loop (rabbitmq-connection.ts); it does not keep the process alive alone.
  const reconnect = createReconnectLoop({
    connect: connectOnce,
    keepsProcessAlive: false,
    onFailure: (err) =>
      opts.logger.warn(
        { err: err instanceof Error ? err.message : String(err), broker: redactUrl(opts.url) },
        'inquiry server reconnect failed; retrying',
      ),
  });

  await connectOnce();
  return {
    async close(): Promise<void> {
      closed = true;
      reconnect.stop();
      const conn = connection;
      connection = null;
      if (conn) {
        await conn.close().catch((err: unknown) => {
          opts.logger.debug(
            { err: err instanceof Error ? err.message : String(err) },
            'inquiry server connection already closed',
          );
        });
      }
    },
  };
}

function toInquiry(core: Core, loan: NonNullable<Reply['loan']>): LoanInquiry {
  const amountDue = parseMinorUnits(loan.amountDue);
  if (
    amountDue === undefined ||
    !isCurrency(loan.currency) ||
    !isCore(loan.core) ||
    (loan.status !== 'ACTIVE' && loan.status !== 'CLOSED')
  ) {
    throw new CoreUnavailableError(core, 'a worker answered an inquiry outside the contract', false);
  }
  return {
    loanNumber: loan.loanNumber,
    core: loan.core,
    currency: loan.currency,
    amountDue,
    status: loan.status,
  };
}
