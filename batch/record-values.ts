import { formatAmount } from '../domain/money';
import { BatchError, type BatchErrorContext } from './batch-errors';

// Conversions between the engine's decoded strings and the hub's types, shared by the record modules.

/** The engine's decimal string of a V99 field (`"-125.50"`) to minor units. */
export function minorFromDecimal(text: string, where: BatchErrorContext): bigint {
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(text);
  if (!m) throw new BatchError('RECORD_INVALID', `not an amount with two decimals: ${JSON.stringify(text)}`, where);
  const minor = BigInt(m[2] ?? '0') * 100n + BigInt(m[3] ?? '0');
  return m[1] === '-' ? -minor : minor;
}

export function decimalFromMinor(minor: bigint): string {
  return formatAmount(minor);
}

export function textField(record: Record<string, unknown>, name: string): string {
  const v = record[name];
  return typeof v === 'string' ? v : '';
}

/** An unsigned zoned number as a string of digits without leading zeros (`"0"` for zero). */
export function digitsField(record: Record<string, unknown>, name: string): string {
  const v = record[name];
  return typeof v === 'string' ? v : '0';
}
