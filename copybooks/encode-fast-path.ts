import type { CodePage } from './code-page';
import { CopybookError } from './copybook-errors';
import type { Layout, LayoutField, LayoutNode } from './copybook-layout';
import type { FieldCodec } from './field-codec';

// The encoder's fast path: one generated function per layout that writes a whole record with
// straight-line code (constant offsets, digits parsed straight into bytes, no per-field closures
// or intermediate strings). It handles the common shapes only and never reports: on anything
// unusual (a missing or mistyped value, a value that does not fit, an unknown key, views of a
// REDEFINES area that disagree) it returns false and the encoder runs its full plan on a clean
// buffer, which writes the record or throws the typed error. So the fast path may decline freely,
// but what it writes must be byte for byte what the full plan writes.

export interface FastEncode {
  /** Writes `record` into buf (already filled with spaces); false means "use the full plan". */
  readonly write: (record: unknown, buf: Uint8Array) => boolean;
  /** Bytes the top group's areas take, the record length under occurs: 'packed'. */
  readonly length: number;
}

export interface EncodeFastPathOptions {
  readonly codePage: CodePage;
  /** The top group's children and their start offset, as the full plan sees them. */
  readonly top: readonly LayoutNode[];
  readonly codecFor: (field: LayoutField) => FieldCodec;
  /** A FILLER's fixed bytes (its VALUE clause), or undefined to leave the space fill. */
  readonly fillerBytes: (node: LayoutNode) => Uint8Array | undefined;
}

/** A codec call for the shapes the generated code leaves to the codec; its errors mean "decline". */
function viaCodec(codec: FieldCodec, v: unknown, buf: Uint8Array, pos: number): boolean {
  if (v === undefined) return false;
  try {
    codec.encode(v, buf, pos);
    return true;
  } catch (err) {
    if (err instanceof CopybookError) return false;
    throw err;
  }
}

const asciiPositivePunch = [0x7b, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49];
const asciiNegativePunch = [0x7d, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52];

function isPlain(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameBytes(buf: Uint8Array, pos: number, saved: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[pos + i] !== saved[i]) return false;
  return true;
}

/**
 * Parses a plain decimal string into out[0, n): the n stored digits (values 0-9, right-aligned)
 * of a field with `scale` decimals (0 <= scale <= n), by the rules of unscaledFrom in
 * decimal-text.ts. Returns 1 for a negative value of a signed field (also "-0", which the full
 * plan keeps), 0 otherwise, and -1 for whatever the full plan would reject (not a string, too many
 * digits or decimals, a negative value for an unsigned field, anything but [+-]digits[.digits]).
 */
export function parseDigits(v: unknown, n: number, scale: number, signed: boolean, out: Uint8Array): number {
  if (typeof v !== 'string') return -1;
  const len = v.length;
  const c0 = v.charCodeAt(0);
  const negative = c0 === 45;
  const intStart = negative || c0 === 43 ? 1 : 0;
  const dot = v.indexOf('.', intStart);
  const intEnd = dot < 0 ? len : dot;
  if (intEnd === intStart) return -1;
  const intWidth = n - scale;
  let from = intStart;
  // Integer digits beyond the picture's width may only be leading zeros.
  for (; from < intEnd - intWidth; from++) if (v.charCodeAt(from) !== 48) return -1;
  let o = intWidth - (intEnd - from);
  for (let i = 0; i < o; i++) out[i] = 0;
  for (let j = from; j < intEnd; j++) {
    const d = v.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return -1;
    out[o++] = d;
  }
  if (dot >= 0) {
    const fracLen = len - dot - 1;
    if (fracLen === 0 || fracLen > scale) return -1;
    for (let j = dot + 1; j < len; j++) {
      const d = v.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return -1;
      out[o++] = d;
    }
  }
  while (o < n) out[o++] = 0;
  if (!negative) return 0;
  if (signed) return 1;
  // "-0" is zero and writes as such; any other negative value of an unsigned field is an error.
  for (let i = 0; i < n; i++) if (out[i] !== 0) return -1;
  return 0;
}

/**
 * Statements that parse the decimal string in `v` as the n stored digits of a field with `scale`
 * decimals and hand digit o (0 = most significant) to `put`, declaring `neg`. The value as the
 * decoder writes it (all `scale` decimals given, integer digits that fit) is read straight, each
 * character once, with constant positions where it can; anything else goes through parseDigits.
 * Either way `return false` follows whatever the full plan would reject.
 */
function digitsCode(
  v: string,
  n: number,
  scale: number,
  signed: boolean,
  put: (o: string, d: string) => string,
): string {
  const intWidth = n - scale;
  const ie = scale > 0 ? `L - ${scale + 1}` : 'L';
  const fits = [
    'ie > s0',
    `ie - s0 <= ${intWidth}`,
    ...(scale > 0 ? [`${v}.charCodeAt(ie) === 46`] : []),
    ...(signed ? [] : ['!neg']),
  ].join(' && ');
  return [
    `if (typeof ${v} !== 'string') return false;`,
    `const L = ${v}.length;`,
    `const c0 = ${v}.charCodeAt(0);`,
    'const s0 = c0 === 45 || c0 === 43 ? 1 : 0;',
    'let neg = c0 === 45;',
    `const ie = ${ie};`,
    `if (${fits}) {`,
    ...Array.from({ length: intWidth }, (_, o) => put(String(o), '0')),
    ...Array.from({ length: scale }, (_, i) => {
      const d = `d${i}`;
      return `const ${d} = ${v}.charCodeAt(L - ${scale - i}) - 48; if (${d} >>> 0 > 9) return false; ${put(String(intWidth + i), d)}`;
    }),
    `for (let j = ie - 1, q = ${intWidth - 1}; j >= s0; j--, q--) { const d = ${v}.charCodeAt(j) - 48; if (d >>> 0 > 9) return false; ${put('q', 'd')} }`,
    '} else {',
    `const g = digits(${v}, ${n}, ${scale}, ${signed}, D); if (g < 0) return false; neg = g === 1;`,
    `for (let o = 0; o < ${n}; o++) { const d = D[o]; ${put('o', 'd')} }`,
    '}',
  ].join('\n');
}

/** Compiles the fast path, or returns undefined for layouts it does not cover (OCCURS DEPENDING ON). */
export function compileEncodeFastPath(layout: Layout, options: EncodeFastPathOptions): FastEncode | undefined {
  if (layout.hasOccursDependingOn) return undefined;
  const page = options.codePage;
  const ebcdic = page.family === 'ebcdic';
  const consts: unknown[] = [];
  const constant = (v: unknown): string => `k[${consts.push(v) - 1}]`;
  const functions: string[] = [];
  // Tables and scratch as locals of each generated function: TurboFan checks them once per call
  // instead of at every access through the closure.
  const locals = 'const { k, FU, SP, D, NP, PP } = h;';
  const at = (rel: number): string => (rel === 0 ? 'p' : `p + ${rel}`);

  // Statements that write field f's value `v` at position `p` + rel, or `return false`.
  const fieldCode = (f: LayoutField, v: string, rel: number, shared: boolean): string => {
    const t = f.type;
    const viaCodecCode = (): string => `if (!via(${constant(options.codecFor(f))}, ${v}, b, ${at(rel)})) return false;`;
    switch (t.kind) {
      case 'text':
      case 'edited': {
        const size = t.length;
        const alphabetic = t.kind === 'text' && t.alphabetic;
        if (alphabetic) return viaCodecCode();
        const right = t.kind === 'text' && t.justifiedRight;
        const start = right ? `${at(rel)} + ${size} - n` : at(rel);
        const padFrom = right ? at(rel) : `${at(rel)} + n`;
        return [
          `if (typeof ${v} !== 'string') return false;`,
          `{ const n = ${v}.length; if (n > ${size}) return false;`,
          `const s = ${start};`,
          `for (let i = 0; i < n; i++) { const c = FU[${v}.charCodeAt(i)]; if (c < 0) return false; b[s + i] = c; }`,
          // The record starts as spaces; only in a REDEFINES area may another view have written here.
          shared ? `const f = ${padFrom}; for (let i = 0; i < ${size} - n; i++) b[f + i] = SP; }` : '}',
        ].join('\n');
      }
      case 'zoned': {
        const n = t.digits;
        if (t.blankWhenZero || t.scale < 0 || t.scale > n) return viaCodecCode();
        const first = rel + (t.signSeparate && t.signPosition === 'leading' ? 1 : 0);
        const lines = [digitsCode(v, n, t.scale, t.signed, (o, d) => `b[${at(first)} + ${o}] = ${page.zero} + ${d};`)];
        if (t.signed && !t.signSeparate) {
          const pos = at(first + (t.signPosition === 'leading' ? 0 : n - 1));
          lines.push(
            ebcdic
              ? `b[${pos}] = (neg ? 0xd0 : 0xc0) | (b[${pos}] & 0x0f);`
              : `b[${pos}] = (neg ? NP : PP)[b[${pos}] - ${page.zero}];`,
          );
        }
        if (t.signSeparate) {
          const pos = at(rel + (t.signPosition === 'leading' ? 0 : n));
          lines.push(`b[${pos}] = neg ? ${page.minus} : ${page.plus};`);
        }
        return `{\n${lines.join('\n')}\n}`;
      }
      case 'packed': {
        const n = t.digits;
        if (t.scale < 0 || t.scale > n) return viaCodecCode();
        const size = Math.floor(n / 2) + 1;
        const pad = size * 2 - 1 - n;
        const nib = (k: number): string => (k < pad ? '0' : `D[${k - pad}]`);
        const lines = [digitsCode(v, n, t.scale, t.signed, (o, d) => `D[${o}] = ${d};`)];
        for (let j = 0; j < size - 1; j++) lines.push(`b[${at(rel + j)}] = (${nib(2 * j)} << 4) | ${nib(2 * j + 1)};`);
        const sign = t.signed ? '(neg ? 0x0d : 0x0c)' : '0x0f';
        lines.push(`b[${at(rel + size - 1)}] = (${nib(2 * size - 2)} << 4) | ${sign};`);
        return `{\n${lines.join('\n')}\n}`;
      }
      case 'binary': {
        const n = t.digits;
        // Halfwords and fullwords under TRUNC(STD): at most 9 digits, exact as a JS integer (this
        // builds a bit pattern, it computes no amount). COMP-5 and doublewords go to the codec.
        if (t.native || t.bytes === 8 || n > 9 || t.scale < 0 || t.scale > n) return viaCodecCode();
        const bits = t.bytes * 8;
        const lo = t.signed ? -(2 ** (bits - 1)) : 0;
        const hi = t.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        const lines = [digitsCode(v, n, t.scale, t.signed, (o, d) => `D[${o}] = ${d};`)];
        lines.push(`let w = ${Array.from({ length: n }, (_, i) => `D[${i}] * ${10 ** (n - 1 - i)}`).join(' + ')};`);
        lines.push(`if (neg) w = -w;`, `if (w < ${lo} || w > ${hi}) return false;`);
        lines.push(`if (w < 0) w += ${2 ** bits};`);
        for (let i = t.bytes - 1; i >= 0; i--) {
          lines.push(`b[${at(rel + i)}] = w & 0xff;`);
          if (i > 0) lines.push('w = Math.floor(w / 256);');
        }
        return `{\n${lines.join('\n')}\n}`;
      }
      case 'float':
        return viaCodecCode();
    }
  };

  // A function writing node n's value (one occurrence) at p; returns its name.
  const nodeFunction = (n: LayoutNode, shared: boolean): string => {
    const index = functions.push('') - 1;
    const body = n.kind === 'field' ? fieldCode(n, 'v', 0, shared) : groupCode(n.children, 'v', shared);
    functions[index] = `function w${index}(v, b, p) {\n${locals}\n${body}\nreturn true;\n}`;
    return `w${index}`;
  };

  // Statements writing item c (all its occurrences) from value expression v at p + rel.
  const itemCode = (c: LayoutNode, v: string, rel: number, shared: boolean): string => {
    const occurs = c.occurs;
    if (occurs === undefined) {
      if (c.kind === 'field') return `if (${v} === undefined) return false;\n${fieldCode(c, v, rel, shared)}`;
      return `if (!${nodeFunction(c, shared)}(${v}, b, ${at(rel)})) return false;`;
    }
    const fn = nodeFunction(c, shared);
    return [
      `if (!Array.isArray(${v}) || ${v}.length !== ${occurs.max}) return false;`,
      `for (let i = 0; i < ${occurs.max}; i++) if (${v}[i] === undefined || !${fn}(${v}[i], b, ${at(rel)} + i * ${c.size})) return false;`,
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

  // A group's body: values read with literal property loads, keys checked as the full plan does
  // (Object.keys count equal to the values given), then each area written in order.
  const groupCode = (
    children: readonly LayoutNode[],
    obj: string,
    shared: boolean,
    onEnd?: (end: number) => void,
  ): string => {
    const areas: LayoutNode[][] = [];
    for (const c of children) {
      const last = areas[areas.length - 1];
      if (c.redefines !== undefined && last !== undefined) last.push(c);
      else areas.push([c]);
    }
    const named = children.filter((c) => !c.filler);
    const vars = new Map<LayoutNode, string>();
    named.forEach((c, i) => vars.set(c, `v${i}`));
    const lines = [`if (!isPlain(${obj})) return false;`];
    for (const c of named) {
      const read = c.name === '__proto__' ? `own(${obj}, "__proto__")` : `${obj}[${JSON.stringify(c.name)}]`;
      lines.push(`const ${vars.get(c) ?? ''} = ${read};`);
    }
    if (named.length > 0) {
      lines.push(
        `if (Object.keys(${obj}).length !== ${named.map((c) => `(${vars.get(c) ?? ''} !== undefined ? 1 : 0)`).join(' + ')}) return false;`,
      );
    } else {
      lines.push(`if (Object.keys(${obj}).length !== 0) return false;`);
    }
    let rel = 0;
    for (const nodes of areas) {
      const areaSize = Math.max(...nodes.map((c) => c.size * (c.occurs?.max ?? 1)));
      const views = nodes.filter((c) => !c.filler);
      if (nodes.length === 1 || views.length === 0) {
        for (const c of nodes)
          lines.push(
            c.filler ? fillerCode(c, rel, nodes.length === 1 && !shared) : itemCode(c, vars.get(c) ?? '', rel, shared),
          );
      } else {
        // Views of a REDEFINES area: the given ones in order; with more than one, each must give
        // back the same bytes when written again (else the full plan reports REDEFINES_CONFLICT).
        // Each area has its own copy buffer: a view may itself hold an area with views.
        const saved = constant(new Uint8Array(areaSize));
        const given = views.map((c) => `(${vars.get(c) ?? ''} !== undefined ? 1 : 0)`).join(' + ');
        lines.push(`{ const given = ${given}; if (given === 0) return false;`);
        const writeAll = views.map((c) => {
          const v = vars.get(c) ?? '';
          return `if (${v} !== undefined) { ${itemCode(c, v, rel, true)} }`;
        });
        lines.push(...writeAll);
        lines.push(`if (given > 1) { for (let i = 0; i < ${areaSize}; i++) ${saved}[i] = b[${at(rel)} + i];`);
        // Writing a view sets the same bytes whatever was there, so the view written last needs no
        // second pass; each earlier one must leave the area as the last left it.
        for (const c of views.slice(0, -1)) {
          const v = vars.get(c) ?? '';
          lines.push(
            `if (${v} !== undefined) { ${itemCode(c, v, rel, true)}\nif (!same(b, ${at(rel)}, ${saved}, ${areaSize})) return false; }`,
          );
        }
        lines.push('} }');
      }
      rel += areaSize;
    }
    onEnd?.(rel);
    return lines.join('\n');
  };

  let length = 0;
  const body = groupCode(options.top, 'r', false, (end) => (length = end));
  const source = [
    '"use strict";',
    'const { digits, via, isPlain, same, own } = h;',
    ...functions,
    `return function fastEncode(r, b) {\nconst p = 0;\n${locals}\n${body}\nreturn true;\n};`,
  ].join('\n');
  const helpers = {
    k: consts,
    FU: page.fromUnicode,
    SP: page.space,
    D: new Uint8Array(64),
    NP: Uint8Array.from(asciiNegativePunch),
    PP: Uint8Array.from(asciiPositivePunch),
    digits: parseDigits,
    via: viaCodec,
    isPlain,
    same: sameBytes,
    own: (o: Record<string, unknown>, key: string): unknown =>
      Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined,
  };
  const write = new Function('h', source)(helpers) as FastEncode['write'];
  return { write, length };
}
