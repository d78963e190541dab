// What every RabbitMQ client of the hub shares about its connection: the one reconnect loop (backoff
// with jitter after the broker goes away, reset once connected, stopped on close), used by the
// transport (rabbitmq-transport.ts) and by the inquiry server (rabbitmq-inquiry.ts); and the broker URL
// without its password for logs.

export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 5_000;

/** Attempt n's wait (n from 0): doubling from RECONNECT_MIN_MS, capped at RECONNECT_MAX_MS. */
export function reconnectBackoffMs(failures: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(failures, 10));
}

export interface ReconnectLoopOptions {
  /** One try at connecting (and setting up whatever lives on the connection); throws when it fails. */
  readonly connect: () => Promise<void>;
  /** Told of each failed try, with the wait before the next. */
  readonly onFailure: (err: unknown, nextDelayMs: number) => void;
  /** A number in [0, 1), like Math.random; tests pass their own. */
  readonly random?: () => number;
  /** Whether a pending try keeps the process alive (default true: a worker waits for its broker). */
  readonly keepsProcessAlive?: boolean;
}

export interface ReconnectLoop {
  /** Tries again after the backoff's delay (jittered to 50–100 %); one timer at a time; nothing once stopped. */
  schedule(): void;
  /** The un-jittered wait before the next try, counting it as a failure (for a caller's own start loop). */
  nextBackoffMs(): number;
  /** Connected: the next loss starts from the shortest delay again. */
  reset(): void;
  /** Closed for good: cancels the pending try. */
  stop(): void;
  readonly stopped: boolean;
}

export function createReconnectLoop(opts: ReconnectLoopOptions): ReconnectLoop {
  const random = opts.random ?? Math.random;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const loop: ReconnectLoop = {
    schedule() {
      if (stopped || timer) return;
      const delay = Math.round(reconnectBackoffMs(failures) * (0.5 + random() / 2));
      failures += 1;
      timer = setTimeout(() => {
        timer = null;
        if (stopped) return;
        opts.connect().catch((err: unknown) => {
          opts.onFailure(err, delay);
          loop.schedule();
        });
      }, delay);
      if (opts.keepsProcessAlive === false) timer.unref();
    },
    nextBackoffMs() {
      const delay = reconnectBackoffMs(failures);
      failures += 1;
      return delay;
    },
    reset() {
      failures = 0;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
    get stopped() {
      return stopped;
    },
  };
  return loop;
}

/** The broker URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'amqp://(unparseable url)';
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
