import { CHANNELS, CORES, type Channel, type Core } from '../../domain/channel';
import {
  amountDue,
  exactlyOnce,
  minor,
  payAll,
  paymentRequest,
  requireBroker,
  startStack,
  untilSettled,
  type PaymentRequest,
  type Stack,
} from './process-harness';

// Separate processes as in production: serve, one worker per core, the core simulators, RabbitMQ.
const broker = requireBroker();
jest.setTimeout(120_000);

// One active PEN loan per core with room for every channel's payment (atm's minimum is 10.00).
const LOANS: Readonly<Record<Core, string>> = {
  cash: '100000000001',
  mortgage: '200000000001',
  vehicle: '300000000001',
};
const AMOUNTS: Readonly<Record<Channel, string>> = {
  app: '10.01',
  web: '10.02',
  agents: '10.04',
  atm: '10.08',
  stores: '10.16',
};

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

it('every process of the stack exits by itself on SIGTERM', async () => {
  const s = await startStack(broker, { name: 'sigterm' });
  const exits = await s.stop();
  expect(exits.map((e) => e.name).sort()).toEqual(
    ['serve', 'simulators', 'worker cash', 'worker mortgage', 'worker vehicle'].sort(),
  );
  expect(exits.filter((e) => e.code !== 0)).toEqual([]);
});

describe('every channel to every core through separate processes', () => {
  it('applies each payment once and lowers each amount due exactly once', async () => {
    stack = await startStack(broker, { name: 'channels' });
    const s = stack;
    const before = new Map<Core, bigint>();
    for (const core of CORES) before.set(core, await amountDue(s, 'app', LOANS[core]));

    const requests: PaymentRequest[] = CHANNELS.flatMap((channel) =>
      CORES.map((core) => paymentRequest(channel, LOANS[core], AMOUNTS[channel], 'PEN')),
    );
    const accepted = await payAll(s, requests, 5);
    expect(accepted.map((a) => a.status)).toEqual(requests.map(() => 201));
    await untilSettled(
      s,
      accepted.map((a) => a.paymentId),
      60_000,
    );

    for (const a of accepted) {
      const res = await fetch(`${s.apiUrl}/v1/${a.request.channel}/payments/${a.paymentId}`, {
        headers: { authorization: `Bearer ${await s.token(a.request.channel)}` },
      });
      const body = (await res.json()) as { status?: unknown };
      expect({ channel: a.request.channel, loan: a.request.loanNumber, status: body.status }).toEqual({
        channel: a.request.channel,
        loan: a.request.loanNumber,
        status: 'APPLIED',
      });
    }
    expect(await exactlyOnce(s, accepted)).toEqual({
      keysWithoutOnePayment: 0,
      notApplied: [],
      appliedEventsNotOne: 0,
      coreMismatches: 0,
    });
    const paidPerLoan = CHANNELS.reduce((sum, channel) => sum + minor(AMOUNTS[channel]), 0n);
    for (const core of CORES) {
      expect({ core, lowered: (before.get(core) ?? 0n) - (await amountDue(s, 'web', LOANS[core])) }).toEqual({
        core,
        lowered: paidPerLoan,
      });
    }
  });
});
