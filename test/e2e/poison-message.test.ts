import { connect } from 'amqplib';
import { PAYMENTS_EXCHANGE } from '../../outbox/rabbitmq-topology';
import {
  amountDue,
  exactlyOnce,
  pay,
  paymentRequest,
  requireBroker,
  startStack,
  untilSettled,
  waitFor,
  type Stack,
} from './process-harness';

// Poison and dead letters through separate processes: what no consumer can read goes to the DLQ at
// once with its reason; a command that keeps failing goes there after its attempts, and `loanhub dlq
// replay` brings it back once the cause is fixed, any number of times without applying it twice.
const broker = requireBroker();
jest.setTimeout(120_000);

// A short schedule so a failing command uses up its attempts in about a second (every process of the
// stack gets it: the delivery limit is a queue argument).
const RETRY_DELAYS = '200,400';
const ATTEMPTS = 3;
const LOAN = '100000000002'; // cash, USD

interface Letter {
  id: string;
  reason: string;
  attempts: number;
  history: Array<{ outcome: string; reason: string }>;
  message: unknown;
  raw?: string;
}

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

async function publishRaw(url: string, body: Buffer, messageId: string): Promise<void> {
  const conn = await connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish(PAYMENTS_EXCHANGE, 'cash', body, { persistent: true, mandatory: true, messageId });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

async function deadLetters(s: Stack): Promise<Letter[]> {
  return JSON.parse(await s.cli(['dlq', 'list', '--core', 'cash', '--json'])) as Letter[];
}

async function letter(s: Stack, id: string): Promise<Letter> {
  return waitFor(async () => (await deadLetters(s)).find((l) => l.id === id), 30_000, `dead letter ${id}`, 250);
}

describe('poison messages and dead-letter replay', () => {
  beforeAll(async () => {
    stack = await startStack(broker, {
      name: 'poison',
      extraEnv: { LOANHUB_AMQP_RETRY_DELAYS_MS: RETRY_DELAYS, LOANHUB_AMQP_DELIVERY_LIMIT: String(ATTEMPTS) },
    });
  });

  it('a body that is not JSON reaches the DLQ at once with its reason and stays there on replay', async () => {
    const s = stack as Stack;
    await publishRaw(s.amqpUrl, Buffer.from('{"schemaVersion":1,"paymentId":'), 'poison-truncated');
    const dead = await letter(s, 'poison-truncated');
    expect(dead.reason).toMatch(/^malformed message body/);
    expect(dead.message).toBeNull();
    expect(dead.raw).toBe('{"schemaVersion":1,"paymentId":');
    // nothing a replay could fix: it stays for a person to look at
    expect(await s.cli(['dlq', 'replay', '--core', 'cash', '--id', 'poison-truncated'])).toMatch(/^replayed 0 /);
    expect((await deadLetters(s)).map((l) => l.id)).toContain('poison-truncated');
  });

  it('a command of an unknown schema version reaches the DLQ at once with its reason', async () => {
    const s = stack as Stack;
    const command = {
      schemaVersion: 99,
      messageId: 'future:apply_payment',
      type: 'apply_payment',
      paymentId: 'future',
      core: 'cash',
      correlationId: 'c-1',
      timestamp: new Date().toISOString(),
      body: {
        loanNumber: LOAN,
        amount: '1.00',
        currency: 'USD',
        receiptNumber: 'R1',
        channel: 'app',
        businessDate: '2026-11-23',
      },
    };
    await publishRaw(s.amqpUrl, Buffer.from(JSON.stringify(command)), command.messageId);
    const dead = await letter(s, command.messageId);
    expect(dead.reason).toBe('unsupported schema version 99');
    expect(dead.attempts).toBe(1);
  });

  it('a command that fails until the core is fixed is dead-lettered, then replayed once the cause is gone, safely twice', async () => {
    const s = stack as Stack;
    const before = await amountDue(s, 'app', LOAN);
    // the cash core answers 503 to every call: a retryable fault that lasts longer than the attempts
    await s.cli([
      'simulate',
      'fault',
      '--core',
      'cash',
      '--mode',
      'error',
      '--status',
      '503',
      '--url',
      s.coreUrls.cash,
    ]);
    const accepted = await pay(s, paymentRequest('app', LOAN, '7.25', 'USD'));
    const id = `${accepted.paymentId}:apply_payment`;
    const dead = await letter(s, id);
    expect(dead.reason).toMatch(
      new RegExp(`^gave up after ${ATTEMPTS} attempts: cash core: payment answered HTTP 503`),
    );
    expect(dead.attempts).toBe(ATTEMPTS);
    expect(dead.history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'dead']);
    const shown = JSON.parse(await s.cli(['dlq', 'show', id])) as Letter;
    expect(shown.id).toBe(id);
    const hubDb = s.hubDb();
    const status = (id: string) => hubDb.get<{ status: string }>('SELECT status FROM payments WHERE id = ?', [id]);
    expect((await status(accepted.paymentId))?.status).toBe('ACCEPTED');

    // the cause is fixed; the replay brings the command back and it is applied
    await s.cli(['simulate', 'fault', '--core', 'cash', '--mode', 'ok', '--url', s.coreUrls.cash]);
    expect(await s.cli(['dlq', 'replay', '--core', 'cash', '--id', id])).toMatch(/^replayed 1 dead letter of cash/);
    await untilSettled(s, [accepted.paymentId], 30_000);
    expect((await status(accepted.paymentId))?.status).toBe('APPLIED');

    // repeating the replay finds nothing, and the loan was paid exactly once
    expect(await s.cli(['dlq', 'replay', '--core', 'cash', '--id', id])).toMatch(/^replayed 0 /);
    expect((await deadLetters(s)).map((l) => l.id)).not.toContain(id);
    expect(await exactlyOnce(s, [accepted])).toEqual({
      keysWithoutOnePayment: 0,
      notApplied: [],
      appliedEventsNotOne: 0,
      coreMismatches: 0,
    });
    expect(before - (await amountDue(s, 'app', LOAN))).toBe(725n);
  });
});
