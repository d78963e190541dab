import type { Command } from 'commander';
import { readCoreLoans } from '../bank/cores/sample-loans';
import { loadConfig } from '../config/config';
import { formatAmount } from '../domain/money';

// `loanhub loans sample`: the loans the core simulators were seeded with, and what each owes now.

export function registerLoansCommands(program: Command): void {
  const loans = program.command('loans').description('loans of the core simulators');
  loans
    .command('sample')
    .description('list the seeded sample loans with their current amount due (from this data dir)')
    .option('--json', 'print a JSON array of { loanNumber, core, currency, amountDue, status }')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const rows = (await readCoreLoans(config.dataDir)).map((l) => ({
        loanNumber: l.loanNumber,
        core: l.core,
        currency: l.currency,
        amountDue: formatAmount(l.amountDue),
        status: l.status,
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${'LOAN'.padEnd(14)}${'CORE'.padEnd(10)}${'CUR'.padEnd(5)}${'AMOUNT DUE'.padStart(14)}  STATUS\n`,
      );
      for (const r of rows) {
        process.stdout.write(
          `${r.loanNumber.padEnd(14)}${r.core.padEnd(10)}${r.currency.padEnd(5)}${r.amountDue.padStart(14)}  ${r.status}\n`,
        );
      }
    });
}
