// The mortgage core writes amounts as decimal strings with exactly two fraction digits ("1450.30") and
// accepts one or two on input. Conversion goes digits <-> bigint, never through a number.

const WIRE_DECIMAL = /^(0|[1-9][0-9]{0,17})\.([0-9]{2})$/;
const INPUT_DECIMAL = /^([0-9]{1,18})(?:\.([0-9]{1,2}))?$/;

/** Minor units as the core writes them; a negative amount has no place on this wire. */
export function formatMortgageDecimal(minor: bigint): string {
  if (minor < 0n) throw new RangeError('mortgage amounts are never negative');
  return `${(minor / 100n).toString()}.${(minor % 100n).toString().padStart(2, '0')}`;
}

/** Reads an amount the core wrote (exactly two decimals); undefined when it is not one. */
export function parseMortgageDecimal(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const match = WIRE_DECIMAL.exec(text);
  if (!match) return undefined;
  return BigInt(match[1] ?? '') * 100n + BigInt(match[2] ?? '');
}

/** Reads an amount a client sent ("125", "125.5", "125.50"); undefined when malformed. */
export function parseMortgageInputDecimal(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const match = INPUT_DECIMAL.exec(text);
  if (!match) return undefined;
  return BigInt(match[1] ?? '') * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
}
