import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/config';
import { CORES, isCore, type Core } from '../domain/channel';
import { createLogger } from '../logging/logger';
import { ALL_ROLES, startHub, type HubRoles } from '../runtime/hub';

// `loanhub start` (everything in one process, what `npm start` runs), `loanhub serve` (API + outbox
// relay + result handling) and `loanhub work` (core consumers): the hub's processes.

const ENV_HELP =
  '\nEnvironment: PORT, LOANHUB_DATA_DIR (default ./.loanhub), LOANHUB_AMQP_URL (RabbitMQ; unset = in-process),\n' +
  'LOANHUB_TIME_ZONE (default America/Lima), LOANHUB_MAX_AMOUNT (default 50000.00), LOANHUB_LOG_LEVEL,\n' +
  'LOANHUB_CORE_{CASH,MORTGAGE,VEHICLE}_URL / _PORT, LOANHUB_JWKS_URL + LOANHUB_ISSUER (+ LOANHUB_AUDIENCE),\n' +
  'LOANHUB_AMQP_RETRY_DELAYS_MS (default 1000,2000,5000,10000,20000,30000), LOANHUB_AMQP_DELIVERY_LIMIT (default 20).';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the whole hub in one process: store, outbox relay, transport, core workers, core simulators and the API',
    )
    .option('--port <n>', 'HTTP port of the API (env PORT, default 8080)', parsePort)
    .option('--no-simulators', 'do not start the core simulators (use LOANHUB_CORE_*_URL instead)')
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { port?: number; simulators: boolean }) => {
      await run(opts.port, { ...ALL_ROLES, simulators: opts.simulators });
    });

  program
    .command('serve')
    .description('run the API, the outbox relay and the handling of core results (needs LOANHUB_AMQP_URL)')
    .option('--port <n>', 'HTTP port of the API (env PORT, default 8080)', parsePort)
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { port?: number }) => {
      await run(opts.port, { api: true, relay: true, results: true, workers: [], simulators: false });
    });

  program
    .command('work')
    .description('run the consumers of one or all loan cores (needs LOANHUB_AMQP_URL); /metrics and /healthz on --port')
    .requiredOption('--core <core>', `${CORES.join(', ')} or all`, parseCores)
    .option('--port <n>', 'HTTP port of /metrics, /healthz, /readyz (default 0: any free port)', parsePort)
    .addHelpText('after', ENV_HELP)
    .action(async (opts: { core: readonly Core[]; port?: number }) => {
      await run(opts.port ?? 0, { api: false, relay: false, results: false, workers: opts.core, simulators: false });
    });
}

async function run(port: number | undefined, roles: HubRoles): Promise<void> {
  const config = loadConfig(process.env, port !== undefined ? { port } : {});
  const logger = createLogger({ level: config.logLevel });
  // A promise rejected with nobody to handle it is a bug. It is logged with its stack for the operator
  // and the process keeps serving: every piece of work is durable (outbox, leases, idempotency), and
  // Node's default (end the process) would turn one missed catch during a database or broker outage into
  // an outage of this instance. An uncaught exception still ends the process, printed by Node.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug: report this line); the process keeps running');
  });
  const hub = await startHub({ config, logger, roles });
  process.stderr.write(
    `loanhub: listening on ${hub.url} (data in ${config.dataDir}, transport ${hub.transport.kind}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping: no new work, finishing what is in flight');
      void hub.stop().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  return Number(value);
}

function parseCores(value: string): readonly Core[] {
  if (value === 'all') return CORES;
  const cores = value.split(',');
  const bad = cores.filter((c) => !isCore(c));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown core ${bad.join(', ')}; use ${CORES.join(', ')} or all`);
  return cores.filter(isCore);
}
