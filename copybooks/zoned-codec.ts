import { CopybookError, toHex } from './copybook-errors';
import type { CodePage } from './code-page';
import { formatDigits, unscaledFrom } from './decimal-text';
import { decimalFromDigits } from './digit-string';
import type { FieldCodec } from './field-codec';

export interface ZonedSpec {
  readonly digits: number;
  readonly scale: number;
  readonly signed: boolean;
  readonly signPosition: 'leading' | 'trailing';
  readonly signSeparate: boolean;
  readonly blankWhenZero: boolean;
}

// Zoned decimal (USAGE DISPLAY numeric), IBM Enterprise COBOL "Zoned decimal" rules: each digit in
// the low nibble under zone F; the sign digit carries the sign in its zone (C, A, E, F positive;
// D, B negative on read; C/D written for signed pictures, F for unsigned). ASCII files use the
// common overpunch convention: {, A-I positive, }, J-R negative (also p-y negative on read).

const asciiSign = new Int8Array(256).fill(-1); // digit value for overpunched bytes
const asciiNegative = new Uint8Array(256);
for (let d = 0; d <= 9; d++) {
  asciiSign[0x30 + d] = d;
  asciiSign[d === 0 ? 0x7b : 0x40 + d] = d;
  asciiSign[d === 0 ? 0x7d : 0x49 + d] = d;
  asciiNegative[d === 0 ? 0x7d : 0x49 + d] = 1;
  asciiSign[0x70 + d] = d;
  asciiNegative[0x70 + d] = 1;
}
const asciiPositivePunch = [0x7b, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49];
const asciiNegativePunch = [0x7d, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52];

// byte -> its digit character ('0'-'9'), for plain and overpunched bytes alike (validated separately)
export const ebcdicDigitChars = Uint16Array.from({ length: 256 }, (_, b) => 0x30 + Math.min(b & 0x0f, 9));
const asciiDigitChars = Uint16Array.from({ length: 256 }, (_, b) => 0x30 + Math.max(asciiSign[b] ?? 0, 0));

export function zonedCodec(spec: ZonedSpec, page: CodePage): FieldCodec {
  const n = spec.digits;
  const size = n + (spec.signSeparate ? 1 : 0);
  const ebcdic = page.family === 'ebcdic';
  const zero = page.zero;
  const firstDigit = spec.signSeparate && spec.signPosition === 'leading' ? 1 : 0;
  const signDigit = !spec.signed || spec.signSeparate ? -1 : spec.signPosition === 'leading' ? 0 : n - 1;
  const signByteAt = spec.signSeparate ? (spec.signPosition === 'leading' ? 0 : n) : -1;
  // The digit that carries a sign zone: the overpunched one, or (EBCDIC unsigned) the last one.
  const signAt = signDigit >= 0 ? signDigit : !spec.signed && ebcdic ? n - 1 : -1;
  const digitChars = ebcdic ? ebcdicDigitChars : asciiDigitChars;
  const bad = (
    buf: Uint8Array,
    pos: number,
    why: string,
    code: 'ZONED_INVALID' | 'SIGN_INVALID' = 'ZONED_INVALID',
  ): CopybookError => new CopybookError(code, why, { hex: toHex(buf, pos, pos + size) });
  const isBlank = (buf: Uint8Array, pos: number): boolean => {
    for (let i = 0; i < size; i++) if (buf[pos + i] !== page.space) return false;
    return true;
  };

  const decode = (buf: Uint8Array, pos: number): string => {
    if (spec.blankWhenZero && isBlank(buf, pos)) return formatDigits(false, zeroDigits(n), n, spec.scale);
    let negative = false;
    let firstNonZero = -1;
    const base = pos + firstDigit;
    // Every byte but the sign digit: zone F (EBCDIC) or 0x3_ (ASCII) with a digit below it.
    for (let i = 0; i < n; i++) {
      if (i === signAt) continue;
      const v = (buf[base + i] as number) - zero;
      if (v < 0 || v > 9)
        throw bad(buf, pos, `byte ${hex2(buf[base + i] as number)} at position ${i + 1 + firstDigit} is not a digit`);
      if (firstNonZero < 0 && v !== 0) firstNonZero = i;
    }
    if (signAt >= 0) {
      const b = buf[base + signAt] as number;
      let digit: number;
      if (ebcdic) {
        // The last digit of an unsigned field may carry C (or F) as IBM compilers accept either.
        const zone = b >>> 4;
        digit = b & 0x0f;
        if (digit > 9) throw bad(buf, pos, `byte ${hex2(b)} is not a digit with a sign zone`);
        if (zone === 0x0d || zone === 0x0b) {
          if (!spec.signed) throw bad(buf, pos, `negative sign zone ${hex2(b)} in an unsigned field`, 'SIGN_INVALID');
          negative = true;
        } else if (zone !== 0x0c && zone !== 0x0f && zone !== 0x0a && zone !== 0x0e) {
          throw bad(buf, pos, `byte ${hex2(b)} has no valid sign zone (A-F)`);
        }
      } else {
        digit = asciiSign[b] as number;
        if (digit < 0 || (!spec.signed && b !== 0x30 + digit))
          throw bad(buf, pos, `byte ${hex2(b)} is not a digit or an overpunched sign`);
        if (asciiNegative[b] === 1) negative = true;
      }
      if (digit !== 0 && (firstNonZero < 0 || signAt < firstNonZero)) firstNonZero = signAt;
    }
    if (signByteAt >= 0) {
      const s = buf[pos + signByteAt] as number;
      if (s === page.minus) negative = true;
      else if (s !== page.plus) throw bad(buf, pos, `separate sign byte ${hex2(s)} is neither + nor -`, 'SIGN_INVALID');
    }
    return decimalFromDigits(digitChars, buf, base, n, firstNonZero, spec.scale, negative);
  };

  const encode = (value: unknown, buf: Uint8Array, pos: number): void => {
    const u = unscaledFrom(value, spec);
    if (spec.blankWhenZero && u.digits === '0' && !u.negative) {
      for (let i = 0; i < size; i++) buf[pos + i] = page.space;
      return;
    }
    const pad = n - u.digits.length;
    const base = pos + firstDigit;
    for (let i = 0; i < n; i++) buf[base + i] = zero + (i < pad ? 0 : u.digits.charCodeAt(i - pad) - 0x30);
    if (signDigit >= 0) {
      const at = base + signDigit;
      const digit = (buf[at] as number) - zero;
      if (ebcdic) buf[at] = ((u.negative ? 0x0d : 0x0c) << 4) | digit;
      else buf[at] = (u.negative ? asciiNegativePunch : asciiPositivePunch)[digit] as number;
    }
    if (signByteAt >= 0) buf[pos + signByteAt] = u.negative ? page.minus : page.plus;
  };
  return Object.freeze({ size, decode, encode });
}

function hex2(b: number): string {
  return `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;
}

const zeroCache = new Map<number, Buffer>();
function zeroDigits(n: number): Buffer {
  let z = zeroCache.get(n);
  if (z === undefined) {
    z = Buffer.alloc(n, 0x30);
    zeroCache.set(n, z);
  }
  return z;
}
