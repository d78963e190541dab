import { CopybookError, toHex } from './copybook-errors';
import { unscaledFrom } from './decimal-text';
import { decimalFromNibbles } from './digit-string';
import type { FieldCodec } from './field-codec';

export interface PackedSpec {
  readonly digits: number;
  readonly scale: number;
  readonly signed: boolean;
}

// Packed decimal (COMP-3), IBM z/Architecture Principles of Operation "Decimal-number formats":
// two digits a byte, the sign in the last low nibble (A, C, E, F plus; B, D minus). An even digit
// count leaves the first high nibble as a pad, which must be zero. We write C/D (signed) or F.

export function packedCodec(spec: PackedSpec): FieldCodec {
  const n = spec.digits;
  const size = Math.floor(n / 2) + 1;
  const nibbles = size * 2 - 1; // digit nibbles, including the pad nibble when n is even
  const pad = nibbles - n;

  const decode = (buf: Uint8Array, pos: number): string => {
    let firstNonZero = -1;
    for (let k = 0; k < nibbles; k++) {
      const b = buf[pos + (k >>> 1)] as number;
      const v = k & 1 ? b & 0x0f : b >>> 4;
      if (v > 9)
        throw invalid(
          buf,
          pos,
          size,
          `nibble ${v.toString(16).toUpperCase()} at digit ${k + 1 - pad} is not a decimal digit`,
        );
      if (v !== 0 && firstNonZero < 0) {
        if (k < pad) throw invalid(buf, pos, size, 'the pad nibble of an even-digit packed field is not zero');
        firstNonZero = k - pad;
      }
    }
    const sign = (buf[pos + size - 1] as number) & 0x0f;
    let negative = false;
    if (sign === 0x0d || sign === 0x0b) {
      if (!spec.signed) {
        throw new CopybookError(
          'SIGN_INVALID',
          `negative sign nibble ${sign.toString(16).toUpperCase()} in an unsigned field`,
          {
            hex: toHex(buf, pos, pos + size),
          },
        );
      }
      negative = true;
    } else if (sign < 0x0a) {
      throw invalid(buf, pos, size, `sign nibble ${sign.toString(16).toUpperCase()} is not a valid sign (A-F)`);
    }
    return decimalFromNibbles(buf, pos, pad, n, firstNonZero, spec.scale, negative);
  };

  const encode = (value: unknown, buf: Uint8Array, pos: number): void => {
    const u = unscaledFrom(value, spec);
    const lead = nibbles - u.digits.length;
    for (let i = 0; i < size; i++) buf[pos + i] = 0;
    for (let k = lead; k < nibbles; k++) {
      const v = u.digits.charCodeAt(k - lead) - 0x30;
      const at = pos + (k >>> 1);
      buf[at] = (buf[at] as number) | (k & 1 ? v : v << 4);
    }
    const last = pos + size - 1;
    buf[last] = (buf[last] as number) | (spec.signed ? (u.negative ? 0x0d : 0x0c) : 0x0f);
  };
  return Object.freeze({ size, decode, encode });
}

function invalid(buf: Uint8Array, pos: number, size: number, why: string): CopybookError {
  return new CopybookError('PACKED_INVALID', why, { hex: toHex(buf, pos, pos + size) });
}
