import { connect, type Channel } from 'amqplib';
import { Command } from 'commander';
import { registerQueueCommands } from '../../cli/queues-command';
import { CORES } from '../../domain/channel';
import {
  inspectQueues,
  listDeadLetters,
  replayDeadLetters,
  findDeadLetter,
  reportQueues,
} from '../../outbox/rabbitmq-admin';
import { LANES, PAYMENTS_EXCHANGE, declareTopology, laneNames } from '../../outbox/rabbitmq-topology';
import { createRabbitMqTransport } from '../../outbox/rabbitmq-transport';
import { retryQueueDelays } from '../../outbox/retry-schedule';
import type { CoreCommandMessage, Subscription, Transport } from '../../outbox/transport-port';
import { brokerControl, requireTestBroker, vhostUrl } from './test-broker';
import { command, gate, runTransportContract, until, type TransportHarness } from './transport-contract';

const broker = requireTestBroker();
const control = (script: string, ...args: string[]) => brokerControl(broker, script, ...args);

// a virtual host of its own, so this file's queues and broker restarts touch nobody else's messages
const vhost = `transport-${process.pid}-${Date.now()}`;
const url = vhostUrl(broker, vhost);
const DELIVERY_LIMIT = 4;
const RETRY_DELAYS_MS = [50, 100];
const SLOW_RETRY_MS = 60_000;

jest.setTimeout(90_000);

beforeAll(async () => {
  await control('add-vhost', vhost);
});

/** Empties every queue of the vhost (declaring the topology first), so each test starts clean. */
async function resetQueues(): Promise<void> {
  const conn = await connect(url);
  try {
    const ch = await conn.createChannel();
    await declareTopology(ch, { deliveryLimit: DELIVERY_LIMIT, retryDelaysMs: [...RETRY_DELAYS_MS, SLOW_RETRY_MS] });
    for (const lane of LANES) {
      const n = laneNames(lane);
      const retryQueues = retryQueueDelays([...RETRY_DELAYS_MS, SLOW_RETRY_MS]).map(n.retryQueue);
      for (const q of [n.queue, n.deadLetterQueue, ...retryQueues]) {
        await ch.purgeQueue(q);
      }
    }
    await ch.close();
  } finally {
    await conn.close();
  }
}

function makeHarness(): () => Promise<
  TransportHarness & { open(retryDelaysMs?: readonly number[]): Promise<Transport> }
> {
  return async () => {
    await resetQueues();
    const opened: Transport[] = [];
    return {
      async open(retryDelaysMs: readonly number[] = RETRY_DELAYS_MS) {
        const t = createRabbitMqTransport({ url, retryDelaysMs, deliveryLimit: DELIVERY_LIMIT, prefetch: 10 });
        opened.push(t);
        await t.start();
        return t;
      },
      maxAttempts: DELIVERY_LIMIT,
      deadLetters: (lane) => listDeadLetters(url, lane),
      replayDeadLetters: (lane, which) => replayDeadLetters(url, lane, which),
      close: async () => void (await Promise.all(opened.splice(0).map((t) => t.close()))),
    };
  };
}

runTransportContract('rabbitmq', makeHarness());

/** `loanhub <args>` in this process against this file's vhost; stdout and stderr as written. */
async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  const program = new Command('loanhub').exitOverride();
  registerQueueCommands(program);
  const out = { stdout: '', stderr: '' };
  const writes = (['stdout', 'stderr'] as const).map((name) =>
    jest.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array) => {
      out[name] += String(chunk);
      return true;
    }),
  );
  const vars = { LOANHUB_AMQP_URL: url, LOANHUB_AMQP_MANAGEMENT_URL: undefined, ...env };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(vars);
  try {
    await program.parseAsync(['node', 'loanhub', ...args]);
  } finally {
    for (const w of writes) w.mockRestore();
    set(saved);
  }
  return out[stream];
}

describe('rabbitmq transport against a real broker', () => {
  let harness: Awaited<ReturnType<ReturnType<typeof makeHarness>>>;
  const subscriptions: Subscription[] = [];
  beforeEach(async () => {
    harness = await makeHarness()();
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.cancel()));
    await harness.close();
  });

  test('publishing before start is refused, and start gives up on a broker that is not there', async () => {
    const nowhere = createRabbitMqTransport({ url: 'amqp://guest:guest@127.0.0.1:1', startTimeoutMs: 300 });
    expect(nowhere.isReady()).toBe(false);
    await expect(nowhere.publishCommand(command('cash', 'early'))).rejects.toMatchObject({
      code: 'transport_not_ready',
    });
    await expect(nowhere.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(nowhere.isReady()).toBe(false);
    await nowhere.close();
  });

  test('a consumer process that dies with a command unacked: another process gets it again, marked redelivered', async () => {
    const dying = await harness.open();
    const started = gate();
    const never = gate<void>();
    await dying.consumeCommands('cash', async () => {
      started.open();
      await never.promise;
      return { kind: 'ack' };
    });
    const sent = command('cash', 'dies');
    await dying.publishCommand(sent);
    await started.promise;
    const survivor = await harness.open();
    const seen: { message: CoreCommandMessage; attempt: number; redelivered: boolean }[] = [];
    subscriptions.push(
      await survivor.consumeCommands('cash', async (message, d) => {
        seen.push({ message, ...d });
        return { kind: 'ack' };
      }),
    );
    await dying.close(); // the connection goes, as with SIGKILL: the broker takes the unacked delivery back
    await until(() => seen.length === 1, 'the survivor got the command');
    expect(seen[0]).toEqual({ message: sent, attempt: 2, redelivered: true });
    never.open();
  });

  test('acks go out in batches but never for a delivery still in hand: when the consumer dies only that one comes back', async () => {
    const dying = await harness.open(); // prefetch 10
    const sent = Array.from({ length: 10 }, (_, i) => command('cash', 'batch', i));
    const held = sent[3];
    const gates = new Map(sent.map((m) => [m.messageId, gate<void>()]));
    const arrived: string[] = [];
    const finished: string[] = [];
    await dying.consumeCommands('cash', async (m) => {
      arrived.push(m.messageId);
      await gates.get(m.messageId)?.promise;
      finished.push(m.messageId);
      return { kind: 'ack' };
    });
    for (const m of sent) await dying.publishCommand(m);
    await until(() => arrived.length === 10, 'all ten are in hand');
    // amqplib's channel class (the transport's channels are of it too), whose ack this test watches
    const probe = await connect(url);
    const channelClass = Object.getPrototypeOf(await probe.createChannel()) as Channel;
    await probe.close();
    const acks = jest.spyOn(channelClass, 'ack');
    try {
      // finish all but the fourth, out of order: the last ones first, then the first three
      for (const i of [9, 7, 8, 5, 6, 4, 1, 0, 2]) gates.get(sent[i]?.messageId ?? '')?.open();
      await until(() => finished.length === 9, 'nine are done');
      await new Promise((r) => setTimeout(r, 50)); // their acks go out at the end of the turn
      // the first three in one `multiple` ack; the six behind the one in hand one by one
      expect(acks.mock.calls.map(([, multiple]) => multiple === true)).toEqual([
        true,
        false,
        false,
        false,
        false,
        false,
        false,
      ]);
    } finally {
      acks.mockRestore();
    }
    await dying.close(); // as with SIGKILL: the broker takes back whatever is unacked
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      const back: string[] = [];
      await until(async () => {
        const got = await ch.get('loanhub.core.cash', { noAck: true });
        if (got) back.push(got.content.toString('utf8'));
        return back.length > 0;
      }, 'one is back');
      expect(back.map((b) => JSON.parse(b) as { messageId: string }).map((m) => m.messageId)).toEqual([
        held?.messageId,
      ]);
      expect((await ch.checkQueue('loanhub.core.cash')).messageCount).toBe(0); // the nine were acked
    } finally {
      await conn.close();
      gates.get(held?.messageId ?? '')?.open();
    }
  });

  test('a work queue deleted under its consumer is declared again and consumption resumes', async () => {
    const t = await harness.open();
    const seen: string[] = [];
    subscriptions.push(await t.consumeCommands('vehicle', async (m) => (seen.push(m.messageId), { kind: 'ack' })));
    const conn = await connect(url);
    const ch = await conn.createChannel();
    await ch.deleteQueue('loanhub.core.vehicle');
    await conn.close();
    await until(async () => {
      try {
        await t.publishCommand(command('vehicle', 'after-delete'));
        return true;
      } catch {
        return false; // reconnecting, or the queue is not back yet: the outbox would try again
      }
    }, 'a publish to vehicle is confirmed again');
    await until(() => seen.length >= 1, 'the consumer got a command again');
  });

  test('a message that is not JSON is dead-lettered at once with the reason and its body kept', async () => {
    const t = await harness.open();
    const seen: string[] = [];
    subscriptions.push(await t.consumeCommands('vehicle', async (m) => (seen.push(m.messageId), { kind: 'ack' })));
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    ch.publish(PAYMENTS_EXCHANGE, 'vehicle', Buffer.from('{not json'), { messageId: 'poison-1', persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    let letters: Awaited<ReturnType<typeof listDeadLetters>> = [];
    await until(
      async () => (letters = await listDeadLetters(url, 'vehicle')).length === 1,
      'the poison message is dead',
    );
    expect(letters[0]).toMatchObject({ id: 'poison-1', message: null, raw: '{not json' });
    expect(letters[0]?.reason).toMatch(/^malformed message body/);
    expect(seen).toEqual([]);
    expect(await findDeadLetter(url, 'poison-1')).toMatchObject({ id: 'poison-1', lane: 'vehicle' });
  });

  test('a publish nobody can route is refused (mandatory), so the outbox keeps the row', async () => {
    const t = await harness.open();
    const conn = await connect(url);
    const ch = await conn.createChannel();
    await ch.unbindQueue('loanhub.core.mortgage', PAYMENTS_EXCHANGE, 'mortgage');
    try {
      await expect(t.publishCommand(command('mortgage', 'unroutable'))).rejects.toMatchObject({
        code: 'publish_unroutable',
      });
    } finally {
      await ch.bindQueue('loanhub.core.mortgage', PAYMENTS_EXCHANGE, 'mortgage');
      await conn.close();
    }
    await t.publishCommand(command('mortgage', 'routable-again'));
  });

  test('a publish the broker refuses (queue full, reject-publish) is refused and not queued, so the outbox keeps the row', async () => {
    const t = await harness.open();
    const policy = ['-p', vhost, '--apply-to', 'queues', 'cash-full', '^loanhub\\.core\\.cash$', '{"max-length":2}'];
    await control('ctl', 'set_policy', ...policy);
    try {
      const confirmed: string[] = [];
      let refused: CoreCommandMessage | undefined;
      await until(async () => {
        const m = command('cash', 'fill', confirmed.length);
        try {
          await t.publishCommand(m);
          confirmed.push(m.messageId);
          return false;
        } catch (err) {
          if (!(err instanceof Error && 'code' in err && err.code === 'publish_nacked')) throw err;
          refused = m;
          return true;
        }
      }, 'the full queue refuses a publish');
      // a consumer drains the queue below its limit, and the broker takes publishes again
      const seen: string[] = [];
      subscriptions.push(await t.consumeCommands('cash', async (m) => (seen.push(m.messageId), { kind: 'ack' })));
      const marker = command('cash', 'after-full');
      await until(
        () =>
          t.publishCommand(marker).then(
            () => true,
            () => false,
          ),
        'the queue takes messages again',
      );
      await until(
        () => seen.includes(marker.messageId) && confirmed.every((id) => seen.includes(id)),
        'all confirmed ones arrived',
      );
      expect(refused).toBeDefined();
      expect(seen).not.toContain(refused?.messageId);
    } finally {
      await control('ctl', 'clear_policy', '-p', vhost, 'cash-full');
    }
  });

  test('queue counts per core show ready, retrying and dead-lettered messages and consumers', async () => {
    const t = await harness.open([SLOW_RETRY_MS]);
    await Promise.all([0, 1, 2].map((i) => t.publishCommand(command('cash', 'counts', i))));
    const tried: string[] = [];
    subscriptions.push(
      await t.consumeCommands(
        'mortgage',
        async (m) => (tried.push(m.messageId), { kind: 'retry', reason: 'core down' }),
      ),
    );
    subscriptions.push(
      await t.consumeCommands('vehicle', async () => ({ kind: 'dead', reason: 'loan closed long ago' })),
    );
    await t.publishCommand(command('mortgage', 'counts'));
    await t.publishCommand(command('vehicle', 'counts'));
    await until(async () => {
      const counts = await inspectQueues(url, { retryDelaysMs: [...RETRY_DELAYS_MS, SLOW_RETRY_MS] });
      const of = (core: string) => counts.find((c) => c.core === core);
      return (
        of('cash')?.ready === 3 &&
        of('mortgage')?.retrying === 1 &&
        of('vehicle')?.deadLettered === 1 &&
        of('mortgage')?.consumers === 1 &&
        of('cash')?.consumers === 0
      );
    }, 'the counts show 3 ready on cash, 1 retrying on mortgage, 1 dead on vehicle');
    const counts = await inspectQueues(url, { retryDelaysMs: [...RETRY_DELAYS_MS, SLOW_RETRY_MS] });
    expect(counts.map((c) => c.core)).toEqual([...CORES, 'results']);
    expect(tried).toHaveLength(1);
  });

  test('replaying all dead letters of a core sends each back once, and a second replay finds nothing', async () => {
    const t = await harness.open();
    let healthy = false;
    const seen: string[] = [];
    subscriptions.push(
      await t.consumeCommands('cash', async (m) => {
        seen.push(m.messageId);
        return healthy ? { kind: 'ack' } : { kind: 'dead', reason: 'adapter misconfigured' };
      }),
    );
    const sent = [0, 1, 2].map((i) => command('cash', 'replay-all', i));
    await Promise.all(sent.map((m) => t.publishCommand(m)));
    await until(async () => (await listDeadLetters(url, 'cash')).length === 3, 'three dead letters');
    healthy = true;
    expect(await replayDeadLetters(url, 'cash', { all: true })).toBe(3);
    await until(() => seen.length === 6, 'the three came back');
    expect(await replayDeadLetters(url, 'cash', { all: true })).toBe(0);
    expect(new Set(seen.slice(3))).toEqual(new Set(sent.map((m) => m.messageId)));
    expect(await listDeadLetters(url, 'cash')).toEqual([]);
  });

  test('loanhub queues and loanhub dlq list / show / replay work against the broker', async () => {
    const t = await harness.open();
    let healthy = false;
    const seen: string[] = [];
    subscriptions.push(
      await t.consumeCommands('mortgage', async (m) => {
        seen.push(m.messageId);
        return healthy ? { kind: 'ack' } : { kind: 'dead', reason: 'allocation rule missing' };
      }),
    );
    const sent = command('mortgage', 'cli');
    await t.publishCommand(sent);
    await until(async () => (await listDeadLetters(url, 'mortgage')).length === 1, 'the command is dead');
    const cli = (...args: string[]): Promise<string> => runCli(args);
    const counts = JSON.parse(await cli('queues', '--json', '--retry-delays', RETRY_DELAYS_MS.join(','))) as {
      core: string;
      deadLettered: number;
      consumers: number;
    }[];
    expect(counts.find((c) => c.core === 'mortgage')).toMatchObject({ deadLettered: 1, consumers: 1 });
    const table = await cli('queues', '--retry-delays', RETRY_DELAYS_MS.join(','));
    expect(table).toMatch(
      /^core\s+ready\s+unacked\s+retrying\s+dead\s+consumers\n(.*\n)*mortgage\s+0\s+-\s+0\s+1\s+1\n/,
    );
    // without the management API the output says why unacked is missing
    expect(table).toContain(
      'unacked not available: AMQP does not report unacked messages; set LOANHUB_AMQP_MANAGEMENT_URL',
    );
    const listed = JSON.parse(await cli('dlq', 'list', '--core', 'mortgage', '--json')) as {
      id: string;
      reason: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ id: sent.messageId, reason: 'allocation rule missing' })]);
    expect(await cli('dlq', 'list', '--core', 'mortgage')).toContain(sent.messageId);
    expect(JSON.parse(await cli('dlq', 'show', sent.messageId))).toMatchObject({
      id: sent.messageId,
      lane: 'mortgage',
      message: sent,
    });
    healthy = true;
    expect(await cli('dlq', 'replay', '--core', 'mortgage', '--id', sent.messageId)).toBe(
      'replayed 1 dead letter of mortgage\n',
    );
    await until(() => seen.length === 2, 'the replayed command arrived');
    expect(await cli('dlq', 'replay', '--core', 'mortgage', '--all')).toBe('replayed 0 dead letters of mortgage\n');
  });

  test('loanhub queues reads unacked from the management API, and says so plainly when it cannot', async () => {
    const managementUrl = process.env.LOANHUB_TEST_AMQP_MANAGEMENT_URL;
    if (!managementUrl) {
      throw new Error('LOANHUB_TEST_AMQP_MANAGEMENT_URL is not set: scripts/test-servers/start.sh enables the plugin');
    }
    const t = await harness.open();
    const held = gate();
    const started: string[] = [];
    subscriptions.push(
      await t.consumeCommands('vehicle', async (m) => {
        started.push(m.messageId);
        await held.promise;
        return { kind: 'ack' };
      }),
    );
    await Promise.all([0, 1].map((i) => t.publishCommand(command('vehicle', 'unacked', i))));
    await until(() => started.length === 2, 'the consumer holds both');
    try {
      // the broker's statistics refresh every few seconds
      let report: Awaited<ReturnType<typeof reportQueues>> | undefined;
      await until(
        async () => {
          report = await reportQueues(url, { managementUrl });
          return report.counts.find((c) => c.core === 'vehicle')?.unacked === 2;
        },
        'the management API shows 2 unacked on vehicle',
        30_000,
      );
      expect(report?.unacked).toEqual({ kind: 'management' });
      expect(report?.counts.find((c) => c.core === 'cash')?.unacked).toBe(0);
      const table = await runCli(['queues'], { LOANHUB_AMQP_MANAGEMENT_URL: managementUrl });
      expect(table).toMatch(/\nvehicle\s+0\s+2\s+0\s+0\s+1\n/);
      expect(table).not.toContain('not available');
      const json = JSON.parse(await runCli(['queues', '--json'], { LOANHUB_AMQP_MANAGEMENT_URL: managementUrl })) as {
        core: string;
        unacked: number | null;
      }[];
      expect(json.find((c) => c.core === 'vehicle')?.unacked).toBe(2);

      // wrong password, and nothing listening: the counts still come, unacked says why it is missing
      const wrong = new URL(managementUrl);
      wrong.password = 'not-the-password';
      const refused = await runCli(['queues'], { LOANHUB_AMQP_MANAGEMENT_URL: wrong.toString() });
      expect(refused).toMatch(/\nvehicle\s+0\s+-\s+0\s+0\s+1\n/);
      expect(refused).toMatch(
        /unacked not available: management API at .* answered HTTP 401: wrong user or password\n$/,
      );
      expect(refused).not.toContain('not-the-password');
      const silent = await runCli(
        ['queues', '--json'],
        { LOANHUB_AMQP_MANAGEMENT_URL: 'http://127.0.0.1:1' },
        'stderr',
      );
      expect(silent).toMatch(
        /^loanhub: unacked not available: management API at http:\/\/127\.0\.0\.1:1\/ did not answer/,
      );
    } finally {
      held.open();
    }
  });

  test('retries are spread: commands that failed together come back through different retry queues', async () => {
    const BASE_MS = 400;
    const t = await harness.open([BASE_MS]);
    const attempts = new Map<string, number[]>();
    subscriptions.push(
      await t.consumeCommands('mortgage', async (m, d) => {
        const at = attempts.get(m.messageId) ?? [];
        at.push(Date.now());
        attempts.set(m.messageId, at);
        return d.attempt === 1 ? { kind: 'retry', reason: 'core unavailable' } : { kind: 'ack' };
      }),
    );
    const sent = Array.from({ length: 30 }, (_, i) => command('mortgage', 'jitter', i));
    await Promise.all(sent.map((m) => t.publishCommand(m)));
    await until(() => [...attempts.values()].filter((a) => a.length === 2).length === 30, 'every command came back');
    const waits = [...attempts.values()].map(([first = 0, second = 0]) => second - first);
    // three retry queues of 320, 400 and 480 ms: the backs spread over them instead of one wave at 400 ms
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(100);
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      for (const d of [320, 400, 480]) await ch.checkQueue(laneNames('mortgage').retryQueue(d));
    } finally {
      await conn.close();
    }
  });

  test('a broker restart in the middle of a stream loses no command, and publishing while it is down is refused', async () => {
    const publisher = await harness.open();
    const consumer = await harness.open();
    const received = new Map<string, number>();
    subscriptions.push(
      await consumer.consumeCommands('cash', async (m) => {
        received.set(m.messageId, (received.get(m.messageId) ?? 0) + 1);
        return { kind: 'ack' };
      }),
    );
    // the stream runs until the broker is back and 500 more commands are confirmed (well over 1,000 in all)
    const stream: CoreCommandMessage[] = [];
    let restarted = false;
    let confirmedAfterRestart = 0;
    let confirmed = 0;
    const refusals = new Map<string, number>();
    // what the outbox relay does: a refused publish keeps the row, which is published again later
    const publishUntilConfirmed = async (m: CoreCommandMessage): Promise<void> => {
      for (;;) {
        try {
          await publisher.publishCommand(m);
          confirmed += 1;
          if (restarted) confirmedAfterRestart += 1;
          return;
        } catch (err) {
          const code = err instanceof Error && 'code' in err ? String(err.code) : 'other';
          refusals.set(code, (refusals.get(code) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const lanes = Array.from({ length: 4 }, async () => {
      while (!restarted || confirmedAfterRestart < 500) {
        const m = command('cash', 'restart', stream.length);
        stream.push(m);
        await publishUntilConfirmed(m);
        await new Promise((r) => setTimeout(r, 5)); // a steady stream, not a burst that ends before the restart
      }
    });
    await until(() => confirmed >= 300, '300 commands of the stream are confirmed');
    await control('stop');
    await until(() => !publisher.isReady(), 'the publisher noticed the broker is gone');
    await expect(publisher.publishCommand(command('cash', 'while-down'))).rejects.toMatchObject({
      code: 'transport_not_ready',
    });
    await control('start');
    restarted = true;
    await Promise.all(lanes);
    const total = stream.length;
    await until(() => stream.every((m) => received.has(m.messageId)), 'every command of the stream arrived', 60_000);
    expect(confirmed).toBe(total);
    expect(stream.filter((m) => !received.has(m.messageId))).toEqual([]);
    expect(refusals.size).toBeGreaterThan(0);
    // at least once: a command in flight when the broker stopped may come twice (consumers are idempotent)
    const duplicates = [...received.values()].filter((n) => n > 1).length;
    console.log(
      `broker restart: ${total} commands, ${confirmed} confirmed, refusals ${JSON.stringify(Object.fromEntries(refusals))}, ${duplicates} delivered twice`,
    );
  });
});
