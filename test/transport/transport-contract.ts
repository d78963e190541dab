import { randomUUID } from 'node:crypto';
import { CORES, type Core } from '../../domain/channel';
import {
  MESSAGE_SCHEMA_VERSION,
  type CoreCommandMessage,
  type CoreResultMessage,
  type DeadLetter,
  type DeliveryInfo,
  type Disposition,
  type Lane,
  type Subscription,
  type Transport,
} from '../../outbox/transport-port';

// The one contract every Transport keeps (STYLE habit 10): in-process-transport.test.ts and
// rabbitmq-transport.test.ts run these same stories against their implementation.

export interface TransportHarness {
  /** A started transport on the shared broker (in production: another process). In-process: the same memory. */
  open(): Promise<Transport>;
  /** The attempt limit the harness configured (maxAttempts / deliveryLimit). */
  readonly maxAttempts: number;
  deadLetters(lane: Lane): Promise<readonly DeadLetter[]>;
  replayDeadLetters(lane: Lane, which: { id?: string; all?: boolean }): Promise<number>;
  /** Closes every transport it opened. */
  close(): Promise<void>;
}

export function command(core: Core, tag: string, i = 0): CoreCommandMessage {
  const paymentId = randomUUID();
  return {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    messageId: `${paymentId}:apply_payment`,
    type: 'apply_payment',
    paymentId,
    core,
    correlationId: `${tag}-${i}`,
    timestamp: new Date().toISOString(),
    traceparent: `00-${randomUUID().replaceAll('-', '')}-${randomUUID().replaceAll('-', '').slice(0, 16)}-01`,
    body: {
      loanNumber: '100000000001',
      amount: '125.50',
      currency: 'PEN',
      receiptNumber: `A-20261123-${String(i).padStart(4, '0')}-0001`,
      channel: 'app',
      businessDate: '2026-11-23',
    },
  };
}

export function result(core: Core, tag: string): CoreResultMessage {
  const paymentId = randomUUID();
  return {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    messageId: `${paymentId}:payment_applied`,
    type: 'payment_applied',
    paymentId,
    core,
    correlationId: tag,
    timestamp: new Date().toISOString(),
    body: { coreReference: 'CR-1', amountDueAfter: '874.50' },
  };
}

/** A promise with its resolver outside, for handlers that wait on the test. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves once `predicate` holds, checking on every event-loop turn that has new deliveries. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Seen {
  readonly message: CoreCommandMessage;
  readonly delivery: DeliveryInfo;
}

export function runTransportContract(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`${name} transport contract`, () => {
    let harness: TransportHarness;
    const subscriptions: Subscription[] = [];
    const consume = async (
      transport: Transport,
      core: Core,
      decide: (m: CoreCommandMessage, d: DeliveryInfo) => Promise<Disposition> | Disposition,
      seen: Seen[] = [],
    ): Promise<Seen[]> => {
      subscriptions.push(
        await transport.consumeCommands(core, async (message, delivery) => {
          seen.push({ message, delivery });
          return decide(message, delivery);
        }),
      );
      return seen;
    };

    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.cancel()));
      await harness.close();
    });

    test('each command reaches only the consumer of its core', async () => {
      const t = await harness.open();
      const seen = new Map<Core, Seen[]>();
      for (const core of CORES) seen.set(core, await consume(t, core, () => ({ kind: 'ack' })));
      const sent = CORES.flatMap((core) => [0, 1, 2].map((i) => command(core, 'routing', i)));
      await Promise.all(sent.map((m) => t.publishCommand(m)));
      await until(() => [...seen.values()].every((s) => s.length === 3), 'every core has its three commands');
      for (const core of CORES) {
        const got = seen.get(core) ?? [];
        expect(got.map((s) => s.message.core)).toEqual([core, core, core]);
        expect(new Set(got.map((s) => s.message.messageId))).toEqual(
          new Set(sent.filter((m) => m.core === core).map((m) => m.messageId)),
        );
      }
    });

    test('a delivered command arrives whole, on its first attempt', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'mortgage', () => ({ kind: 'ack' }));
      const sent = command('mortgage', 'whole');
      await t.publishCommand(sent);
      await until(() => seen.length === 1, 'the command arrived');
      expect(seen[0]?.message).toEqual(sent);
      expect(seen[0]?.delivery).toEqual({ attempt: 1, redelivered: false });
    });

    test('an acked command is not delivered again', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'cash', () => ({ kind: 'ack' }));
      const first = command('cash', 'ack-first');
      await t.publishCommand(first);
      await until(() => seen.length === 1, 'the first command arrived');
      // a later command is handled after anything still owed for the first one would have come back
      const second = command('cash', 'ack-second');
      await t.publishCommand(second);
      await until(() => seen.some((s) => s.message.messageId === second.messageId), 'the second command arrived');
      expect(seen.filter((s) => s.message.messageId === first.messageId)).toHaveLength(1);
      expect(await harness.deadLetters('cash')).toEqual([]);
    });

    test('a retried command comes back with a growing attempt count until it is acked', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'vehicle', (_m, d) =>
        d.attempt < 3 ? { kind: 'retry', reason: 'core unavailable' } : { kind: 'ack' },
      );
      await t.publishCommand(command('vehicle', 'retry'));
      await until(() => seen.length === 3, 'the third attempt');
      expect(seen.map((s) => s.delivery)).toEqual([
        { attempt: 1, redelivered: false },
        { attempt: 2, redelivered: true },
        { attempt: 3, redelivered: true },
      ]);
      expect(await harness.deadLetters('vehicle')).toEqual([]);
    });

    test('a command retried up to the limit is dead-lettered with its reason and history', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'cash', () => ({
        kind: 'retry',
        reason: 'core unavailable: connect ECONNREFUSED',
      }));
      const sent = command('cash', 'limit');
      await t.publishCommand(sent);
      let letters: readonly DeadLetter[] = [];
      await until(async () => (letters = await harness.deadLetters('cash')).length === 1, 'the command is dead');
      expect(seen.map((s) => s.delivery.attempt)).toEqual(Array.from({ length: harness.maxAttempts }, (_, i) => i + 1));
      const letter = letters[0];
      expect(letter?.id).toBe(sent.messageId);
      expect(letter?.message).toEqual(sent);
      expect(letter?.attempts).toBe(harness.maxAttempts);
      expect(letter?.reason).toContain('core unavailable: connect ECONNREFUSED');
      expect(letter?.history.filter((h) => h.outcome === 'retry')).toHaveLength(harness.maxAttempts - 1);
    });

    test('a command the consumer declares dead goes to the dead letters at once with that reason', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'mortgage', () => ({ kind: 'dead', reason: 'unsupported schema version 9' }));
      const sent = command('mortgage', 'dead');
      await t.publishCommand(sent);
      let letters: readonly DeadLetter[] = [];
      await until(async () => (letters = await harness.deadLetters('mortgage')).length === 1, 'the command is dead');
      expect(seen).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        id: sent.messageId,
        lane: 'mortgage',
        reason: 'unsupported schema version 9',
        attempts: 1,
      });
    });

    test('a handler that crashes does not lose the command: it is delivered again', async () => {
      const t = await harness.open();
      const seen = await consume(t, 'cash', (_m, d) => {
        if (d.attempt === 1) throw new Error('adapter bug');
        return { kind: 'ack' };
      });
      const sent = command('cash', 'crash');
      await t.publishCommand(sent);
      await until(() => seen.length === 2, 'the second delivery');
      expect(seen[1]?.message.messageId).toBe(sent.messageId);
      expect(seen[1]?.delivery.redelivered).toBe(true);
      expect(seen[1]?.delivery.attempt).toBe(2);
    });

    test('a replayed dead letter is delivered again, and replaying it twice does nothing more', async () => {
      const t = await harness.open();
      let fixed = false;
      const seen = await consume(t, 'vehicle', () => (fixed ? { kind: 'ack' } : { kind: 'dead', reason: 'poison' }));
      const sent = command('vehicle', 'replay');
      await t.publishCommand(sent);
      await until(async () => (await harness.deadLetters('vehicle')).length === 1, 'the command is dead');
      fixed = true;
      expect(await harness.replayDeadLetters('vehicle', { id: sent.messageId })).toBe(1);
      await until(() => seen.length === 2, 'the replayed command arrived');
      expect(seen[1]?.message).toEqual(sent);
      expect(seen[1]?.delivery.attempt).toBe(1);
      expect(await harness.replayDeadLetters('vehicle', { id: sent.messageId })).toBe(0);
      expect(await harness.replayDeadLetters('vehicle', { all: true })).toBe(0);
      expect(await harness.deadLetters('vehicle')).toEqual([]);
    });

    test('a core result reaches the hub handler whole', async () => {
      const t = await harness.open();
      const got: CoreResultMessage[] = [];
      subscriptions.push(await t.consumeResults(async (m) => void got.push(m)));
      const sent = [result('cash', 'r1'), result('vehicle', 'r2')];
      await Promise.all(sent.map((m) => t.publishResult(m)));
      await until(() => got.length === 2, 'both results arrived');
      expect(new Set(got.map((m) => m.messageId))).toEqual(new Set(sent.map((m) => m.messageId)));
      expect(got.find((m) => m.messageId === sent[0]?.messageId)).toEqual(sent[0]);
    });

    test('a result whose handler fails is delivered again', async () => {
      const t = await harness.open();
      const got: CoreResultMessage[] = [];
      subscriptions.push(
        await t.consumeResults(async (m) => {
          got.push(m);
          if (got.length === 1) throw new Error('database locked');
        }),
      );
      const sent = result('mortgage', 'r-retry');
      await t.publishResult(sent);
      await until(() => got.length === 2, 'the result came again');
      expect(got[1]).toEqual(sent);
    });

    test('cancel waits for the handler in flight, which still acks', async () => {
      const t = await harness.open();
      const release = gate();
      const started = gate();
      const seen = await consume(t, 'cash', async () => {
        started.open();
        await release.promise;
        return { kind: 'ack' };
      });
      const sent = command('cash', 'cancel');
      const published = t.publishCommand(sent);
      await started.promise;
      const sub = subscriptions.pop();
      let cancelled = false;
      const cancelling = sub?.cancel().then(() => (cancelled = true));
      await new Promise((r) => setImmediate(r));
      expect(cancelled).toBe(false);
      release.open();
      await cancelling;
      await published;
      expect(cancelled).toBe(true);
      // nothing comes back to a new consumer: the command was acked before cancel resolved
      const after = await consume(t, 'cash', () => ({ kind: 'ack' }));
      const marker = command('cash', 'cancel-marker');
      await t.publishCommand(marker);
      await until(() => after.length >= 1, 'the marker arrived');
      expect(after.map((s) => s.message.messageId)).toEqual([marker.messageId]);
      expect(seen).toHaveLength(1);
    });
  });
}
