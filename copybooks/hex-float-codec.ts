import { CopybookError } from './copybook-errors';
import { formatDigitString } from './decimal-text';
import type { FieldCodec } from './field-codec';

// COMP-1 / COMP-2 as z/OS stores them: IBM hexadecimal floating point (z/Architecture Principles of
// Operation, "Hexadecimal-floating-point number representation"): sign bit, 7-bit excess-64 base-16
// exponent, 24- or 56-bit fraction. Every such value is a finite binary fraction, so we decode it to
// its exact decimal string, and encode only values the format holds exactly (else FLOAT_NOT_EXACT).

export function hexFloatCodec(bytes: 4 | 8): FieldCodec {
  const fracBits = bytes === 4 ? 24 : 56;

  const decode = (buf: Uint8Array, pos: number): string => {
    const b0 = buf[pos] as number;
    const negative = (b0 & 0x80) !== 0;
    const exp = b0 & 0x7f;
    let frac = 0n;
    for (let i = 1; i < bytes; i++) frac = (frac << 8n) | BigInt(buf[pos + i] as number);
    if (frac === 0n) return negative ? '-0' : '0';
    const e = 4 * (exp - 64) - fracBits; // value = frac * 2^e
    if (e >= 0) return formatDigitString(negative, (frac << BigInt(e)).toString(), 0);
    // frac / 2^k = frac * 5^k / 10^k; trailing zeros of the fraction are dropped (not part of a picture)
    const k = -e;
    let digits = (frac * 5n ** BigInt(k)).toString();
    let scale = k;
    while (scale > 0 && digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      scale--;
    }
    return formatDigitString(negative, digits, scale);
  };

  const encode = (value: unknown, buf: Uint8Array, pos: number): void => {
    const text =
      typeof value === 'bigint'
        ? value.toString()
        : typeof value === 'number' && Number.isSafeInteger(value)
          ? String(value)
          : value;
    if (typeof text !== 'string')
      throw new CopybookError('VALUE_TYPE', 'expected a decimal string for a COMP-1/COMP-2 field');
    const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (m === null)
      throw new CopybookError('VALUE_NOT_DECIMAL', `"${text.slice(0, 60)}" is not a plain decimal number`);
    const negative = m[1] === '-';
    const frac10 = m[3] ?? '';
    let n = BigInt((m[2] ?? '0') + frac10);
    const s = frac10.length;
    for (let i = 1; i < bytes; i++) buf[pos + i] = 0;
    if (n === 0n) {
      buf[pos] = negative ? 0x80 : 0;
      return;
    }
    // value = n / 10^s; exact in binary only if 5^s divides n: then value = (n / 5^s) / 2^s
    const five = 5n ** BigInt(s);
    if (n % five !== 0n) throw notExact(text);
    n /= five;
    let t = 0; // n = m * 2^t, m odd
    while ((n & 1n) === 0n) {
      n >>= 1n;
      t++;
    }
    const len = n.toString(2).length;
    // value = m * 2^(t - s) = frac * 2^(4q - F), frac normalised: bit length in (F - 4, F]
    const base = t - s + fracBits;
    let j = fracBits - len;
    while ((((base - j) % 4) + 4) % 4 !== 0) j--;
    if (j < 0 || len + j <= fracBits - 4) throw notExact(text);
    const q = (base - j) / 4;
    const exp = q + 64;
    if (exp < 0 || exp > 127) throw notExact(text);
    let frac = n << BigInt(j);
    for (let i = bytes - 1; i >= 1; i--) {
      buf[pos + i] = Number(frac & 0xffn);
      frac >>= 8n;
    }
    buf[pos] = (negative ? 0x80 : 0) | exp;
  };
  return Object.freeze({ size: bytes, decode, encode });
}

function notExact(text: string): CopybookError {
  return new CopybookError('FLOAT_NOT_EXACT', `${text} cannot be held exactly in IBM hexadecimal floating point`);
}
