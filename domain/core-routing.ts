import type { Core } from './channel';

// The one routing rule of the hub: a loan number is 12 digits and its first two digits are the
// product code the bank gives each loan core. Change the table here and nowhere else.
//   10xxxxxxxxxx  crédito efectivo   -> cash
//   20xxxxxxxxxx  crédito hipotecario -> mortgage
//   30xxxxxxxxxx  crédito vehicular  -> vehicle
export const LOAN_NUMBER_PATTERN = /^[0-9]{12}$/;

const PRODUCT_PREFIXES: Readonly<Record<string, Core>> = Object.freeze({
  '10': 'cash',
  '20': 'mortgage',
  '30': 'vehicle',
});

export function isLoanNumber(value: unknown): value is string {
  return typeof value === 'string' && LOAN_NUMBER_PATTERN.test(value);
}

/** The core that owns a loan, or undefined when the number has no known product prefix. */
export function coreForLoan(loanNumber: string): Core | undefined {
  if (!isLoanNumber(loanNumber)) return undefined;
  return PRODUCT_PREFIXES[loanNumber.slice(0, 2)];
}

export function productPrefixOf(core: Core): string {
  const entry = Object.entries(PRODUCT_PREFIXES).find(([, c]) => c === core);
  if (!entry) throw new Error(`no product prefix for core ${core}`);
  return entry[0];
}
