import { CopybookError, toHex } from './copybook-errors';
import { formatDigitString, unscaledFrom } from './decimal-text';
import type { FieldCodec } from './field-codec';

export interface BinarySpec {
  readonly digits: number;
  readonly scale: number;
  readonly signed: boolean;
  readonly bytes: 2 | 4 | 8;
  /** COMP-5: any value the binary word holds; COMP/COMP-4/BINARY: at most the PICTURE's digits (TRUNC(STD)). */
  readonly native: boolean;
}

// Big-endian two's complement (signed) or unsigned binary, as z/OS stores COMP, COMP-4, BINARY and COMP-5.

export function binaryCodec(spec: BinarySpec): FieldCodec {
  const size = spec.bytes;
  const limitDigits = spec.native ? 20 : spec.digits;
  const max = 10n ** BigInt(spec.digits);
  const lo = spec.signed ? -(1n << BigInt(size * 8 - 1)) : 0n;
  const hi = spec.signed ? (1n << BigInt(size * 8 - 1)) - 1n : (1n << BigInt(size * 8)) - 1n;
  const maxSmall = 10 ** Math.min(spec.digits, 9);
  const loSmall = Number(lo);
  const hiSmall = Number(hi);

  const tooBig = (buf: Uint8Array, pos: number, shown: string): CopybookError =>
    new CopybookError(
      'BINARY_OUT_OF_RANGE',
      `binary value ${shown} has more than the picture's ${spec.digits} digits`,
      {
        hex: toHex(buf, pos, pos + size),
      },
    );

  const decode = (buf: Uint8Array, pos: number): string => {
    if (size === 8) {
      const hi =
        (((buf[pos] as number) << 24) |
          ((buf[pos + 1] as number) << 16) |
          ((buf[pos + 2] as number) << 8) |
          (buf[pos + 3] as number)) >>>
        0;
      const lo =
        (((buf[pos + 4] as number) << 24) |
          ((buf[pos + 5] as number) << 16) |
          ((buf[pos + 6] as number) << 8) |
          (buf[pos + 7] as number)) >>>
        0;
      const raw = (BigInt(hi) << 32n) | BigInt(lo);
      const v = spec.signed ? BigInt.asIntN(64, raw) : raw;
      const negative = v < 0n;
      const abs = negative ? -v : v;
      if (!spec.native && abs >= max) throw tooBig(buf, pos, v.toString());
      return formatDigitString(negative, abs.toString(), spec.scale);
    }
    let v: number;
    const b0 = buf[pos] as number;
    const b1 = buf[pos + 1] as number;
    if (size === 2) {
      v = (b0 << 8) | b1;
      if (spec.signed && v & 0x8000) v -= 0x10000;
    } else {
      v = ((b0 << 24) | (b1 << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number)) >>> 0;
      if (spec.signed && v > 0x7fffffff) v -= 0x100000000;
    }
    const negative = v < 0;
    const abs = negative ? -v : v;
    if (!spec.native && abs >= maxSmall) throw tooBig(buf, pos, String(v));
    return formatDigitString(negative, String(abs), spec.scale);
  };

  const encode = (value: unknown, buf: Uint8Array, pos: number): void => {
    const u = unscaledFrom(value, spec, limitDigits);
    const tooBigToWrite = (): CopybookError =>
      new CopybookError(
        'VALUE_TOO_MANY_DIGITS',
        `${String(value)} does not fit a ${size}-byte ${spec.signed ? 'signed' : 'unsigned'} binary field`,
      );
    if (size === 8) {
      let v = BigInt(u.digits);
      if (u.negative) v = -v;
      if (v < lo || v > hi) throw tooBigToWrite();
      let w = BigInt.asUintN(64, v);
      for (let i = 7; i >= 0; i--) {
        buf[pos + i] = Number(w & 0xffn);
        w >>= 8n;
      }
      return;
    }
    // Halfword and fullword: at most 10 validated integer digits, exact as a JS integer; this is
    // the bit pattern being built, not an amount being computed.
    if (u.digits.length > 10) throw tooBigToWrite();
    const v = u.negative ? -Number(u.digits) : Number(u.digits);
    if (v < loSmall || v > hiSmall) throw tooBigToWrite();
    let w = v < 0 ? v + 2 ** (size * 8) : v;
    for (let i = size - 1; i >= 0; i--) {
      buf[pos + i] = w & 0xff;
      w = Math.floor(w / 256);
    }
  };
  return Object.freeze({ size, decode, encode });
}
