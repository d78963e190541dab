import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CORE_DEFAULT_URLS, coreUrlEnvName } from '../adapters/core-adapters';
import {
  FAULT_MODES,
  clearExtractFaults,
  getSimulatorFault,
  listExtractFaults,
  setExtractFault,
  setSimulatorFault,
  type FaultMode,
} from '../bank/cores/core-faults';
import { DEFAULT_SIMULATOR_PORTS, startCoreSimulators } from '../bank/cores/core-simulator-server';
import { CORES, isCore, type Core } from '../domain/channel';
import { registerSimulateMainframe } from './simulate-mainframe-command';
import { registerSimulateSettlement } from './simulate-settlement-command';

// `loanhub simulate cores` runs the three loan-core simulators on their own (issue 6: API, workers and
// cores as separate processes); `loanhub simulate fault` injects a fault into a running one.

function portOption(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return Number(value);
}

function delayOption(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) > 600_000) {
    throw new InvalidArgumentError('must be whole milliseconds from 0 to 600000');
  }
  return Number(value);
}

/** The port a simulator takes: the option, else LOANHUB_CORE_<CORE>_PORT, else 8181/8182/8183. */
function defaultPort(core: Core, env: NodeJS.ProcessEnv): number {
  const raw = env[`LOANHUB_CORE_${core.toUpperCase()}_PORT`];
  if (raw === undefined || raw === '') return DEFAULT_SIMULATOR_PORTS[core];
  return portOption(raw);
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The message of an error and of its cause (fetch hides ECONNREFUSED in the cause). */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}

interface CoresOptions {
  dataDir?: string;
  host?: string;
  cashPort?: number;
  mortgagePort?: number;
  vehiclePort?: number;
}

interface ExtractFaultOptions {
  core: Core;
  duplicate?: string;
  drop?: string;
  payment?: string;
  amount?: string;
  clear?: boolean;
  url?: string;
}

/** The simulator's URL for a core: --url, else $LOANHUB_CORE_<CORE>_URL, else the default port. */
function simulatorUrl(core: Core, url: string | undefined): string {
  const chosen = url ?? process.env[coreUrlEnvName(core)] ?? CORE_DEFAULT_URLS[core];
  if (!URL.canParse(chosen)) throw new Error(`--url ${JSON.stringify(chosen)} is not a URL`);
  return chosen;
}

interface FaultOptions {
  core: Core;
  mode: FaultMode;
  delayMs?: number;
  status?: '500' | '503';
  url?: string;
}

export function registerSimulateCommands(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('simulators of the bank side: loan cores (run them, inject faults) and the mainframe');
  registerSimulateMainframe(simulate);
  registerSimulateSettlement(simulate);

  simulate
    .command('cores')
    .description('run the cash, mortgage and vehicle core simulators until SIGINT/SIGTERM')
    .option('--data-dir <dir>', 'where balances persist (cores/<core>.db); default $LOANHUB_DATA_DIR or ./.loanhub')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--cash-port <n>',
      'cash core port (default $LOANHUB_CORE_CASH_PORT or 8181; 0 picks a free one)',
      portOption,
    )
    .option('--mortgage-port <n>', 'mortgage core port (default $LOANHUB_CORE_MORTGAGE_PORT or 8182)', portOption)
    .option('--vehicle-port <n>', 'vehicle core port (default $LOANHUB_CORE_VEHICLE_PORT or 8183)', portOption)
    .action(async (opts: CoresOptions) => {
      const env = process.env;
      const dataDir = path.resolve(opts.dataDir ?? env.LOANHUB_DATA_DIR ?? '.loanhub');
      const stopped = untilSignal();
      const simulators = await startCoreSimulators({
        dataDir,
        host: opts.host ?? '127.0.0.1',
        ports: {
          cash: opts.cashPort ?? defaultPort('cash', env),
          mortgage: opts.mortgagePort ?? defaultPort('mortgage', env),
          vehicle: opts.vehiclePort ?? defaultPort('vehicle', env),
        },
      });
      for (const sim of simulators) process.stdout.write(`${sim.core.padEnd(9)}${sim.url}\n`);
      process.stderr.write(`loanhub: core simulators running (data in ${dataDir}); Ctrl-C stops them\n`);
      const signal = await stopped;
      await Promise.all(simulators.map((s) => s.close()));
      process.stderr.write(`loanhub: core simulators stopped (${signal})\n`);
    });

  simulate
    .command('fault')
    .description('inject a fault into a running core simulator through its admin endpoint')
    .addOption(new Option('--core <core>', 'which core').choices([...CORES]).makeOptionMandatory())
    .addOption(
      new Option('--mode <mode>', 'down: drop connections; slow: delay answers; error: answer 5xx; ok: heal')
        .choices([...FAULT_MODES])
        .makeOptionMandatory(),
    )
    .option('--delay-ms <n>', 'how long slow holds each answer (default 10000)', delayOption)
    .addOption(new Option('--status <code>', 'what error answers with').choices(['500', '503']))
    .option('--url <url>', 'simulator base URL (default $LOANHUB_CORE_<CORE>_URL or http://127.0.0.1:818x)')
    .action(async (opts: FaultOptions) => {
      if (!isCore(opts.core)) throw new Error(`unknown core ${String(opts.core)}`);
      const url = opts.url ?? process.env[coreUrlEnvName(opts.core)] ?? CORE_DEFAULT_URLS[opts.core];
      if (!URL.canParse(url)) throw new Error(`--url ${JSON.stringify(url)} is not a URL`);
      try {
        // Ask first, so a URL that points at another core's simulator changes nothing.
        const current = await getSimulatorFault(url);
        if (current.core !== opts.core) {
          throw new Error(`that simulator is the ${current.core} core, not ${opts.core}; nothing changed`);
        }
        const state = await setSimulatorFault(url, {
          mode: opts.mode,
          ...(opts.delayMs !== undefined ? { delayMs: opts.delayMs } : {}),
          ...(opts.status !== undefined ? { status: opts.status === '500' ? 500 : 503 } : {}),
        });
        process.stdout.write(`${JSON.stringify(state)}\n`);
      } catch (cause) {
        throw new Error(`could not set the fault on the ${opts.core} simulator at ${url}: ${reasonOf(cause)}`, {
          cause,
        });
      }
    });

  simulate
    .command('extract-fault')
    .description(
      "plant a difference in a running core simulator's daily extract (reconciliation drills): a payment " +
        'listed twice, left out, or with another amount; the ledger itself is untouched',
    )
    .addOption(new Option('--core <core>', 'which core').choices([...CORES]).makeOptionMandatory())
    .option('--duplicate <paymentId>', 'list the payment twice (as a core that applied it twice)')
    .option('--drop <paymentId>', 'leave the payment out of the extract')
    .option('--payment <paymentId>', 'with --amount: the payment whose amount the extract changes')
    .option('--amount <decimal>', 'with --payment: the amount the extract shows instead, e.g. 125.50')
    .option('--clear', 'take every extract fault of this core away')
    .option('--url <url>', 'simulator base URL (default $LOANHUB_CORE_<CORE>_URL or http://127.0.0.1:818x)')
    .addHelpText(
      'after',
      '\nWith none of --duplicate, --drop, --payment/--amount, --clear: prints the faults planted now (JSON).',
    )
    .action(async (opts: ExtractFaultOptions) => {
      const url = simulatorUrl(opts.core, opts.url);
      const chosen = [opts.duplicate, opts.drop, opts.payment, opts.clear].filter((v) => v !== undefined).length;
      if (chosen > 1)
        throw new InvalidArgumentError('give one of --duplicate, --drop, --payment with --amount, --clear');
      if ((opts.payment === undefined) !== (opts.amount === undefined)) {
        throw new InvalidArgumentError('--payment and --amount go together');
      }
      try {
        const current = await listExtractFaults(url);
        if (current.core !== opts.core) {
          throw new Error(`that simulator is the ${current.core} core, not ${opts.core}; nothing changed`);
        }
        let listing = current;
        if (opts.clear) listing = await clearExtractFaults(url);
        else if (opts.duplicate !== undefined) {
          listing = await setExtractFault(url, { action: 'duplicate', paymentId: opts.duplicate });
        } else if (opts.drop !== undefined)
          listing = await setExtractFault(url, { action: 'drop', paymentId: opts.drop });
        else if (opts.payment !== undefined && opts.amount !== undefined) {
          listing = await setExtractFault(url, { action: 'amount', paymentId: opts.payment, amount: opts.amount });
        }
        process.stdout.write(`${JSON.stringify(listing)}\n`);
      } catch (cause) {
        throw new Error(
          `could not change the extract faults of the ${opts.core} simulator at ${url}: ${reasonOf(cause)}`,
          {
            cause,
          },
        );
      }
    });
}
