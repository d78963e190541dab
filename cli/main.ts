import { Command, CommanderError } from 'commander';
import { registerBatchCommands } from './batch-command';
import { registerConfigCommands } from './config-command';
import { registerCopybookCommands } from './copybook-command';
import { registerDbCommands } from './db-command';
import { registerKeysCommands } from './keys-command';
import { registerQueueCommands } from './queues-command';
import { registerReportCommands } from './report-command';
import { registerReconCommands } from './recon-command';
import { registerSettlementCommands } from './settlement-command';
import { registerLoansCommands } from './loans-command';
import { registerSimulateCommands } from './simulate-command';
import { registerStartCommand } from './start-command';
import { registerTokenCommands } from './token-command';
import { registerWebhookCommands } from './webhooks-command';

// The `loanhub` command line. Each command group lives in its own file and registers itself here.

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('loanhub')
    .description('LoanHub: loan-payment integration hub (channels, loan cores, mainframe batch)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  const registrations: Array<(p: Command) => void> = [
    registerStartCommand,
    registerTokenCommands,
    registerLoansCommands,
    registerSimulateCommands,
    registerKeysCommands,
    registerQueueCommands,
    registerCopybookCommands,
    registerWebhookCommands,
    registerBatchCommands,
    registerSettlementCommands,
    registerReconCommands,
    registerConfigCommands,
    registerDbCommands,
    registerReportCommands,
  ];
  for (const register of registrations) register(program);
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}
