import { Registry } from 'prom-client';
import { createQueueMetrics, type LaneDepth } from '../../metrics/queue-metrics';
import { sample } from './scrape';

// The queue gauges never fail or hang a scrape: a source that throws or never answers turns
// loanhub_queue_stats_up to 0 and the scrape still answers; a source that answers sets every gauge.

const depth = (lane: LaneDepth['lane'], n: number, unacked: number | null): LaneDepth => ({
  lane,
  ready: n,
  unacked,
  retrying: n + 1,
  deadLettered: n + 2,
  consumers: 1,
});

it('sets ready, unacked (only when known), retrying, dead letters and consumers per core from its source', async () => {
  const registry = new Registry();
  createQueueMetrics(registry, async () => [depth('cash', 4, 2), depth('mortgage', 7, null)]);
  const text = await registry.metrics();
  expect(sample(text, 'loanhub_queue_stats_up')).toBe(1);
  expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'ready' })).toBe(4);
  expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'unacked' })).toBe(2);
  expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'retrying' })).toBe(5);
  expect(sample(text, 'loanhub_queue_messages', { core: 'mortgage', state: 'unacked' })).toBeUndefined();
  expect(sample(text, 'loanhub_dead_letters', { core: 'mortgage' })).toBe(9);
  expect(sample(text, 'loanhub_queue_consumers', { core: 'cash' })).toBe(1);
});

it('a source that fails gives loanhub_queue_stats_up 0, keeps the last values and says why', async () => {
  const registry = new Registry();
  let fail = false;
  const errors: string[] = [];
  createQueueMetrics(
    registry,
    async () => {
      if (fail) throw new Error('connection refused');
      return [depth('cash', 3, null)];
    },
    { onError: (err) => errors.push(String(err)) },
  );
  expect(sample(await registry.metrics(), 'loanhub_queue_stats_up')).toBe(1);
  fail = true;
  await new Promise((r) => setTimeout(r, 300)); // past the window in which one scrape's gauges share a read
  const text = await registry.metrics();
  expect(sample(text, 'loanhub_queue_stats_up')).toBe(0);
  expect(sample(text, 'loanhub_dead_letters', { core: 'cash' })).toBe(5);
  expect(errors).toEqual(['Error: connection refused']);
});

it('a source that never answers does not hang the scrape', async () => {
  const registry = new Registry();
  createQueueMetrics(registry, () => new Promise<never>(() => undefined), { timeoutMs: 50 });
  const text = await registry.metrics();
  expect(sample(text, 'loanhub_queue_stats_up')).toBe(0);
  expect(sample(text, 'loanhub_dead_letters', { core: 'cash' })).toBeUndefined();
});
