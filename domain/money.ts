// Money at the edges is a decimal string ("125.50"); inside it is a bigint of minor units.
// A JavaScript number never carries an amount (STYLE habit 1).

export const CURRENCIES = ['PEN', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

declare const minorUnitsBrand: unique symbol;
/** An amount in minor units (céntimos / cents). */
export type MinorUnits = bigint & { readonly [minorUnitsBrand]: true };

export interface Money {
  readonly amount: MinorUnits;
  readonly currency: Currency;
}

export type AmountErrorCode =
  | 'amount_not_a_string'
  | 'amount_empty'
  | 'amount_whitespace'
  | 'amount_sign'
  | 'amount_exponent'
  | 'amount_grouping'
  | 'amount_too_precise'
  | 'amount_malformed'
  | 'amount_zero'
  | 'amount_too_large';

export type ParseResult<T, E extends string> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: E; readonly detail: string };

export const MINOR_PER_MAJOR = 100n;

export function minorUnits(value: bigint): MinorUnits {
  return value as MinorUnits;
}

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && (CURRENCIES as readonly string[]).includes(value);
}

/**
 * Parses an amount as a channel sends it: digits, an optional point and at most two fraction digits.
 * Each way of getting it wrong has its own code so the channel can tell what to fix.
 */
export function parseAmount(input: unknown, maxMinor: bigint): ParseResult<MinorUnits, AmountErrorCode> {
  if (typeof input !== 'string') {
    return fail('amount_not_a_string', 'amount must be a decimal string such as "125.50", not a JSON number');
  }
  if (input.length === 0) return fail('amount_empty', 'amount is empty');
  if (/\s/.test(input)) return fail('amount_whitespace', 'amount must not contain spaces');
  if (/^[+-]/.test(input)) return fail('amount_sign', 'amount must not carry a sign');
  if (/[eE]/.test(input)) return fail('amount_exponent', 'amount must not use exponent notation');
  if (input.includes(',')) return fail('amount_grouping', 'amount must not contain commas or grouping separators');
  const match = /^(\d+)(?:\.(\d+))?$/.exec(input);
  if (!match) return fail('amount_malformed', 'amount must look like "125" or "125.50"');
  const whole = match[1] ?? '';
  const fraction = match[2];
  if (input.endsWith('.') || (fraction !== undefined && fraction.length === 0)) {
    return fail('amount_malformed', 'amount must look like "125" or "125.50"');
  }
  if (fraction !== undefined && fraction.length > 2) {
    return fail('amount_too_precise', 'amount has more than 2 decimal places');
  }
  // Bound the digits before BigInt so a 10,000-digit string costs nothing.
  if (whole.replace(/^0+/, '').length > 20)
    return fail('amount_too_large', `amount exceeds the maximum ${formatAmount(maxMinor)}`);
  const minor = BigInt(whole) * MINOR_PER_MAJOR + BigInt((fraction ?? '').padEnd(2, '0'));
  if (minor === 0n) return fail('amount_zero', 'amount must be greater than zero');
  if (minor > maxMinor) return fail('amount_too_large', `amount exceeds the maximum ${formatAmount(maxMinor)}`);
  return { ok: true, value: minor as MinorUnits };
}

/**
 * Reads back what formatAmount writes for a non-negative amount ("0.00", "125.50"): an amount due, a
 * balance. Unlike parseAmount (a payment a channel sends) zero is a value here; anything else is undefined.
 */
export function parseMinorUnits(text: unknown): MinorUnits | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(0|[1-9]\d{0,35})\.(\d{2})$/.exec(text);
  if (!match) return undefined;
  return (BigInt(match[1] ?? '') * MINOR_PER_MAJOR + BigInt(match[2] ?? '')) as MinorUnits;
}

/** Formats minor units as the edge's decimal string, always with two fraction digits. */
export function formatAmount(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const whole = abs / MINOR_PER_MAJOR;
  const fraction = (abs % MINOR_PER_MAJOR).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}

function fail<E extends string>(code: E, detail: string): { ok: false; code: E; detail: string } {
  return { ok: false, code, detail };
}
