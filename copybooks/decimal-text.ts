import { CopybookError } from './copybook-errors';
import { asciiString } from './text-transcoder';

// Exact decimal values at the edges: strings such as "-1234.50" (the picture's scale kept) in and
// out, digit strings inside. No number ever passes through a float.

export interface NumericSpec {
  readonly digits: number;
  /** Decimal places; negative when P positions sit right of the digits. */
  readonly scale: number;
  readonly signed: boolean;
}

export interface Unscaled {
  readonly negative: boolean;
  /** The stored digits without leading zeros ("0" for zero). */
  readonly digits: string;
}

let out = Buffer.allocUnsafe(128);

/**
 * Formats the ASCII digits held in digits[0, n) (the stored digits of a field, most significant
 * first) as a decimal string with the given scale.
 */
export function formatDigits(negative: boolean, digits: Uint8Array, n: number, scale: number): string {
  if (out.length < n + Math.abs(scale) + 4) out = Buffer.allocUnsafe(n + Math.abs(scale) + 64);
  let o = 0;
  if (negative) out[o++] = 0x2d;
  if (scale <= 0) {
    let k = 0;
    while (k < n - 1 && digits[k] === 0x30) k++;
    for (let i = k; i < n; i++) out[o++] = digits[i] as number;
    if (scale < 0 && !(n - k === 1 && digits[k] === 0x30)) for (let i = 0; i < -scale; i++) out[o++] = 0x30;
  } else if (scale >= n) {
    out[o++] = 0x30;
    out[o++] = 0x2e;
    for (let i = n; i < scale; i++) out[o++] = 0x30;
    for (let i = 0; i < n; i++) out[o++] = digits[i] as number;
  } else {
    const intLen = n - scale;
    let k = 0;
    while (k < intLen - 1 && digits[k] === 0x30) k++;
    for (let i = k; i < intLen; i++) out[o++] = digits[i] as number;
    out[o++] = 0x2e;
    for (let i = intLen; i < n; i++) out[o++] = digits[i] as number;
  }
  return asciiString(out, 0, o);
}

/** Formats a digit string without leading zeros ("0" for zero), as binary and float codecs produce it. */
export function formatDigitString(negative: boolean, digits: string, scale: number): string {
  let r: string;
  if (scale === 0) r = digits;
  else if (scale < 0) r = digits === '0' ? digits : digits + '0'.repeat(-scale);
  else if (digits.length > scale)
    r = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  else r = `0.${'0'.repeat(scale - digits.length)}${digits}`;
  return negative ? `-${r}` : r;
}

const ZEROS = '0'.repeat(64);

function zeros(n: number): string {
  return n <= ZEROS.length ? ZEROS.slice(0, n) : '0'.repeat(n);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * An input value (decimal string, bigint, or a JS safe integer) -> the digits to store.
 * Anything that does not fit exactly is an error; nothing is rounded or cut.
 */
export function unscaledFrom(value: unknown, spec: NumericSpec, maxDigits = spec.digits): Unscaled {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'bigint') text = value.toString();
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new CopybookError(
        'VALUE_TYPE',
        `number ${String(value)} is not a safe integer; give decimals as strings such as "12.50"`,
      );
    }
    text = String(value);
  } else {
    throw new CopybookError('VALUE_TYPE', `expected a decimal string, found ${value === null ? 'null' : typeof value}`);
  }
  // One pass over [+-]digits[.digits]; anything else is not a plain decimal.
  const n = text.length;
  let i = 0;
  const c0 = text.charCodeAt(0);
  const negative = c0 === 45;
  if (negative || c0 === 43) i = 1;
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = n;
  let hasPoint = false;
  if (i < n && text.charCodeAt(i) === 46) {
    hasPoint = true;
    i++;
    fracStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  if (intEnd === intStart || i !== n || (hasPoint && fracStart === n)) {
    throw new CopybookError('VALUE_NOT_DECIMAL', `"${text.slice(0, 60)}" is not a plain decimal number`);
  }
  const fracLen = n - fracStart;
  const places = Math.max(spec.scale, 0);
  if (fracLen > places) {
    throw new CopybookError(
      'VALUE_TOO_MANY_DECIMALS',
      `"${text}" has ${fracLen} decimals; the picture holds ${places}`,
    );
  }
  let k = intStart;
  while (k < intEnd && text.charCodeAt(k) === 48) k++;
  let all: string;
  if (k < intEnd) {
    all = text.slice(k, intEnd) + (fracLen > 0 ? text.slice(fracStart) : '') + zeros(places - fracLen);
  } else {
    let f = fracStart;
    while (f < n && text.charCodeAt(f) === 48) f++;
    all = f === n ? '' : text.slice(f) + zeros(places - fracLen);
  }
  if (spec.scale < 0 && all !== '') {
    const pz = -spec.scale;
    if (!all.endsWith(zeros(pz))) {
      throw new CopybookError(
        'VALUE_TOO_MANY_DIGITS',
        `"${text}" is not a multiple of 1${zeros(pz)} as the picture's P positions require`,
      );
    }
    all = all.slice(0, all.length - pz);
  }
  if (all.length > maxDigits) {
    throw new CopybookError(
      'VALUE_TOO_MANY_DIGITS',
      `"${text}" needs ${all.length} digits; the picture holds ${maxDigits}`,
    );
  }
  if (negative && !spec.signed && all !== '') {
    throw new CopybookError('VALUE_NEGATIVE_UNSIGNED', `"${text}" is negative but the picture is unsigned`);
  }
  // "-0" is kept as a negative sign on signed fields so that a decoded -0 re-encodes to the same bytes.
  return { negative: negative && spec.signed, digits: all === '' ? '0' : all };
}
