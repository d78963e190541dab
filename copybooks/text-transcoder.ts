import { CopybookError, toHex } from './copybook-errors';
import { NO_CHAR, type CodePage } from './code-page';

// Bytes <-> JS strings through a code page's table. One scratch buffer is reused per process so
// decoding a field allocates only the resulting string.
let scratch = Buffer.allocUnsafe(4096);

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

/** Decodes buf[start, end) to a string; throws BYTE_NOT_DECODABLE for a byte without a character. */
export function decodeText(page: CodePage, buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  const toU = page.toUnicode;
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
    return s.toString('latin1', 0, n);
  }
  const s = scratchOf(n * 2);
  for (let i = 0; i < n; i++) {
    const u = toU[buf[start + i] as number] as number;
    if (u === NO_CHAR) throw undecodable(page, buf, start + i);
    s[2 * i] = u & 0xff;
    s[2 * i + 1] = u >>> 8;
  }
  return s.toString('utf16le', 0, n * 2);
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
