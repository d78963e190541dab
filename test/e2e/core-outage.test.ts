import { CORES, type Core } from '../../domain/channel';
import {
  amountDue,
  exactlyOnce,
  metric,
  payAll,
  paymentRequest,
  requireBroker,
  startStack,
  untilSettled,
  waitFor,
  type Accepted,
  type Stack,
} from './process-harness';
import { placeholders } from '../integration/hub-db';

// The cash core drops every connection for 30 s while channels keep paying all three cores. Its
// worker's breaker opens, its commands wait in the retry queues, the other cores keep applying, and
// after the core heals the backlog drains by itself with nothing dead-lettered.
const broker = requireBroker();
jest.setTimeout(180_000);

const OUTAGE_MS = 30_000;
const LOANS: Readonly<Record<Core, string>> = {
  cash: '100000000001',
  mortgage: '200000000001',
  vehicle: '300000000001',
};
const CLOSED = 0;
const OPEN = 1;

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

function batch(perCore: number) {
  return Array.from({ length: perCore * CORES.length }, (_, i) => {
    const core = CORES[i % CORES.length] ?? 'cash';
    return paymentRequest(i % 2 === 0 ? 'app' : 'web', LOANS[core], '2.50', 'PEN');
  });
}

async function statusOf(s: Stack, ids: readonly string[]): Promise<Record<string, number>> {
  const rows = await s
    .hubDb()
    .all<{ status: string; n: bigint }>(
      `SELECT status, count(*) AS n FROM payments WHERE id IN (${placeholders(ids.length)}) GROUP BY status`,
      ids,
    );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

interface QueueCount {
  core: string;
  ready: number;
  retrying: number;
  deadLettered: number;
}

describe('a core down for 30 s', () => {
  it('opens its breaker, lets the other cores apply, drains its backlog after recovery and dead-letters nothing', async () => {
    stack = await startStack(broker, { name: 'outage' });
    const s = stack;
    const before = new Map<Core, bigint>();
    for (const core of CORES) before.set(core, await amountDue(s, 'app', LOANS[core]));

    await s.cli(['simulate', 'fault', '--core', 'cash', '--mode', 'down', '--url', s.coreUrls.cash]);
    const downSince = Date.now();
    const accepted: Accepted[] = await payAll(s, batch(20), 4);

    await waitFor(
      async () =>
        (await metric(s.workerUrls.cash, 'loanhub_core_breaker_state', 'core="cash"')) === OPEN ? true : undefined,
      20_000,
      'the cash breaker to open',
    );
    const byCore = (core: Core, list: readonly Accepted[]) =>
      list.filter((a) => a.request.loanNumber === LOANS[core]).map((a) => a.paymentId);
    // the other cores keep applying while cash is down, also for payments taken during the outage
    await untilSettled(s, [...byCore('mortgage', accepted), ...byCore('vehicle', accepted)], 30_000);
    const midway = await payAll(s, batch(10), 4);
    accepted.push(...midway);
    await untilSettled(s, [...byCore('mortgage', midway), ...byCore('vehicle', midway)], 30_000);
    expect(await statusOf(s, [...byCore('mortgage', accepted), ...byCore('vehicle', accepted)])).toEqual({
      APPLIED: 60,
    });

    const queuesDuringOutage = JSON.parse(await s.cli(['queues', '--json'])) as QueueCount[];
    const cashQueue = queuesDuringOutage.find((q) => q.core === 'cash');
    expect(cashQueue?.deadLettered).toBe(0);
    expect((cashQueue?.ready ?? 0) + (cashQueue?.retrying ?? 0)).toBeGreaterThan(0);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
    // still none of the cash payments applied: the core really was down all along
    expect(await statusOf(s, byCore('cash', accepted))).toEqual({ ACCEPTED: 30 });
    await s.cli(['simulate', 'fault', '--core', 'cash', '--mode', 'ok', '--url', s.coreUrls.cash]);

    await untilSettled(
      s,
      accepted.map((a) => a.paymentId),
      90_000,
    );
    expect(await exactlyOnce(s, accepted)).toEqual({
      keysWithoutOnePayment: 0,
      notApplied: [],
      appliedEventsNotOne: 0,
      coreMismatches: 0,
    });
    for (const core of CORES) {
      const paid = BigInt(accepted.filter((a) => a.request.loanNumber === LOANS[core]).length) * 250n;
      expect({ core, lowered: (before.get(core) ?? 0n) - (await amountDue(s, 'app', LOANS[core])) }).toEqual({
        core,
        lowered: paid,
      });
    }

    await waitFor(
      async () =>
        (await metric(s.workerUrls.cash, 'loanhub_core_breaker_state', 'core="cash"')) === CLOSED ? true : undefined,
      10_000,
      'the cash breaker to close',
    );
    // the open breaker spared the core: more retries than calls that actually reached it and failed
    const retried = (await metric(s.workerUrls.cash, 'loanhub_commands_retried_total', 'core="cash"')) ?? 0;
    const failedCalls =
      (await metric(
        s.workerUrls.cash,
        'loanhub_core_request_duration_seconds_count',
        'core="cash",operation="apply",outcome="unavailable"',
      )) ?? 0;
    expect(failedCalls).toBeGreaterThanOrEqual(5);
    expect(retried).toBeGreaterThan(failedCalls);

    const queues = JSON.parse(await s.cli(['queues', '--json'])) as QueueCount[];
    expect(queues.map((q) => ({ core: q.core, deadLettered: q.deadLettered }))).toEqual(
      [...CORES, 'results'].map((core) => ({ core, deadLettered: 0 })),
    );
    for (const lane of [...CORES, 'results']) {
      expect({
        lane,
        letters: JSON.parse(await s.cli(['dlq', 'list', '--core', lane, '--json'])) as unknown[],
      }).toEqual({
        lane,
        letters: [],
      });
    }
  });
});
