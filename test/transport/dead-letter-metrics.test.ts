import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'amqplib';
import { Registry } from 'prom-client';
import { createCoreCommandHandler } from '../../adapters/core-consumer';
import { CoreUnavailableError, type CoreAdapter } from '../../adapters/core-port';
import type { Core } from '../../domain/channel';
import { minorUnits } from '../../domain/money';
import { createLogger } from '../../logging/logger';
import { commandOutcomeObserver, createCoreMetrics, type CoreMetrics } from '../../metrics/core-metrics';
import { createInProcessTransport } from '../../outbox/in-process-transport';
import { listDeadLetters } from '../../outbox/rabbitmq-admin';
import { PAYMENTS_EXCHANGE } from '../../outbox/rabbitmq-topology';
import { createRabbitMqTransport } from '../../outbox/rabbitmq-transport';
import type { Subscription, Transport } from '../../outbox/transport-port';
import { openSqliteDeadLetters } from '../../store/sqlite/sqlite-dead-letters';
import { brokerControl, requireTestBroker, vhostUrl } from './test-broker';
import { command, until } from './transport-contract';

// Bug (issue 13): a command the RabbitMQ transport dead-lettered after its attempts was counted in
// loanhub_commands_retried_total (the worker's last answer was `retry`) and never in
// loanhub_commands_dead_lettered_total; an unreadable message was counted nowhere. Every way onto the
// dead letters now counts once, read here from the metric, on the real broker and on the embedded
// transport with its durable dead letters.

const broker = requireTestBroker();
const vhost = `dlq-metrics-${process.pid}-${Date.now()}`;
const url = vhostUrl(broker, vhost);
const DELIVERY_LIMIT = 3;
const RETRY_DELAYS_MS = [30, 60];

jest.setTimeout(60_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-dlq-metrics-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await brokerControl(broker, 'add-vhost', vhost);
});

const quiet = createLogger({ level: 'silent' });

/** A core that cannot answer (retryable) or that applies every payment. */
function adapterFor(core: Core, down: boolean): CoreAdapter {
  return {
    core,
    inquire: async () => null,
    applyPayment: async () => {
      if (down) throw new CoreUnavailableError(core, `${core} core is down`, true);
      return { kind: 'applied', coreReference: 'CR-1', amountDueAfter: minorUnits(0n) };
    },
    reversePayment: async () => {
      throw new CoreUnavailableError(core, `${core} core is down`, true);
    },
  };
}

async function counted(metrics: CoreMetrics, which: 'retried' | 'deadLettered', core: Core): Promise<number> {
  const { values } = await metrics[which].get();
  return values.find((v) => v.labels.core === core)?.value ?? 0;
}

interface Setup {
  readonly transport: Transport;
  readonly metrics: CoreMetrics;
  readonly registry: Registry;
  deadCount(core: Core): Promise<number>;
  close(): Promise<void>;
}

/** The RabbitMQ transport on this file's vhost, counting its outcomes into metrics of its own. */
async function openRabbitMq(): Promise<Setup> {
  const registry = new Registry();
  const metrics = createCoreMetrics(registry);
  const transport = createRabbitMqTransport({
    url,
    retryDelaysMs: RETRY_DELAYS_MS,
    deliveryLimit: DELIVERY_LIMIT,
    observer: commandOutcomeObserver(metrics),
  });
  await transport.start();
  return {
    transport,
    metrics,
    registry,
    deadCount: async (core) => (await listDeadLetters(url, core)).length,
    close: () => transport.close(),
  };
}

const cases: Array<{ name: string; open: () => Promise<Setup> }> = [
  { name: 'rabbitmq', open: openRabbitMq },
  {
    name: 'in-process with durable dead letters',
    open: async () => {
      const registry = new Registry();
      const metrics = createCoreMetrics(registry);
      // the embedded hub's durable dead letters (its SQLite file)
      const letters = openSqliteDeadLetters({ file: path.join(dir, `hub-${Date.now()}-${Math.random()}.db`) });
      const transport = createInProcessTransport({
        retryDelaysMs: RETRY_DELAYS_MS,
        maxAttempts: DELIVERY_LIMIT,
        deadLetters: letters,
        observer: commandOutcomeObserver(metrics),
      });
      await transport.start();
      return {
        transport,
        metrics,
        registry,
        deadCount: async (core) => (await letters.list(core)).length,
        close: async () => {
          await transport.close();
          await letters.close();
        },
      };
    },
  },
];

describe.each(cases)('loanhub_commands_dead_lettered_total on the $name transport', ({ open }) => {
  let setup: Setup;
  const subscriptions: Subscription[] = [];
  beforeEach(async () => {
    setup = await open();
    // a worker publishes the core's answer before it acks; the in-process transport holds it for a consumer
    subscriptions.push(await setup.transport.consumeResults(async () => undefined));
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.cancel()));
    await setup.close();
  });

  const consume = async (core: Core, down: boolean): Promise<void> => {
    const handler = createCoreCommandHandler({
      core,
      adapter: adapterFor(core, down),
      transport: setup.transport,
      logger: quiet,
      metrics: setup.metrics,
    });
    subscriptions.push(await setup.transport.consumeCommands(core, handler));
  };

  test('a command whose core stays down is retried, then counted once as dead-lettered, not as a retry', async () => {
    const before = await setup.deadCount('cash');
    await consume('cash', true);
    // the in-process transport resolves the publish once the message is finished (here: dead)
    await setup.transport.publishCommand(command('cash', 'down'));
    await until(async () => (await setup.deadCount('cash')) === before + 1, 'the command is dead');
    await until(async () => (await counted(setup.metrics, 'deadLettered', 'cash')) === 1, 'the metric counts it');
    expect(await counted(setup.metrics, 'retried', 'cash')).toBe(DELIVERY_LIMIT - 1);
    expect(await counted(setup.metrics, 'deadLettered', 'cash')).toBe(1);
    expect(await setup.registry.metrics()).toContain('loanhub_commands_dead_lettered_total{core="cash"} 1');
  });

  test('a command the worker refuses (an amount it cannot read) is dead-lettered at once and counted once', async () => {
    const before = await setup.deadCount('mortgage');
    await consume('mortgage', false);
    const bad = command('mortgage', 'bad');
    await setup.transport.publishCommand({ ...bad, body: { ...bad.body, amount: '12,50' } });
    await until(async () => (await setup.deadCount('mortgage')) === before + 1, 'the command is dead');
    await until(async () => (await counted(setup.metrics, 'deadLettered', 'mortgage')) === 1, 'the metric counts it');
    expect(await counted(setup.metrics, 'retried', 'mortgage')).toBe(0);
  });

  test('an applied command counts neither a retry nor a dead letter', async () => {
    await consume('vehicle', false);
    const consumed = async (): Promise<number> =>
      (await setup.metrics.consumed.get()).values.find((v) => v.labels.core === 'vehicle')?.value ?? 0;
    await setup.transport.publishCommand(command('vehicle', 'ok'));
    await until(async () => (await consumed()) === 1, 'the command was consumed');
    await new Promise((r) => setTimeout(r, 200));
    expect(await counted(setup.metrics, 'retried', 'vehicle')).toBe(0);
    expect(await counted(setup.metrics, 'deadLettered', 'vehicle')).toBe(0);
  });
});

test('rabbitmq: a message that is not JSON never reaches the worker, and its dead letter is counted', async () => {
  const { transport, metrics, deadCount, close } = await openRabbitMq();
  const before = await deadCount('vehicle');
  const handler = createCoreCommandHandler({
    core: 'vehicle',
    adapter: adapterFor('vehicle', false),
    transport,
    logger: quiet,
    metrics,
  });
  const sub = await transport.consumeCommands('vehicle', handler);
  try {
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    ch.publish(PAYMENTS_EXCHANGE, 'vehicle', Buffer.from('{not json'), { messageId: 'poison-m', persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    await until(async () => (await deadCount('vehicle')) === before + 1, 'the poison message is dead');
    await until(async () => (await counted(metrics, 'deadLettered', 'vehicle')) === 1, 'the metric counts it');
    expect((await metrics.consumed.get()).values.find((v) => v.labels.core === 'vehicle')?.value ?? 0).toBe(0);
  } finally {
    await sub.cancel();
    await close();
  }
});
