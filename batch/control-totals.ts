import type { Currency } from '../domain/money';
import { HASH_MODULUS } from './request-trailer-record';

// Control totals of a request file, accumulated record by record: count, money per currency, and
// the hash total (sum of loan numbers modulo 10^18) that catches a changed or dropped detail.

export interface ControlTotals {
  recordCount: number;
  totalPen: bigint;
  totalUsd: bigint;
  hashTotal: bigint;
}

export function emptyTotals(): ControlTotals {
  return { recordCount: 0, totalPen: 0n, totalUsd: 0n, hashTotal: 0n };
}

export function addDetail(t: ControlTotals, d: { currency: Currency; amount: bigint; loanNumber: string }): void {
  t.recordCount += 1;
  if (d.currency === 'PEN') t.totalPen += d.amount;
  else t.totalUsd += d.amount;
  t.hashTotal = (t.hashTotal + BigInt(d.loanNumber)) % HASH_MODULUS;
}

export function formatMinor(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  return `${negative ? '-' : ''}${(abs / 100n).toString()}.${(abs % 100n).toString().padStart(2, '0')}`;
}
