import { Command, InvalidArgumentError, Option } from 'commander';
import { CORES } from '../domain/channel';
import { findDeadLetter, inspectQueues, listDeadLetters, replayDeadLetters } from '../outbox/rabbitmq-admin';
import { redactUrl } from '../outbox/rabbitmq-transport';
import type { DeadLetter, Lane } from '../outbox/transport-port';
import { retryScheduleFromEnv } from '../runtime/hub';

// `loanhub queues` and `loanhub dlq list|show|replay`: the broker as operations see it. They read
// LOANHUB_AMQP_URL; the embedded transport keeps its queues inside the running hub process, where
// these commands cannot reach. Exit codes: 0 ok; 1 not found or the broker failed; 2 usage.

const LANE_CHOICES: readonly Lane[] = [...CORES, 'results'];

function amqpUrl(cmd: Command): string {
  const url = process.env.LOANHUB_AMQP_URL;
  if (!url) {
    cmd.error(
      'loanhub: LOANHUB_AMQP_URL is not set. Queues and dead-letter queues exist only with RabbitMQ; the embedded ' +
        'transport keeps its dead letters inside the running hub.',
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

function laneOption(): Option {
  return new Option('--core <core>', 'cash, mortgage, vehicle, or results').choices(LANE_CHOICES).makeOptionMandatory();
}

function asLane(value: string): Lane {
  const lane = LANE_CHOICES.find((l) => l === value);
  if (lane === undefined) throw new InvalidArgumentError(`unknown core ${value}`);
  return lane;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function letterRow(d: DeadLetter): string[] {
  return [d.id, d.lane, String(d.attempts), d.deadAt, d.reason];
}

async function broker<T>(cmd: Command, url: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    cmd.error(`loanhub: broker ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, {
      exitCode: 1,
      code: 'loanhub.broker',
    });
  }
}

export function registerQueueCommands(program: Command): void {
  program
    .command('queues')
    .description('per core: ready, unacked, retrying and dead-lettered messages, and consumers (RabbitMQ)')
    .option('--json', 'print JSON')
    .addOption(retryDelaysOption())
    .action(async (flags: { json?: boolean; retryDelays?: number[] }, cmd: Command) => {
      const url = amqpUrl(cmd);
      const counts = await broker(cmd, url, () =>
        inspectQueues(url, { retryDelaysMs: retryDelaysOf(flags.retryDelays) }),
      );
      if (flags.json) {
        process.stdout.write(JSON.stringify(counts, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['core', 'ready', 'unacked', 'retrying', 'dead', 'consumers'],
          counts.map((c) => [
            c.core,
            String(c.ready),
            c.unacked === null ? '-' : String(c.unacked),
            String(c.retrying),
            String(c.deadLettered),
            String(c.consumers),
          ]),
        ),
      );
    });

  const dlq = program.command('dlq').description('dead-letter queues: list, show and replay (RabbitMQ)');
  dlq
    .command('list')
    .description('the dead letters of a core, oldest first')
    .addOption(laneOption())
    .option('--json', 'print JSON (with the messages and their attempt history)')
    .action(async (flags: { core: string; json?: boolean }, cmd: Command) => {
      const url = amqpUrl(cmd);
      const letters = await broker(cmd, url, () => listDeadLetters(url, asLane(flags.core)));
      if (flags.json) {
        process.stdout.write(JSON.stringify(letters, null, 2) + '\n');
        return;
      }
      process.stdout.write(table(['id', 'core', 'attempts', 'dead at', 'reason'], letters.map(letterRow)));
    });
  dlq
    .command('show')
    .description('one dead letter with its message and attempt history, as JSON')
    .argument('<id>', 'the message id (paymentId:type)')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const url = amqpUrl(cmd);
      const letter = await broker(cmd, url, () => findDeadLetter(url, id));
      if (!letter) cmd.error(`loanhub: no dead letter with id ${id}`, { exitCode: 1, code: 'loanhub.not_found' });
      process.stdout.write(JSON.stringify(letter, null, 2) + '\n');
    });
  dlq
    .command('replay')
    .description('send dead letters back to their queue with a fresh attempt count (safe to repeat)')
    .addOption(laneOption())
    .addOption(new Option('--id <id>', 'the message id to replay').conflicts('all'))
    .option('--all', 'replay every dead letter of the core')
    .action(async (flags: { core: string; id?: string; all?: boolean }, cmd: Command) => {
      if (flags.id === undefined && flags.all !== true)
        cmd.error('loanhub: give --id <id> or --all', { exitCode: 2, code: 'loanhub.usage' });
      const url = amqpUrl(cmd);
      const lane = asLane(flags.core);
      const replayed = await broker(cmd, url, () => replayDeadLetters(url, lane, { id: flags.id, all: flags.all }));
      process.stdout.write(`replayed ${replayed} dead letter${replayed === 1 ? '' : 's'} of ${lane}\n`);
      if (flags.id !== undefined && replayed === 0) {
        process.stderr.write(`loanhub: no dead letter with id ${flags.id} in ${lane} (already replayed?)\n`);
      }
    });
}
