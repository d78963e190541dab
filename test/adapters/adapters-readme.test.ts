import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASH_ERROR_STATUS } from '../../adapters/cash/cash-contract';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { MORTGAGE_ERRORS } from '../../adapters/mortgage/mortgage-contract';
import { VEHICLE_RESULT_CODES } from '../../adapters/vehicle/vehicle-contract';

// The README's contract tables are the documentation of three catalogues; this keeps them in step.

const readme = readFileSync(join(__dirname, '../../adapters/README.md'), 'utf8');

describe('adapters/README.md documents every code and every seed', () => {
  test.each(Object.entries(CASH_ERROR_STATUS))('cash %s (%i)', (code, status) => {
    expect(readme).toContain(`\`${code}\` (${status})`);
  });

  test.each(Object.entries(MORTGAGE_ERRORS))('mortgage %s', (code, entry) => {
    expect(readme).toContain(`\`${code}\` (${entry.status})`);
  });

  test.each(Object.entries(VEHICLE_RESULT_CODES).filter(([code]) => code !== '00'))('vehicle %s %s', (code, text) => {
    expect(readme).toContain(`\`${code}\` ${text}`);
  });

  test.each(SAMPLE_LOANS.map((l) => [l.loanNumber, l]))('seed %s', (_n, loan) => {
    expect(readme).toContain(
      `| ${loan.loanNumber} | ${loan.core} | ${loan.currency} | ${loan.amountDue} | ${loan.status} |`,
    );
  });
});
