import type { CodePage } from './code-page';
import { CopybookError } from './copybook-errors';
import type { Layout, LayoutField, LayoutNode } from './copybook-layout';
import type { FieldCodec } from './field-codec';

// `copybook encode` from the JSON line's bytes: one generated function per layout parses the line
// in the shape `copybook decode` prints (the copybook's keys in order, no spaces, values as
// strings) and writes each field as it reads it, so no JS strings or objects are made for a
// record. It is the byte-reading twin of encode-fast-path.ts: the same writes, the same checks;
// on anything else (another key order, a missing view, whitespace, an escape, a number value, a
// value that does not fit) it declines and the line goes through JSON.parse and the encoder, which
// writes the same bytes or throws the same typed error as before. So it may decline freely, but
// what it writes must be byte for byte what encoder.encode(JSON.parse(line)) writes.

/**
 * Writes the record of the JSON line L[i, e) (V: a DataView of L's bytes) into buf (filled with
 * spaces); false: use JSON.parse. The scans of a value do not compare every position with e: an
 * unterminated value runs on into the bytes after the line (or past the buffer, where a read gives
 * undefined: neither a digit nor a character, so the scan stops), and every check after a value
 * (key, comma, brace) is bounded by e, so such a line is always declined, never written.
 */
export type FastLine = (L: Uint8Array, V: DataView, i: number, e: number, buf: Uint8Array) => boolean;

export interface JsonLineEncoderOptions {
  readonly codePage: CodePage;
  /** The top group's children, as the encoder sees them (a single 01 group collapsed). */
  readonly top: readonly LayoutNode[];
  readonly codecFor: (field: LayoutField) => FieldCodec;
  /** A FILLER's fixed bytes (its VALUE clause), or undefined to leave the space fill. */
  readonly fillerBytes: (node: LayoutNode) => Uint8Array | undefined;
}

const asciiPositivePunch = [0x7b, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49];
const asciiNegativePunch = [0x7d, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52];

/** A codec call on the value's text (no escapes in it: the generated code checked); an error means "decline". */
function viaCodec(codec: FieldCodec, L: Uint8Array, vs: number, ve: number, buf: Uint8Array, pos: number): boolean {
  const text = Buffer.from(L.buffer, L.byteOffset, L.byteLength).toString('utf8', vs, ve);
  try {
    codec.encode(text, buf, pos);
    return true;
  } catch (err) {
    if (err instanceof CopybookError) return false;
    throw err;
  }
}

function sameBytes(buf: Uint8Array, pos: number, saved: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[pos + i] !== saved[i]) return false;
  return true;
}

/**
 * Statements reading the decimal string value at L[i] (its opening quote) as the n stored digits
 * of a field with `scale` decimals, in one pass: the sign, the integer digits, the point and
 * exactly `scale` decimals, the closing quote; i is left past that quote. Digit o (0 = most
 * significant) goes to `put`, and `neg` is declared. Only the form the decoder prints (every
 * decimal given, integer digits that fit; leading zeros beyond the width allowed, as parseDigits
 * allows them: "0.0725000" for SV9(7)) is read, as digitsCode in encode-fast-path.ts reads it; any
 * other form returns -1 (JSON.parse and the encoder decide). A byte is a digit when `c ^ 48` is
 * at most 9, which also turns a read past the buffer (undefined) into a non-digit.
 */
function numberCode(n: number, scale: number, signed: boolean, put: (o: string, d: string) => string): string {
  const intWidth = n - scale;
  const fits = ['ie > s0', `ie - s1 <= ${intWidth}`, ...(signed ? [] : ['!neg'])].join(' && ');
  const decimals = Array.from(
    { length: scale },
    (_, k) => `const d${k} = L[ie + ${k + 1}] ^ 48; if (d${k} > 9) return -1;`,
  );
  return [
    'if (L[i] !== 34) return -1;',
    'let s0 = i + 1;',
    'const c0 = L[s0];',
    'const neg = c0 === 45;',
    'if (neg || c0 === 43) s0++;',
    'let ie = s0; while ((L[ie] ^ 48) <= 9) ie++;',
    // Integer digits beyond the picture's width may only be leading zeros.
    `let s1 = s0; while (ie - s1 > ${intWidth} && L[s1] === 48) s1++;`,
    `if (!(${fits})) return -1;`,
    ...(scale > 0 ? ['if (L[ie] !== 46) return -1;', ...decimals] : []),
    `if (L[ie + ${scale > 0 ? scale + 1 : 0}] !== 34) return -1;`,
    `i = ie + ${scale > 0 ? scale + 2 : 1};`,
    ...Array.from({ length: scale }, (_, k) => put(String(intWidth + k), `d${k}`)),
    // The integer digits: zeros up to the first digit given, then the digits, each written once.
    `const z = ${intWidth} - (ie - s1);`,
    `for (let q = 0; q < z; q++) { ${put('q', '0')} }`,
    `for (let j = s1, q = z; j < ie; j++, q++) { ${put('q', '(L[j] ^ 48)')} }`,
  ].join('\n');
}

/** Statements finding the string value at L[i]: its text at L[vs, ve), i past the closing quote. */
const STRING_SPAN = [
  'if (L[i] !== 34) return -1;',
  'const vs = i + 1; let ve = vs;',
  'while (ve < e && L[ve] !== 34) { if (L[ve] === 92 || L[ve] < 32) return -1; ve++; }',
  'if (ve >= e) return -1;',
  'i = ve + 1;',
].join('\n');

/** Compiles the line encoder's fast path, or returns undefined for layouts it does not cover (OCCURS DEPENDING ON). */
export function compileJsonLineFastPath(layout: Layout, options: JsonLineEncoderOptions): FastLine | undefined {
  if (layout.hasOccursDependingOn) return undefined;
  const page = options.codePage;
  const ebcdic = page.family === 'ebcdic';
  const consts: unknown[] = [];
  const constant = (v: unknown): string => `k[${consts.push(v) - 1}]`;
  const functions: string[] = [];
  let inlined = 0;
  // Tables and scratch as locals of each generated function (only those it uses): TurboFan checks
  // them once per call instead of at every access through the closure.
  const localsFor = (body: string): string => {
    const used = ['k', 'A', 'FU', 'SP', 'D', 'NP', 'PP'].filter((name) => new RegExp(`\\b${name}\\b`).test(body));
    return used.length === 0 ? '' : `const { ${used.join(', ')} } = h;`;
  };
  const at = (rel: number): string => (rel === 0 ? 'p' : `p + ${rel}`);
  // Whether L[i...] holds these constant bytes (a key with its quotes and colon, punctuation):
  // four at a time through the line's DataView V (little-endian words), the rest one by one.
  const sameAs = (bytes: Uint8Array): string => {
    const tests = [`i + ${bytes.length} <= e`];
    let j = 0;
    const off = (x: number): string => (x === 0 ? 'i' : `i + ${x}`);
    for (; j + 4 <= bytes.length; j += 4) {
      const word =
        ((bytes[j + 3] ?? 0) * 2 ** 24 + ((bytes[j + 2] ?? 0) << 16) + ((bytes[j + 1] ?? 0) << 8) + (bytes[j] ?? 0)) >>>
        0;
      tests.push(`V.getUint32(${off(j)}, true) === ${word}`);
    }
    for (; j < bytes.length; j++) tests.push(`L[${off(j)}] === ${bytes[j] ?? 0}`);
    return `(${tests.join(' && ')})`;
  };
  // Constant bytes expected at L[i...], or return -1.
  const expect = (bytes: Uint8Array): string => `if (!${sameAs(bytes)}) return -1;\ni += ${bytes.length};`;

  // Statements that read field f's value at L[i] and write it at p, advancing i, or `return -1`.
  const fieldCode = (f: LayoutField, shared: boolean): string => {
    const t = f.type;
    const viaCodecCode = (): string =>
      `${STRING_SPAN}\nif (!via(${constant(options.codecFor(f))}, L, vs, ve, b, p)) return -1;`;
    switch (t.kind) {
      case 'text':
      case 'edited': {
        const size = t.length;
        if ((t.kind === 'text' && (t.alphabetic || t.justifiedRight)) || size === 0) return viaCodecCode();
        // UTF-8 decoded as it is read (2 and 3 bytes; a 4-byte character is a surrogate pair no
        // code page has), each character through the code page's table, at most `size` of them.
        return [
          'if (L[i] !== 34) return -1;',
          'i++;',
          'let n = 0;',
          'for (;;) {',
          // Printable ASCII the code page has, in one lookup; the rest below. No test of i
          // against e (see FastLine): past the buffer, c is undefined and the value declines.
          '  let c = L[i];',
          '  let x = A[c];',
          '  if (x >= 0) i++;',
          '  else {',
          '    if (c === 34) break;',
          '    if (!(c >= 0x80)) return -1;',
          '    if (c >= 0xc2 && c <= 0xdf) { const c1 = L[i + 1]; if (i + 1 >= e || (c1 & 0xc0) !== 0x80) return -1; c = ((c & 0x1f) << 6) | (c1 & 0x3f); i += 2; }',
          '    else if (c >= 0xe0 && c <= 0xef) {',
          '      const c1 = L[i + 1]; const c2 = L[i + 2];',
          '      if (i + 2 >= e || (c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) return -1;',
          '      c = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);',
          // Overlong forms and surrogates are not characters JSON.parse would read from UTF-8.
          '      if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) return -1;',
          '      i += 3;',
          '    } else return -1;',
          '    x = FU[c]; if (x < 0) return -1;',
          '  }',
          `  if (n === ${size}) return -1;`,
          '  b[p + n] = x; n++;',
          '}',
          'i++;',
          // The record starts as spaces; only in a REDEFINES area may another view have written here.
          shared ? `for (let j = n; j < ${size}; j++) b[p + j] = SP;` : '',
        ].join('\n');
      }
      case 'zoned': {
        const n = t.digits;
        if (t.blankWhenZero || t.scale < 0 || t.scale > n) return viaCodecCode();
        const first = t.signSeparate && t.signPosition === 'leading' ? 1 : 0;
        const lines = [numberCode(n, t.scale, t.signed, (o, d) => `b[${at(first)} + ${o}] = ${page.zero} + ${d};`)];
        if (t.signed && !t.signSeparate) {
          const pos = at(first + (t.signPosition === 'leading' ? 0 : n - 1));
          lines.push(
            ebcdic
              ? `b[${pos}] = (neg ? 0xd0 : 0xc0) | (b[${pos}] & 0x0f);`
              : `b[${pos}] = (neg ? NP : PP)[b[${pos}] - ${page.zero}];`,
          );
        }
        if (t.signSeparate) {
          const pos = at(t.signPosition === 'leading' ? 0 : n);
          lines.push(`b[${pos}] = neg ? ${page.minus} : ${page.plus};`);
        }
        return lines.join('\n');
      }
      case 'packed': {
        const n = t.digits;
        if (t.scale < 0 || t.scale > n) return viaCodecCode();
        const size = Math.floor(n / 2) + 1;
        const pad = size * 2 - 1 - n;
        const nib = (k: number): string => (k < pad ? '0' : `D[${k - pad}]`);
        const lines = [numberCode(n, t.scale, t.signed, (o, d) => `D[${o}] = ${d};`)];
        for (let j = 0; j < size - 1; j++) lines.push(`b[${at(j)}] = (${nib(2 * j)} << 4) | ${nib(2 * j + 1)};`);
        const sign = t.signed ? '(neg ? 0x0d : 0x0c)' : '0x0f';
        lines.push(`b[${at(size - 1)}] = (${nib(2 * size - 2)} << 4) | ${sign};`);
        return lines.join('\n');
      }
      case 'binary': {
        const n = t.digits;
        if (t.native || t.bytes === 8 || n > 9 || t.scale < 0 || t.scale > n) return viaCodecCode();
        const bits = t.bytes * 8;
        const lo = t.signed ? -(2 ** (bits - 1)) : 0;
        const hi = t.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        const lines = [numberCode(n, t.scale, t.signed, (o, d) => `D[${o}] = ${d};`)];
        lines.push(`let w = ${Array.from({ length: n }, (_, i) => `D[${i}] * ${10 ** (n - 1 - i)}`).join(' + ')};`);
        lines.push(`if (neg) w = -w;`, `if (w < ${lo} || w > ${hi}) return -1;`);
        lines.push(`if (w < 0) w += ${2 ** bits};`);
        for (let i = t.bytes - 1; i >= 0; i--) {
          lines.push(`b[${at(i)}] = w & 0xff;`);
          if (i > 0) lines.push('w = Math.floor(w / 256);');
        }
        return lines.join('\n');
      }
      case 'float':
        return viaCodecCode();
    }
  };

  // A function reading node n's value (one occurrence) at L[i] and writing it at p; returns its name.
  const nodeFunction = (n: LayoutNode, shared: boolean): string => {
    const index = functions.push('') - 1;
    const body = n.kind === 'field' ? fieldCode(n, shared) : groupCode(n.children, shared);
    functions[index] = `function r${index}(L, V, i, e, b, p) {\n${localsFor(body)}\n${body}\nreturn i;\n}`;
    return `r${index}`;
  };

  // Statements reading item c (all its occurrences) at L[i], written at p + rel.
  const itemCode = (c: LayoutNode, rel: number, shared: boolean): string => {
    const occurs = c.occurs;
    if (occurs === undefined && c.kind === 'field') {
      // A field written once: its statements inline, in a block with its own p (no call per field).
      const q = `q${inlined++}`;
      return `{ const ${q} = ${at(rel)}; { const p = ${q};\n${fieldCode(c, shared)}\n} }`;
    }
    const fn = nodeFunction(c, shared);
    if (occurs === undefined) return `i = ${fn}(L, V, i, e, b, ${at(rel)}); if (i < 0) return -1;`;
    return [
      'if (L[i] !== 91) return -1;',
      'i++;',
      `for (let x = 0; x < ${occurs.max}; x++) {`,
      '  if (x > 0) { if (L[i] !== 44) return -1; i++; }',
      `  i = ${fn}(L, V, i, e, b, ${at(rel)} + x * ${c.size}); if (i < 0) return -1;`,
      '}',
      'if (L[i] !== 93) return -1;',
      'i++;',
    ].join('\n');
  };

  const fillerCode = (c: LayoutNode, rel: number, alone: boolean): string => {
    const fixed = options.fillerBytes(c);
    if (fixed === undefined) return '';
    // VALUE SPACES alone in its area and outside any REDEFINES area: the record starts as spaces.
    if (alone && fixed.every((x) => x === page.space)) return '';
    const k = constant(fixed);
    return Array.from({ length: c.occurs?.max ?? 1 }, (_, i) => `b.set(${k}, ${at(rel + i * c.size)});`).join('\n');
  };

  // A group's body: `{`, each named child's key and value in the copybook's order, `}`. Every
  // key must be there, except that a REDEFINES area may give any of its views (at least one), as
  // the decoder prints only the views whose bytes are valid for them.
  const groupCode = (children: readonly LayoutNode[], shared: boolean): string => {
    const areas: LayoutNode[][] = [];
    for (const c of children) {
      const last = areas[areas.length - 1];
      if (c.redefines !== undefined && last !== undefined) last.push(c);
      else areas.push([c]);
    }
    const named = children.filter((c) => !c.filler);
    if (named.length === 0) {
      const fills: string[] = [];
      let at0 = 0;
      for (const nodes of areas) {
        for (const c of nodes) fills.push(fillerCode(c, at0, nodes.length === 1 && !shared));
        at0 += Math.max(...nodes.map((c) => c.size * (c.occurs?.max ?? 1)));
      }
      return [...fills, expect(Buffer.from('{}'))].join('\n');
    }
    const lines = [expect(Buffer.from('{'))];
    // Whether a comma goes before the next key: known when generating, except inside the first
    // area when that is a REDEFINES area (then only if one of its views came before).
    let started = false;
    const keyBytes = (c: LayoutNode, comma: boolean): Buffer =>
      Buffer.from(`${comma ? ',' : ''}${JSON.stringify(c.name)}:`, 'utf8');
    const matches = sameAs;
    let rel = 0;
    for (const nodes of areas) {
      const areaSize = Math.max(...nodes.map((c) => c.size * (c.occurs?.max ?? 1)));
      const views = nodes.filter((c) => !c.filler);
      if (nodes.length === 1 || views.length === 0) {
        for (const c of nodes) {
          if (c.filler) lines.push(fillerCode(c, rel, nodes.length === 1 && !shared));
          else {
            lines.push(`${expect(keyBytes(c, started))}\n${itemCode(c, rel, shared)}`);
            started = true;
          }
        }
      } else {
        // The views given, in order: each written; then, with more than one, each but the last
        // written again from the same text, which must leave the bytes the last one left (else
        // the encoder reports REDEFINES_CONFLICT), as encode-fast-path.ts does.
        const saved = constant(new Uint8Array(areaSize));
        const g = `g${rel}`;
        const starts = views.map((_, j) => `a${rel}_${j}`);
        lines.push(`let ${g} = 0;`);
        views.forEach((c, j) => {
          const key = started
            ? matches(keyBytes(c, true))
            : `(${g} > 0 ? ${matches(keyBytes(c, true))} : ${matches(keyBytes(c, false))})`;
          const len = started
            ? keyBytes(c, true).length
            : `(${g} > 0 ? ${keyBytes(c, true).length} : ${keyBytes(c, false).length})`;
          lines.push(
            `let ${starts[j] ?? ''} = -1;`,
            `if (${key}) { i += ${len}; ${starts[j] ?? ''} = i; ${g}++;\n${itemCode(c, rel, true)} }`,
          );
        });
        lines.push(`if (${g} === 0) return -1;`);
        lines.push(
          `if (${g} > 1) { const sv = ${saved}; for (let x = 0; x < ${areaSize}; x++) sv[x] = b[${at(rel)} + x];`,
        );
        views
          .slice(0, -1)
          .forEach((c, j) =>
            lines.push(
              `if (${starts[j] ?? ''} >= 0) { let i = ${starts[j] ?? ''};\n${itemCode(c, rel, true)}\nif (!same(b, ${at(rel)}, sv, ${areaSize})) return -1; }`,
            ),
          );
        lines.push('}');
        started = true;
      }
      rel += areaSize;
    }
    lines.push(expect(Buffer.from('}')));
    return lines.join('\n');
  };

  const body = groupCode(options.top, false);
  const source = [
    '"use strict";',
    'const { via, same } = h;',
    ...functions,
    'function top(L, V, i, e, b, p) {',
    localsFor(body),
    body,
    'return i;',
    '}',
    // JSON.parse allows whitespace after the value; the line has no line break left in it.
    'return function fastLine(L, V, i, e, b) { i = top(L, V, i, e, b, 0); if (i < 0) return false; while (i < e && (L[i] === 32 || L[i] === 9)) i++; return i === e; };',
  ].join('\n');
  const helpers = {
    k: consts,
    A: Int16Array.from({ length: 256 }, (_, c) =>
      c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c ? (page.fromUnicode[c] as number) : -1,
    ),
    FU: page.fromUnicode,
    SP: page.space,
    D: new Uint8Array(64),
    NP: Uint8Array.from(asciiNegativePunch),
    PP: Uint8Array.from(asciiPositivePunch),
    via: viaCodec,
    same: sameBytes,
  };
  return new Function('h', source)(helpers) as FastLine;
}
