import { TransportError } from '../../outbox/transport-port';
import {
  createInProcessTransport,
  listInProcessDeadLetters,
  replayInProcessDeadLetters,
  type InProcessTransport,
} from '../../outbox/in-process-transport';
import { command, gate, runTransportContract, until } from './transport-contract';

const MAX_ATTEMPTS = 4;

runTransportContract('in-process', async () => {
  const transport = createInProcessTransport({ retryDelaysMs: [5, 10, 20], maxAttempts: MAX_ATTEMPTS });
  await transport.start();
  return {
    open: async () => transport,
    maxAttempts: MAX_ATTEMPTS,
    deadLetters: async (lane) => listInProcessDeadLetters(transport, lane),
    replayDeadLetters: async (lane, which) => replayInProcessDeadLetters(transport, lane, which),
    close: () => transport.close(),
  };
});

describe('in-process transport: memory is not durable, so a publish waits for the consumer', () => {
  let transport: InProcessTransport;
  beforeEach(async () => {
    transport = createInProcessTransport({ retryDelaysMs: [5], maxAttempts: 3 });
    await transport.start();
  });
  afterEach(() => transport.close());

  test('a publish stays pending until a consumer acks it, so the outbox row stays pending', async () => {
    let settled = false;
    const published = transport.publishCommand(command('cash', 'pending')).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    const release = gate();
    const started = gate();
    await transport.consumeCommands('cash', async () => {
      started.open();
      await release.promise;
      return { kind: 'ack' };
    });
    await started.promise;
    expect(settled).toBe(false);
    release.open();
    await published;
    expect(settled).toBe(true);
  });

  test('closing rejects every publish still waiting with transport_closed, and later publishes are refused', async () => {
    const waiting = transport.publishCommand(command('vehicle', 'closing'));
    const retrying = transport.publishCommand(command('cash', 'closing-retry'));
    const handled: string[] = [];
    await transport.consumeCommands('cash', async (m) => {
      handled.push(m.messageId);
      return { kind: 'retry', reason: 'core down' };
    });
    await until(() => handled.length === 1, 'the cash command was tried once');
    await transport.close();
    await expect(waiting).rejects.toMatchObject({ code: 'transport_closed' });
    await expect(retrying).rejects.toMatchObject({ code: 'transport_closed' });
    await expect(transport.publishCommand(command('cash', 'late'))).rejects.toBeInstanceOf(TransportError);
    expect(transport.isReady()).toBe(false);
  });

  test('a publish before start is refused with transport_not_ready', async () => {
    const fresh = createInProcessTransport();
    expect(fresh.isReady()).toBe(false);
    await expect(fresh.publishCommand(command('cash', 'early'))).rejects.toMatchObject({ code: 'transport_not_ready' });
    await fresh.close();
  });

  test('two consumers of one core share its commands', async () => {
    const a: string[] = [];
    const b: string[] = [];
    await transport.consumeCommands('mortgage', async (m) => (a.push(m.messageId), { kind: 'ack' }));
    await transport.consumeCommands('mortgage', async (m) => (b.push(m.messageId), { kind: 'ack' }));
    await Promise.all([0, 1, 2, 3].map((i) => transport.publishCommand(command('mortgage', 'share', i))));
    expect(a.length + b.length).toBe(4);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });
});
