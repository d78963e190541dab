import { CopybookError, toHex } from './copybook-errors';
import { NO_CHAR, type CodePage } from './code-page';

// Bytes <-> JS strings through a code page's table. One scratch buffer is reused per process so
// decoding a field allocates only the resulting string.
let scratch = Buffer.allocUnsafe(4096);

/** Node's Buffer has these (Buffer#toString calls them after argument checks); typing them lets hot paths skip the checks. */
export type SliceableBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
};

function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  return scratch;
}

const latin1Cache = new WeakMap<CodePage, Uint8Array>();

function latin1TableOf(page: CodePage): Uint8Array {
  let t = latin1Cache.get(page);
  if (t === undefined) {
    t = new Uint8Array(256);
    for (let b = 0; b < 256; b++) t[b] = (page.toUnicode[b] ?? 0) & 0xff;
    latin1Cache.set(page, t);
  }
  return t;
}

function undecodable(page: CodePage, buf: Uint8Array, at: number): CopybookError {
  return new CopybookError(
    'BYTE_NOT_DECODABLE',
    `byte 0x${(buf[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')} has no character in ${page.name}`,
    { codePage: page.name, hex: toHex(buf, at, at + 1) },
  );
}

export type ShortDecoder = (table: Uint16Array, buf: Uint8Array, at: number) => string;

const SHORT = 64;
const shortDecoders: ShortDecoder[] = [];

/**
 * For fields up to 64 bytes, a function per length that builds the string with one
 * String.fromCharCode call of fixed arity (generated once, shared by every field of that length):
 * two to three times faster than a Buffer latin1/ucs2 slice for the short strings records hold.
 */
export function shortDecoder(n: number): ShortDecoder {
  let f = shortDecoders[n];
  if (f === undefined) {
    const args = Array.from({ length: n }, (_, i) => `t[b[p + ${i}]]`).join(', ');
    f = new Function('t', 'b', 'p', `return String.fromCharCode(${args});`) as ShortDecoder;
    shortDecoders[n] = f;
  }
  return f;
}

const identity = Uint16Array.from({ length: 256 }, (_, i) => i);

/** ASCII/Latin-1 bytes buf[start, start+n) as a string (digits, signs and points built by the numeric codecs). */
export function asciiString(buf: Uint8Array, start: number, n: number): string {
  if (n <= SHORT) return shortDecoder(n)(identity, buf, start);
  return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
}

/** Decodes buf[start, end) to a string; throws BYTE_NOT_DECODABLE for a byte without a character. */
export function decodeText(page: CodePage, buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  const toU = page.toUnicode;
  if (n <= SHORT) {
    const s = shortDecoder(n)(toU, buf, start);
    if (!page.total) {
      for (let i = 0; i < n; i++)
        if (toU[buf[start + i] as number] === NO_CHAR) throw undecodable(page, buf, start + i);
    }
    return s;
  }
  if (page.latin1Only) {
    const t = latin1TableOf(page);
    const s = scratchOf(n);
    if (page.total) {
      for (let i = 0; i < n; i++) s[i] = t[buf[start + i] as number] as number;
    } else {
      for (let i = 0; i < n; i++) {
        const b = buf[start + i] as number;
        if (toU[b] === NO_CHAR) throw undecodable(page, buf, start + i);
        s[i] = t[b] as number;
      }
    }
    return (s as SliceableBuffer).latin1Slice(0, n);
  }
  const s = scratchOf(n * 2);
  for (let i = 0; i < n; i++) {
    const u = toU[buf[start + i] as number] as number;
    if (u === NO_CHAR) throw undecodable(page, buf, start + i);
    s[2 * i] = u & 0xff;
    s[2 * i + 1] = u >>> 8;
  }
  return (s as SliceableBuffer).ucs2Slice(0, n * 2);
}

/**
 * Writes text into target[start, start+text.length); returns the byte count.
 * A character the code page cannot hold is CHAR_NOT_ENCODABLE, never a substitute such as '?'.
 */
export function encodeTextInto(page: CodePage, text: string, target: Uint8Array, start: number): number {
  const fromU = page.fromUnicode;
  for (let i = 0; i < text.length; i++) {
    const b = fromU[text.charCodeAt(i)] as number;
    if (b < 0) {
      const cp = text.codePointAt(i) ?? 0;
      throw new CopybookError(
        'CHAR_NOT_ENCODABLE',
        `character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at position ${i + 1} has no byte in ${page.name}`,
        { codePage: page.name },
      );
    }
    target[start + i] = b;
  }
  return text.length;
}

export function encodeText(page: CodePage, text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  encodeTextInto(page, text, out, 0);
  return out;
}
