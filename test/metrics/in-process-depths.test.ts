import { Registry } from 'prom-client';
import { createQueueMetrics, inProcessDepthSource } from '../../metrics/queue-metrics';
import { createInProcessTransport } from '../../outbox/in-process-transport';
import { command, gate, until } from '../transport/transport-contract';
import { sample } from './scrape';

// The embedded mode's queue gauges come from the in-process transport: a command with no consumer is
// ready, one a handler holds is unacked, one waiting out a retry delay is retrying, and one given up on
// is a dead letter of its core.

it('ready, unacked, retrying and dead per core from the in-process transport', async () => {
  const transport = createInProcessTransport({ retryDelaysMs: [60_000], maxAttempts: 2 });
  await transport.start();
  const registry = new Registry();
  createQueueMetrics(registry, inProcessDepthSource(transport));
  const scrape = async (): Promise<string> => {
    await new Promise((r) => setTimeout(r, 300)); // past the window in which one scrape's gauges share a read
    return registry.metrics();
  };
  try {
    const pending = [transport.publishCommand(command('vehicle', 'ready'))];
    let text = await scrape();
    expect(sample(text, 'loanhub_queue_messages', { core: 'vehicle', state: 'ready' })).toBe(1);
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'ready' })).toBe(0);

    // cash: a handler holds the first command; the second is retried once (60 s delay)
    const held = gate();
    let calls = 0;
    await transport.consumeCommands('cash', async () => {
      calls += 1;
      if (calls === 1) {
        await held.promise;
        return { kind: 'ack' };
      }
      return { kind: 'retry', reason: 'core down' };
    });
    pending.push(transport.publishCommand(command('cash', 'held')));
    await until(() => calls === 1, 'the first cash command in its handler');
    pending.push(transport.publishCommand(command('cash', 'retried')));
    await until(() => calls === 2, 'the second cash command tried');
    text = await scrape();
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'unacked' })).toBe(1);
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'retrying' })).toBe(1);
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'ready' })).toBe(0);
    held.open();

    // mortgage: a handler that gives up at once makes a dead letter of mortgage
    await transport.consumeCommands('mortgage', async () => ({ kind: 'dead', reason: 'unreadable' }));
    pending.push(transport.publishCommand(command('mortgage', 'dead')));
    await until(async () => (await transport.deadLetters('mortgage')).length === 1, 'the mortgage dead letter');
    text = await scrape();
    expect(sample(text, 'loanhub_dead_letters', { core: 'mortgage' })).toBe(1);
    expect(sample(text, 'loanhub_dead_letters', { core: 'cash' })).toBe(0);
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'unacked' })).toBe(0);
    expect(sample(text, 'loanhub_queue_stats_up')).toBe(1);
    for (const p of pending) p.catch(() => undefined);
  } finally {
    await transport.close();
  }
});
