import type { Core } from '../../domain/channel';
import {
  amountDue,
  exactlyOnce,
  payAll,
  paymentRequest,
  rabbitControl,
  requireBroker,
  startStack,
  untilSettled,
  type Accepted,
  type Exit,
  type PaymentRequest,
  type Stack,
} from './process-harness';

// A stream of payments through separate processes while something breaks in the middle of it: the
// broker node restarts, or a worker dies by SIGKILL. Counted per idempotency key in the hub and per
// payment id (the core's external reference) at the cores; amounts due checked against the sum.
const broker = requireBroker();
jest.setTimeout(180_000);

const STREAM = 1_050;
// The large PEN loans of each core; 1.00 a payment keeps 1,050 payments far inside their balances.
const LOANS: ReadonlyArray<{ core: Core; loan: string }> = [
  { core: 'cash', loan: '100000000001' },
  { core: 'mortgage', loan: '200000000001' },
  { core: 'vehicle', loan: '300000000001' },
];

function stream(): PaymentRequest[] {
  return Array.from({ length: STREAM }, (_, i) => {
    const { loan } = LOANS[i % LOANS.length] ?? { loan: '100000000001' };
    return paymentRequest(i % 2 === 0 ? 'app' : 'web', loan, '1.00', 'PEN');
  });
}

/** Payments of this test in each state right now, from the hub's database. */
async function states(stack: Stack, core?: Core): Promise<Record<string, number>> {
  const db = stack.hubDb();
  const rows =
    core === undefined
      ? await db.all<{ status: string; n: bigint }>('SELECT status, count(*) AS n FROM payments GROUP BY status')
      : await db.all<{ status: string; n: bigint }>(
          'SELECT status, count(*) AS n FROM payments WHERE core = ? GROUP BY status',
          [core],
        );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function amountsDue(stack: Stack): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const { loan } of LOANS) out.set(loan, await amountDue(stack, 'app', loan));
  return out;
}

/** Every payment applied once in the hub and at its core, and each amount due lowered by exactly its share. */
async function expectExactlyOnce(stack: Stack, accepted: readonly Accepted[], before: Map<string, bigint>) {
  expect(accepted).toHaveLength(STREAM);
  expect(new Set(accepted.map((a) => a.paymentId)).size).toBe(STREAM);
  await untilSettled(
    stack,
    accepted.map((a) => a.paymentId),
    120_000,
  );
  expect(await exactlyOnce(stack, accepted)).toEqual({
    keysWithoutOnePayment: 0,
    notApplied: [],
    appliedEventsNotOne: 0,
    coreMismatches: 0,
  });
  const after = await amountsDue(stack);
  for (const { loan } of LOANS) {
    const paid = accepted.filter((a) => a.request.loanNumber === loan).length;
    expect({ loan, lowered: (before.get(loan) ?? 0n) - (after.get(loan) ?? 0n) }).toEqual({
      loan,
      lowered: BigInt(paid) * 100n,
    });
  }
}

describe('a stream of payments while something breaks', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    // whatever happened, the broker is up again for the next test (start is a no-op when it runs)
    await rabbitControl(broker, 'start');
    await stack?.stop();
    stack = undefined;
  });

  it('a broker restart in the middle of 1,050 payments loses none and applies none twice', async () => {
    stack = await startStack(broker, { name: 'broker-restart' });
    const s = stack;
    const before = await amountsDue(s);
    let restart: Promise<void> | undefined;
    let atStop: Record<string, number> = {};
    let acceptedWhileDown = 0;
    let down = false;
    const accepted = await payAll(s, stream(), 8, (_a, count) => {
      if (down) acceptedWhileDown += 1;
      // a third of the way in: stop the node (graceful shutdown) and start it again on the same data
      if (count === 350)
        restart = (async () => {
          atStop = await states(s);
          down = true;
          await rabbitControl(broker, 'stop');
          await rabbitControl(broker, 'start');
          down = false;
        })();
    });
    await restart;
    // the restart really hit the stream: payments were in flight, and channels kept paying meanwhile
    expect(atStop.ACCEPTED ?? 0).toBeGreaterThan(0);
    expect(acceptedWhileDown).toBeGreaterThan(0);
    await expectExactlyOnce(s, accepted, before);
  });

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    const title =
      how === 'SIGKILL'
        ? 'a worker killed with SIGKILL mid-stream and started again loses none and applies none twice'
        : 'a worker stopped with SIGTERM mid-stream finishes what it holds, exits by itself, and loses none';
    it(title, async () => {
      stack = await startStack(broker, { name: `worker-${how.toLowerCase()}` });
      const s = stack;
      const before = await amountsDue(s);
      let restart: Promise<void> | undefined;
      let atStop: Record<string, number> = {};
      let exit: Exit | undefined;
      const accepted = await payAll(s, stream(), 8, (_a, count) => {
        if (count === 350)
          restart = (async () => {
            atStop = await states(s, 'cash');
            const worker = s.worker('cash');
            if (how === 'SIGKILL') await worker?.kill9();
            else exit = await worker?.stop(20_000);
            await new Promise((r) => setTimeout(r, 1_000));
            await s.startWorker('cash');
          })();
      });
      await restart;
      // stopped mid-stream: its core had applied some and had more waiting
      expect(atStop.APPLIED ?? 0).toBeGreaterThan(0);
      expect(atStop.ACCEPTED ?? 0).toBeGreaterThan(0);
      if (how === 'SIGTERM') expect(exit).toEqual({ name: 'worker cash', code: 0, signal: null });
      await expectExactlyOnce(s, accepted, before);
    });
  }
});
