import type { CodePage } from './code-page';
import { CopybookError } from './copybook-errors';
import type { Layout, LayoutField, LayoutNode } from './copybook-layout';
import { digitsWriters } from './digit-string';
import type { FieldCodec } from './field-codec';
import { codecFor, type RecordCodecOptions } from './record-decoder';
import { ebcdicDigitChars } from './zoned-codec';

// The JSON line of a record written straight from its bytes: one generated function per layout,
// the twin of decode-fast-path.ts, that checks every field as the fast path does and writes the
// line's UTF-8 bytes (keys and punctuation as constants, digits from the field's bytes, text
// through a per-code-page table of escaped UTF-8 sequences) without building strings or objects.
// Its output is byte for byte `JSON.stringify(decoder.decode(bytes)) + '\n'` (ECMA-262
// JSON.stringify: QuoteJSONString's escapes, well-formed for lone surrogates). Whenever the decode
// fast path would decline, so does this, and the caller takes the decoder and JSON.stringify.

export interface RecordJsonWriter {
  readonly kind: 'record-json-writer';
  /** The most bytes one line (with its '\n') can take: keep that much room in `out` before write(). */
  readonly maxLineBytes: number;
  /**
   * Writes the record at buf[start, end) as one JSON line into out from q and returns the end,
   * or -1 when the decoder must decide (a field not valid, a record shorter than the layout).
   */
  write(buf: Uint8Array, start: number, end: number, out: Uint8Array, q: number): number;
}

// ECMA-262 QuoteJSONString: the short escapes, \u00xx (lowercase hex) for other controls.
const shortEscapes: Readonly<Record<number, number>> = { 8: 98, 9: 116, 10: 110, 12: 102, 13: 114, 34: 34, 92: 92 };
/** 0: the ASCII byte itself; 1: \u00xx; else the letter after the backslash. */
const asciiEscape = Uint8Array.from({ length: 128 }, (_, c) => shortEscapes[c] ?? (c < 0x20 ? 1 : 0));
const hexDigits = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));

function unicodeEscape(c: number, o: Uint8Array, q: number): number {
  o[q] = 92;
  o[q + 1] = 117;
  o[q + 2] = hexDigits[(c >>> 12) & 15] as number;
  o[q + 3] = hexDigits[(c >>> 8) & 15] as number;
  o[q + 4] = hexDigits[(c >>> 4) & 15] as number;
  o[q + 5] = hexDigits[c & 15] as number;
  return q + 6;
}

/**
 * Writes s as a JSON string (quotes included) in UTF-8 into o at q; returns the end. Exactly the
 * bytes of Buffer.from(JSON.stringify(s)): at most 6 bytes per UTF-16 unit plus the quotes.
 */
export function writeJsonString(s: string, o: Uint8Array, q: number): number {
  o[q++] = 34;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const e = asciiEscape[c] as number;
      if (e === 0) o[q++] = c;
      else if (e === 1) q = unicodeEscape(c, o, q);
      else {
        o[q] = 92;
        o[q + 1] = e;
        q += 2;
      }
    } else if (c < 0x800) {
      o[q] = 0xc0 | (c >>> 6);
      o[q + 1] = 0x80 | (c & 63);
      q += 2;
    } else if (c < 0xd800 || c > 0xdfff) {
      o[q] = 0xe0 | (c >>> 12);
      o[q + 1] = 0x80 | ((c >>> 6) & 63);
      o[q + 2] = 0x80 | (c & 63);
      q += 3;
    } else {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        o[q] = 0xf0 | (cp >>> 18);
        o[q + 1] = 0x80 | ((cp >>> 12) & 63);
        o[q + 2] = 0x80 | ((cp >>> 6) & 63);
        o[q + 3] = 0x80 | (cp & 63);
        q += 4;
        i++;
      } else {
        // A lone surrogate: escaped, as well-formed JSON.stringify does (ES2019).
        q = unicodeEscape(c, o, q);
      }
    }
  }
  o[q++] = 34;
  return q;
}

/** A code page's bytes as JSON string content: one-byte characters in `single`, the rest in `wide`. */
interface JsonTextTable {
  /** The output byte for a character written as itself in one byte; 0 when it needs `wide`. */
  readonly single: Uint8Array;
  /** Up to 6 bytes per code-page byte (escape or UTF-8 sequence), at 8 * byte; length in `wideLength`. */
  readonly wide: Uint8Array;
  readonly wideLength: Uint8Array;
}

const textTables = new WeakMap<CodePage, JsonTextTable>();

function jsonTextTable(page: CodePage): JsonTextTable {
  let t = textTables.get(page);
  if (t !== undefined) return t;
  const single = new Uint8Array(256);
  const wide = new Uint8Array(256 * 8);
  const wideLength = new Uint8Array(256);
  const tmp = new Uint8Array(16);
  for (let b = 0; b < 256; b++) {
    const u = page.toUnicode[b] as number;
    const end = writeJsonString(String.fromCharCode(u), tmp, 0);
    const len = end - 2;
    if (len === 1) single[b] = tmp[1] as number;
    wide.set(tmp.subarray(1, end - 1), b * 8);
    wideLength[b] = len;
  }
  t = { single, wide, wideLength };
  textTables.set(page, t);
  return t;
}

function writeInteger(w: number, o: Uint8Array, q: number): number {
  if (w < 0) {
    o[q++] = 45;
    w = -w;
  }
  let digits = 1;
  for (let x = w; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    o[q + i] = 48 + (w % 10);
    w = Math.floor(w / 10);
  }
  return q + digits;
}

// Byte classes as in decode-fast-path.ts (packed digits, packed sign, negative sign, zoned sign).
const packedDigits = Uint8Array.from({ length: 256 }, (_, b) => (b >>> 4 <= 9 && (b & 15) <= 9 ? 1 : 0));
const packedSign = Uint8Array.from({ length: 256 }, (_, b) => (b >>> 4 <= 9 && (b & 15) >= 10 ? 1 : 0));
const packedNegative = Uint8Array.from({ length: 256 }, (_, b) => ((b & 15) === 0x0b || (b & 15) === 0x0d ? 1 : 0));
const zonedSign = Uint8Array.from({ length: 256 }, (_, b) => {
  if ((b & 15) > 9) return 0;
  const zone = b >>> 4;
  if (zone === 0x0b || zone === 0x0d) return 2;
  return zone === 0x0a || zone === 0x0c || zone === 0x0e || zone === 0x0f ? 1 : 0;
});

/** A name that JS would order before the others in an object (an array index), so the literal's order changes. */
function isArrayIndex(name: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(name) && Number(name) < 2 ** 32 - 1;
}

/**
 * Compiles the writer for a layout, with the decoder's options, or returns undefined where it does
 * not apply (OCCURS DEPENDING ON, COMP-1/COMP-2, plan 'full', or keys whose object order would
 * differ from the copybook's: duplicates within a group, array-index names); then the caller keeps
 * JSON.stringify.
 */
export function createRecordJsonWriter(layout: Layout, options: RecordCodecOptions): RecordJsonWriter | undefined {
  if (layout.hasOccursDependingOn || options.plan === 'full') return undefined;
  const page = options.codePage;
  const trim = options.trim ?? 'pad';
  const roots = layout.roots;
  const keepRoot = options.root === 'keep' || roots.length > 1;
  const collapse = !keepRoot && roots[0]?.kind === 'group' ? roots[0] : undefined;
  const top = collapse !== undefined ? collapse.children : roots;
  const topOffset = collapse !== undefined ? collapse.offset : 0;

  let supported = true;
  const consts: unknown[] = [];
  const constant = (v: unknown): string => `k[${consts.push(v) - 1}]`;
  const functions: string[] = [];
  const notDigit = Uint8Array.from({ length: 256 }, (_, b) => (b - page.zero >= 0 && b - page.zero <= 9 ? 0 : 1));
  const at = (base: string, rel: number): string => (rel === 0 ? base : `${base} + ${rel}`);
  const codec = (f: LayoutField): FieldCodec => codecFor(f, page, trim);
  // Constant bytes (a key with its quotes and colon, punctuation) as unrolled stores.
  const bytesCode = (bytes: Uint8Array): string =>
    `${Array.from(bytes, (x, i) => `o[q${i === 0 ? '' : ` + ${i}`}] = ${x};`).join(' ')} q += ${bytes.length};`;

  // Statements writing field f's value read at s (a position expression) at o[q...], or returning
  // -1; and the most bytes the value can take.
  const fieldCode = (f: LayoutField, s: string): [string, number] => {
    const t = f.type;
    const viaCodec = (maxChars: number): [string, number] => [
      `q = WS(${constant(codec(f))}.decode(b, ${s}), o, q);`,
      maxChars * 6 + 2,
    ];
    switch (t.kind) {
      case 'text':
      case 'edited': {
        const size = t.length;
        if (!page.total || (t.kind === 'text' && t.justifiedRight)) return viaCodec(size);
        const lines = [`{ const s = ${s}; let e = s + ${size};`];
        // Only the right-hand space padding is dropped (JUSTIFIED RIGHT fields go to the codec).
        if (trim === 'pad') lines.push('while (e > s && b[e - 1] === SP) e--;');
        lines.push(
          'o[q++] = 34;',
          'for (let i = s; i < e; i++) { const c = J1[b[i]]; if (c !== 0) o[q++] = c; else q = JW(b[i], o, q); }',
          'o[q++] = 34; }',
        );
        return [lines.join('\n'), size * 6 + 2];
      }
      case 'zoned': {
        const n = t.digits;
        const bound = 2 * (n + Math.abs(t.scale)) + 8;
        if (t.blankWhenZero || page.family !== 'ebcdic') return viaCodec(bound);
        const first = t.signSeparate && t.signPosition === 'leading' ? 1 : 0;
        const signByte = t.signSeparate ? (t.signPosition === 'leading' ? 0 : n) : -1;
        const signAt = !t.signed ? n - 1 : t.signSeparate ? -1 : t.signPosition === 'leading' ? 0 : n - 1;
        const lines = [`{ const s = ${at(s, first)};`];
        const plainDigits = Array.from({ length: n }, (_, i) => i).filter((i) => i !== signAt);
        if (plainDigits.length > 0)
          lines.push(`if ((${plainDigits.map((i) => `ZD[b[${at('s', i)}]]`).join(' | ')}) !== 0) return -1;`);
        if (signAt >= 0) {
          lines.push(`const z = ZS[b[${at('s', signAt)}]];`);
          lines.push(t.signed ? 'if (z === 0) return -1;' : 'if (z !== 1) return -1;');
        }
        if (signByte >= 0) {
          lines.push(
            `const sb = b[${at(s, signByte)}];`,
            `if (sb !== ${page.minus} && sb !== ${page.plus}) return -1;`,
          );
        }
        const negative = signByte >= 0 ? `sb === ${page.minus}` : t.signed ? 'z === 2' : 'false';
        const fnz = Array.from({ length: n }, (_, i) => `(b[${at('s', i)}] & 15) !== 0 ? ${i} : `).join('') + String(n);
        const writers = constant(digitsWriters({ kind: 'zoned', table: ebcdicDigitChars }, n, t.scale));
        lines.push(`o[q++] = 34; q = ${writers}[(${negative} ? ${n + 1} : 0) + (${fnz})](b, s, o, q); o[q++] = 34; }`);
        return [lines.join('\n'), bound];
      }
      case 'packed': {
        const n = t.digits;
        const size = Math.floor(n / 2) + 1;
        const pad = size * 2 - 1 - n;
        const lines = [`{ const s = ${s};`];
        const checks = Array.from({ length: size - 1 }, (_, j) => `PD[b[${at('s', j)}]]`);
        checks.push(`PS[b[${at('s', size - 1)}]]`);
        lines.push(`if ((${checks.join(' & ')}) === 0) return -1;`);
        if (pad > 0) lines.push('if (b[s] > 15) return -1;');
        lines.push(`const neg = PN[b[${at('s', size - 1)}]] === 1;`);
        if (!t.signed) lines.push('if (neg) return -1;');
        const nibble = (k: number): string =>
          k & 1 ? `(b[${at('s', k >>> 1)}] & 15)` : `(b[${at('s', k >>> 1)}] >>> 4)`;
        const fnz = Array.from({ length: n }, (_, i) => `${nibble(pad + i)} !== 0 ? ${i} : `).join('') + String(n);
        const writers = constant(digitsWriters({ kind: 'packed', pad }, n, t.scale));
        lines.push(`o[q++] = 34; q = ${writers}[(neg ? ${n + 1} : 0) + (${fnz})](b, s, o, q); o[q++] = 34; }`);
        return [lines.join('\n'), 2 * (n + Math.abs(t.scale)) + 8];
      }
      case 'binary': {
        if (t.bytes === 8 || t.scale !== 0) return viaCodec(2 * (t.digits + Math.abs(t.scale)) + 32);
        const n = t.digits;
        const word =
          t.bytes === 2
            ? `(b[s] << 8) | b[s + 1]`
            : `((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0`;
        const lines = [`{ const s = ${s}; let w = ${word};`];
        if (t.signed)
          lines.push(t.bytes === 2 ? 'if (w & 0x8000) w -= 0x10000;' : 'if (w > 0x7fffffff) w -= 0x100000000;');
        if (!t.native) lines.push(`if (w >= ${10 ** Math.min(n, 9)} || w <= ${-(10 ** Math.min(n, 9))}) return -1;`);
        lines.push('o[q++] = 34; q = WI(w, o, q); o[q++] = 34; }');
        return [lines.join('\n'), 16];
      }
      case 'float':
        // The exact decimal of a hexadecimal float has no small bound: JSON.stringify writes it.
        supported = false;
        return ['return -1;', 0];
    }
  };

  // Statements writing node n (all its occurrences) read at s; and their most bytes.
  const nodeCode = (n: LayoutNode, s: string): [string, number] => {
    const occurs = n.occurs;
    const one = (base: string): [string, number] =>
      n.kind === 'field' ? fieldCode(n, base) : groupCode(n.children, n.offset, base);
    if (occurs === undefined) return one(s);
    const index = functions.push('') - 1;
    const [inner, bound] = one('p');
    functions[index] = `function e${index}(b, p, o, q) {\n${inner}\nreturn q;\n}`;
    return [
      [
        'o[q++] = 91;',
        `for (let i = 0; i < ${occurs.max}; i++) { if (i > 0) o[q++] = 44; q = e${index}(b, ${s} + i * ${n.size}, o, q); if (q < 0) return -1; }`,
        'o[q++] = 93;',
      ].join('\n'),
      2 + occurs.max * (bound + 1),
    ];
  };

  // A group as a JSON object: the copybook's keys in order, FILLER left out.
  const groupCode = (children: readonly LayoutNode[], groupOffset: number, s: string): [string, number] => {
    const named = children.filter((c) => !c.filler);
    const names = new Set(named.map((c) => c.name));
    if (names.size !== named.length || named.some((c) => isArrayIndex(c.name))) supported = false;
    const code: string[] = [];
    let bound = 2;
    named.forEach((c, i) => {
      const key = Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`, 'utf8');
      const [stmts, valueBound] = nodeCode(c, at(s, c.offset - groupOffset));
      code.push(bytesCode(key), stmts);
      bound += key.length + valueBound;
    });
    if (named.length === 0) code.push('o[q++] = 123;');
    code.push('o[q++] = 125;');
    return [code.join('\n'), bound];
  };

  const [body, bound] = groupCode(top, topOffset, 'p');
  if (!supported) return undefined;
  const source = [
    '"use strict";',
    'const { k, SP, J1, JW, WS, WI, ZD, ZS, PD, PS, PN } = h;',
    ...functions,
    `return function fastJson(b, p, o, q) {\n${body}\no[q++] = 10;\nreturn q;\n};`,
  ].join('\n');
  const text = jsonTextTable(page);
  const wide = (byte: number, o: Uint8Array, q: number): number => {
    const n = text.wideLength[byte] as number;
    const from = byte * 8;
    for (let i = 0; i < n; i++) o[q + i] = text.wide[from + i] as number;
    return q + n;
  };
  const fast = new Function('h', source)({
    k: consts,
    SP: page.space,
    J1: text.single,
    JW: wide,
    WS: writeJsonString,
    WI: writeInteger,
    ZD: notDigit,
    ZS: zonedSign,
    PD: packedDigits,
    PS: packedSign,
    PN: packedNegative,
  }) as (b: Uint8Array, p: number, o: Uint8Array, q: number) => number;
  const maxLineBytes = bound + 1;
  const size = layout.size;
  return Object.freeze({
    kind: 'record-json-writer' as const,
    maxLineBytes,
    write(buf: Uint8Array, start: number, end: number, out: Uint8Array, q: number): number {
      if (end - start < size) return -1;
      try {
        return fast(buf, start, out, q);
      } catch (err) {
        // A codec found a bad value: the decoder reports it.
        if (err instanceof CopybookError) return -1;
        throw err;
      }
    },
  });
}
