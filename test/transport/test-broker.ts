import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// The real RabbitMQ node that scripts/test.sh starts (scripts/test-servers/start.sh). Without it a broker
// test fails: a skipped broker test would pass with the feature deleted.

const run = promisify(execFile);

export interface TestBroker {
  /** amqp://user:pass@127.0.0.1:port, without a vhost. */
  readonly baseUrl: string;
  /** The test servers' directory, with the broker's control scripts under rabbitmq/. */
  readonly serversDir: string;
}

export function requireTestBroker(also = ''): TestBroker {
  const baseUrl = process.env.LOANHUB_TEST_AMQP_URL;
  const serversDir = process.env.LOANHUB_TEST_SERVERS_DIR;
  if (!baseUrl || !serversDir) {
    throw new Error(
      'LOANHUB_TEST_AMQP_URL / LOANHUB_TEST_SERVERS_DIR are not set: this test needs the real RabbitMQ that `npm test` ' +
        'starts (scripts/test.sh), or `out=$(scripts/test-servers/start.sh) && set -a && eval "$out" && set +a`' +
        `${also} first.`,
    );
  }
  return { baseUrl, serversDir };
}

/** Runs a control script of the test broker: `stop`, `start`, `add-vhost NAME`, `ctl ARGS…`. */
export async function brokerControl(broker: TestBroker, script: string, ...args: string[]): Promise<void> {
  await run(path.join(broker.serversDir, 'rabbitmq', script), args, { timeout: 120_000 });
}

/** The broker's URL on one vhost (a test file's own: other files' queues, policies and restarts never touch it). */
export function vhostUrl(broker: TestBroker, vhost: string): string {
  return `${broker.baseUrl}/${encodeURIComponent(vhost)}`;
}
