import type { Command } from 'commander';
import { loadConfig } from '../config/config';
import { createLogger } from '../logging/logger';
import { startHub } from '../runtime/hub';

// `loanhub start`: the whole hub on its embedded defaults in one process (what `npm start` runs).

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the hub in one process: SQLite store, outbox relay, in-process transport, core simulators and the API',
    )
    .option('--port <n>', 'HTTP port of the API (env PORT, default 8080)', parsePort)
    .option('--no-simulators', 'do not start the core simulators (use LOANHUB_CORE_*_URL instead)')
    .addHelpText(
      'after',
      '\nEnvironment: PORT, LOANHUB_DATA_DIR (default ./.loanhub), LOANHUB_TIME_ZONE (default America/Lima),\n' +
        'LOANHUB_MAX_AMOUNT (default 50000.00), LOANHUB_LOG_LEVEL, LOANHUB_CORE_{CASH,MORTGAGE,VEHICLE}_PORT.',
    )
    .action(async (opts: { port?: number; simulators: boolean }) => {
      const config = loadConfig(process.env, opts.port !== undefined ? { port: opts.port } : {});
      const logger = createLogger({ level: config.logLevel });
      const hub = await startHub({ config, logger, simulators: opts.simulators });
      process.stderr.write(`loanhub: listening on ${hub.url} (data in ${config.dataDir}); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping');
          void hub.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`not a port number: ${value}`);
  return Number(value);
}
