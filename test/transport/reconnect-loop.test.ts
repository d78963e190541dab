import { createReconnectLoop, reconnectBackoffMs, RECONNECT_MAX_MS } from '../../outbox/rabbitmq-connection';

// The one reconnect loop of the RabbitMQ transport and the inquiry server: backoff that doubles up to
// a cap, jittered to 50-100 %, reset once connected, one pending try at a time, nothing after stop.

describe('reconnect loop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('backoff doubles from 100 ms and stops at the cap', () => {
    expect([0, 1, 2, 3, 5, 6, 10, 40].map(reconnectBackoffMs)).toEqual([
      100,
      200,
      400,
      800,
      3200,
      RECONNECT_MAX_MS,
      RECONNECT_MAX_MS,
      RECONNECT_MAX_MS,
    ]);
  });

  test('tries again after each failure with a longer wait, until a try connects; reset starts short again', async () => {
    const outcomes = [false, false, true];
    const failures: number[] = [];
    let tries = 0;
    const loop = createReconnectLoop({
      connect: async () => {
        tries += 1;
        if (!outcomes.shift()) throw new Error('refused');
        loop.reset();
      },
      onFailure: (_err, delay) => failures.push(delay),
      random: () => 0.999_999, // the top of the jitter band: the whole backoff
    });
    loop.schedule();
    loop.schedule(); // one pending try at a time
    await jest.advanceTimersByTimeAsync(99);
    expect(tries).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(tries).toBe(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(tries).toBe(2);
    await jest.advanceTimersByTimeAsync(400);
    expect(tries).toBe(3);
    expect(failures).toEqual([100, 200]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(tries).toBe(3); // connected: no more tries until the next loss
    expect(loop.nextBackoffMs()).toBe(100); // reset by the successful try
  });

  test('the jitter keeps a wait within half to all of the backoff', async () => {
    let tries = 0;
    const loop = createReconnectLoop({
      connect: async () => void (tries += 1),
      onFailure: () => undefined,
      random: () => 0,
    });
    loop.schedule();
    await jest.advanceTimersByTimeAsync(49);
    expect(tries).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(tries).toBe(1);
  });

  test('stop cancels the pending try and refuses new ones', async () => {
    let tries = 0;
    const loop = createReconnectLoop({ connect: async () => void (tries += 1), onFailure: () => undefined });
    loop.schedule();
    loop.stop();
    loop.schedule();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(tries).toBe(0);
    expect(loop.stopped).toBe(true);
  });
});
