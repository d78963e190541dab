import { Command, InvalidArgumentError, Option } from 'commander';
import { reportQueues } from '../outbox/rabbitmq-admin';
import { redactUrl } from '../outbox/rabbitmq-connection';
import { retryScheduleFromEnv } from '../outbox/retry-schedule';
import { registerDlqCommands, table } from './dlq-command';

// `loanhub queues`: the broker as operations see it, read from LOANHUB_AMQP_URL; unacked from the
// management HTTP API when LOANHUB_AMQP_MANAGEMENT_URL is set (AMQP cannot count them), and the output
// says so when it is not. The embedded transport's queues live in the running hub's memory; its dead
// letters are durable and `loanhub dlq` (dlq-command.ts, registered here) reads them.
// Exit codes: 0 ok; 1 the broker failed; 2 usage.

function amqpUrl(cmd: Command): string {
  const url = process.env.LOANHUB_AMQP_URL;
  if (!url) {
    cmd.error(
      'loanhub: LOANHUB_AMQP_URL is not set. Queue counts exist only with RabbitMQ; the embedded transport keeps its ' +
        "queues in the running hub's memory. Its dead letters are durable: loanhub dlq list --core <core>.",
      { exitCode: 2, code: 'loanhub.usage' },
    );
  }
  return url;
}

function delays(value: string): number[] {
  const list = value.split(',').map((v) => v.trim());
  if (list.some((v) => !/^\d+$/.test(v) || Number(v) < 1))
    throw new InvalidArgumentError('a comma-separated list of milliseconds');
  return list.map(Number);
}

const retryDelaysOption = (): Option =>
  new Option(
    '--retry-delays <ms,...>',
    "the workers' retry schedule, which names the retry queues (default LOANHUB_AMQP_RETRY_DELAYS_MS, else 1000,2000,5000,10000,20000,30000)",
  ).argParser(delays);

/** The delays the workers use: the flag, else the same variable the workers read, else the default. */
function retryDelaysOf(flag: number[] | undefined): number[] | undefined {
  return flag ?? retryScheduleFromEnv(process.env).retryDelaysMs;
}

export function registerQueueCommands(program: Command): void {
  program
    .command('queues')
    .description(
      'per core: ready, unacked (LOANHUB_AMQP_MANAGEMENT_URL), retrying and dead-lettered messages, and consumers (RabbitMQ)',
    )
    .option('--json', 'print JSON (unacked null when not available; why goes to stderr)')
    .addOption(retryDelaysOption())
    .action(async (flags: { json?: boolean; retryDelays?: number[] }, cmd: Command) => {
      const url = amqpUrl(cmd);
      let report: Awaited<ReturnType<typeof reportQueues>>;
      try {
        report = await reportQueues(url, {
          retryDelaysMs: retryDelaysOf(flags.retryDelays),
          managementUrl: process.env.LOANHUB_AMQP_MANAGEMENT_URL || undefined,
        });
      } catch (err) {
        cmd.error(`loanhub: broker ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, {
          exitCode: 1,
          code: 'loanhub.broker',
        });
      }
      const note =
        report.unacked.kind === 'unavailable' ? `unacked not available: ${report.unacked.reason}\n` : undefined;
      if (flags.json) {
        process.stdout.write(JSON.stringify(report.counts, null, 2) + '\n');
        if (note) process.stderr.write(`loanhub: ${note}`);
        return;
      }
      process.stdout.write(
        table(
          ['core', 'ready', 'unacked', 'retrying', 'dead', 'consumers'],
          report.counts.map((c) => [
            c.core,
            String(c.ready),
            c.unacked === null ? '-' : String(c.unacked),
            String(c.retrying),
            String(c.deadLettered),
            String(c.consumers),
          ]),
        ),
      );
      if (note) process.stdout.write(note);
    });

  registerDlqCommands(program);
}
