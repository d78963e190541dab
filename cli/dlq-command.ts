import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/config';
import { CORES } from '../domain/channel';
import { findDeadLetter, listDeadLetters, replayDeadLetters } from '../outbox/rabbitmq-admin';
import { redactUrl } from '../outbox/rabbitmq-connection';
import { DeadLetterStoreError, type DeadLetterStore } from '../outbox/dead-letter-port';
import type { DeadLetter, Lane } from '../outbox/transport-port';
import { openHubDeadLetters } from '../store/open-store';

// `loanhub dlq list|show|replay`: the dead letters, wherever the hub keeps them. With LOANHUB_AMQP_URL,
// RabbitMQ's dead-letter queues; without it, the embedded hub's dead letters in the data dir's hub.db
// (SQLite WAL, so next to a running hub). Same output either way. An embedded replay marks the letters;
// the running hub's transport puts them back on their queue within a second, or at its next start.
// Exit codes: 0 ok; 1 not found, or the broker / data dir failed; 2 usage.

const LANE_CHOICES: readonly Lane[] = [...CORES, 'results'];

/** The dead letters of one hub, as the commands need them. */
interface DeadLetterPlace {
  readonly where: string;
  readonly embedded: boolean;
  list(lane: Lane): Promise<readonly DeadLetter[]>;
  find(id: string): Promise<DeadLetter | null>;
  replay(lane: Lane, which: { id?: string; all?: boolean }): Promise<number>;
  close(): Promise<void>;
}

function brokerPlace(url: string): DeadLetterPlace {
  return {
    where: `broker ${redactUrl(url)}`,
    embedded: false,
    list: (lane) => listDeadLetters(url, lane),
    find: (id) => findDeadLetter(url, id),
    replay: (lane, which) => replayDeadLetters(url, lane, which),
    close: async () => undefined,
  };
}

function embeddedPlace(): DeadLetterPlace {
  // The in-process transport's letters are in the hub's store: PostgreSQL with LOANHUB_DB_URL, else hub.db.
  const config = loadConfig();
  const file = path.join(config.dataDir, 'hub.db');
  let store: Promise<DeadLetterStore> | null = null;
  const open = (): Promise<DeadLetterStore> =>
    (store ??= openHubDeadLetters(
      { dataDir: config.dataDir, dbUrl: config.dbUrl, schema: config.dbSchema },
      { mustExist: true },
    ));
  return {
    where: config.dbUrl ? 'embedded hub data in PostgreSQL (LOANHUB_DB_URL)' : `embedded hub data ${file}`,
    embedded: true,
    list: async (lane) => (await open()).list(lane),
    find: async (id) => (await open()).find(id),
    replay: async (lane, which) => (await open()).requestReplay(lane, which),
    close: async () => {
      // a store that failed to open has nothing to close; its error was already reported
      if (store)
        await store.then(
          (s) => s.close(),
          () => undefined,
        );
    },
  };
}

/** RabbitMQ when LOANHUB_AMQP_URL is set, else the embedded hub's data dir. */
function placeOf(): DeadLetterPlace {
  const url = process.env.LOANHUB_AMQP_URL;
  return url ? brokerPlace(url) : embeddedPlace();
}

async function using<T>(cmd: Command, work: (place: DeadLetterPlace) => Promise<T>): Promise<T> {
  let place: DeadLetterPlace | undefined;
  try {
    place = placeOf();
    return await work(place);
  } catch (err) {
    const missing = err instanceof DeadLetterStoreError && err.code === 'dead_letter_store_missing';
    const what = missing ? '' : `${place?.where ?? 'dead letters'}: `;
    const hint = missing ? " (is LOANHUB_DATA_DIR the hub's? with RabbitMQ, set LOANHUB_AMQP_URL)" : '';
    return cmd.error(`loanhub: ${what}${err instanceof Error ? err.message : String(err)}${hint}`, {
      exitCode: 1,
      code: 'loanhub.dead_letters',
    });
  } finally {
    await place?.close().catch(() => undefined);
  }
}

function laneOption(): Option {
  return new Option('--core <core>', 'cash, mortgage, vehicle, or results').choices(LANE_CHOICES).makeOptionMandatory();
}

function asLane(value: string): Lane {
  const lane = LANE_CHOICES.find((l) => l === value);
  if (lane === undefined) throw new InvalidArgumentError(`unknown core ${value}`);
  return lane;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
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

export function registerDlqCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description("dead letters: list, show and replay (RabbitMQ DLQs, or the embedded hub's store)");
  dlq
    .command('list')
    .description('the dead letters of a core, oldest first')
    .addOption(laneOption())
    .option('--json', 'print JSON (with the messages and their attempt history)')
    .action(async (flags: { core: string; json?: boolean }, cmd: Command) => {
      const letters = await using(cmd, (p) => p.list(asLane(flags.core)));
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
      const letter = await using(cmd, (p) => p.find(id));
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
      const lane = asLane(flags.core);
      let embedded = false;
      const replayed = await using(cmd, (p) => {
        embedded = p.embedded;
        return p.replay(lane, { id: flags.id, all: flags.all });
      });
      process.stdout.write(`replayed ${replayed} dead letter${replayed === 1 ? '' : 's'} of ${lane}\n`);
      if (embedded && replayed > 0) {
        process.stderr.write('loanhub: the running hub takes them within a second (a stopped one at its next start)\n');
      }
      if (flags.id !== undefined && replayed === 0) {
        process.stderr.write(`loanhub: no dead letter with id ${flags.id} in ${lane} (already replayed?)\n`);
      }
    });
}
