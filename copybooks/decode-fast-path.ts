import type { CodePage } from './code-page';
import type { LayoutField, LayoutNode } from './copybook-layout';
import { digitsBuilders } from './digit-string';
import type { FieldCodec } from './field-codec';
import { shortDecoder } from './text-transcoder';
import { ebcdicDigitChars } from './zoned-codec';

// The decoder's fast path for whole records without OCCURS DEPENDING ON: one generated function
// per layout that reads every field at its constant offset with straight-line code (digits
// checked through small byte tables, strings built by one String.fromCharCode call each) and
// returns the nested record as object literals. It assumes a valid record: when a field's bytes
// are not valid it returns undefined (or a codec it calls throws), and the caller runs the full
// plan, which tells REDEFINES views apart and reports every bad field. What it returns must be
// exactly what the full plan returns for the same bytes.

/** Returns the record decoded from b at p, or undefined when the full plan must decide. */
export type FastDecode = (b: Uint8Array, p: number) => Record<string, unknown> | undefined;

export interface DecodeFastPathOptions {
  readonly codePage: CodePage;
  readonly trim: 'pad' | 'none';
  readonly codecFor: (field: LayoutField) => FieldCodec;
  /** The top group's children and its start offset, as the full plan sees them. */
  readonly top: readonly LayoutNode[];
  readonly topOffset: number;
}

/** A key for generated object literals: JSON-quoted, and computed for "__proto__" so it stays an own property. */
export function literalKey(name: string): string {
  return name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
}

// Byte classes for packed decimal: both nibbles digits; a last byte with a digit and a sign
// nibble (A-F), split by whether the sign is negative (B, D).
const packedDigits = Uint8Array.from({ length: 256 }, (_, b) => (b >>> 4 <= 9 && (b & 15) <= 9 ? 1 : 0));
const packedSign = Uint8Array.from({ length: 256 }, (_, b) => (b >>> 4 <= 9 && (b & 15) >= 10 ? 1 : 0));
const packedNegative = Uint8Array.from({ length: 256 }, (_, b) => ((b & 15) === 0x0b || (b & 15) === 0x0d ? 1 : 0));
// EBCDIC zoned sign digit: 1 a digit under a positive zone (A, C, E, F), 2 under a negative one (B, D).
const zonedSign = Uint8Array.from({ length: 256 }, (_, b) => {
  if ((b & 15) > 9) return 0;
  const zone = b >>> 4;
  if (zone === 0x0b || zone === 0x0d) return 2;
  return zone === 0x0a || zone === 0x0c || zone === 0x0e || zone === 0x0f ? 1 : 0;
});

export function compileDecodeFastPath(options: DecodeFastPathOptions): FastDecode {
  const page = options.codePage;
  const consts: unknown[] = [];
  const constant = (v: unknown): string => `k[${consts.push(v) - 1}]`;
  const functions: string[] = [];
  // 1 for a byte that is not a zoned digit of this code page, 0 for one that is.
  const notDigit = Uint8Array.from({ length: 256 }, (_, b) => (b - page.zero >= 0 && b - page.zero <= 9 ? 0 : 1));
  const at = (base: string, rel: number): string => (rel === 0 ? base : `${base} + ${rel}`);

  // Statements that set `out` to field f's value read at s (a position expression), or return undefined.
  const fieldCode = (f: LayoutField, s: string, out: string): string => {
    const t = f.type;
    const viaCodec = (): string => `${out} = ${constant(options.codecFor(f))}.decode(b, ${s});`;
    switch (t.kind) {
      case 'text':
      case 'edited': {
        const size = t.length;
        if (!page.total || size > 64 || (t.kind === 'text' && t.justifiedRight)) return viaCodec();
        if (options.trim === 'none') return `${out} = ${constant(shortDecoder(size))}(T, b, ${s});`;
        // Only the right-hand space padding is dropped (JUSTIFIED RIGHT fields go to the codec).
        return [
          `{ const s = ${s}; let e = s + ${size}; while (e > s && b[e - 1] === SP) e--;`,
          `${out} = e === s ? '' : SD[e - s](T, b, s); }`,
        ].join('\n');
      }
      case 'zoned': {
        const n = t.digits;
        if (t.blankWhenZero || page.family !== 'ebcdic') return viaCodec();
        const first = t.signSeparate && t.signPosition === 'leading' ? 1 : 0;
        const signByte = t.signSeparate ? (t.signPosition === 'leading' ? 0 : n) : -1;
        // The digit whose zone carries the sign (the last one of an unsigned field may carry C or F).
        const signAt = !t.signed ? n - 1 : t.signSeparate ? -1 : t.signPosition === 'leading' ? 0 : n - 1;
        const lines = [`{ const s = ${at(s, first)};`];
        const plainDigits = Array.from({ length: n }, (_, i) => i).filter((i) => i !== signAt);
        if (plainDigits.length > 0)
          lines.push(`if ((${plainDigits.map((i) => `ZD[b[${at('s', i)}]]`).join(' | ')}) !== 0) return undefined;`);
        if (signAt >= 0) {
          lines.push(`const z = ZS[b[${at('s', signAt)}]];`);
          lines.push(t.signed ? 'if (z === 0) return undefined;' : 'if (z !== 1) return undefined;');
        }
        if (signByte >= 0) {
          lines.push(
            `const sb = b[${at(s, signByte)}];`,
            `if (sb !== ${page.minus} && sb !== ${page.plus}) return undefined;`,
          );
        }
        const negative = signByte >= 0 ? `sb === ${page.minus}` : t.signed ? 'z === 2' : 'false';
        // First significant digit, read through the low nibble (the sign digit's included).
        const fnz = Array.from({ length: n }, (_, i) => `(b[${at('s', i)}] & 15) !== 0 ? ${i} : `).join('') + String(n);
        const builders = constant(digitsBuilders({ kind: 'zoned', table: ebcdicDigitChars }, n, t.scale));
        lines.push(`${out} = ${builders}[(${negative} ? ${n + 1} : 0) + (${fnz})](b, s); }`);
        return lines.join('\n');
      }
      case 'packed': {
        const n = t.digits;
        const size = Math.floor(n / 2) + 1;
        const nibbles = size * 2 - 1;
        const pad = nibbles - n;
        const lines = [`{ const s = ${s};`];
        const checks = Array.from({ length: size - 1 }, (_, j) => `PD[b[${at('s', j)}]]`);
        checks.push(`PS[b[${at('s', size - 1)}]]`);
        lines.push(`if ((${checks.join(' & ')}) === 0) return undefined;`);
        if (pad > 0) lines.push('if (b[s] > 15) return undefined;');
        lines.push(`const neg = PN[b[${at('s', size - 1)}]] === 1;`);
        if (!t.signed) lines.push('if (neg) return undefined;');
        const nibble = (k: number): string =>
          k & 1 ? `(b[${at('s', k >>> 1)}] & 15)` : `(b[${at('s', k >>> 1)}] >>> 4)`;
        const fnz = Array.from({ length: n }, (_, i) => `${nibble(pad + i)} !== 0 ? ${i} : `).join('') + String(n);
        const builders = constant(digitsBuilders({ kind: 'packed', pad }, n, t.scale));
        lines.push(`${out} = ${builders}[(neg ? ${n + 1} : 0) + (${fnz})](b, s); }`);
        return lines.join('\n');
      }
      case 'binary': {
        if (t.bytes === 8 || t.scale !== 0) return viaCodec();
        const n = t.digits;
        const word =
          t.bytes === 2
            ? `(b[s] << 8) | b[s + 1]`
            : `((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0`;
        const lines = [`{ const s = ${s}; let w = ${word};`];
        if (t.signed)
          lines.push(t.bytes === 2 ? 'if (w & 0x8000) w -= 0x10000;' : 'if (w > 0x7fffffff) w -= 0x100000000;');
        // TRUNC(STD): no more than the picture's digits (COMP-5 takes the whole word).
        if (!t.native)
          lines.push(`if (w >= ${10 ** Math.min(n, 9)} || w <= ${-(10 ** Math.min(n, 9))}) return undefined;`);
        lines.push(`${out} = w < 0 ? '-' + String(-w) : String(w); }`);
        return lines.join('\n');
      }
      case 'float':
        return viaCodec();
    }
  };

  let vars = 0;
  // Statements computing node n (all its occurrences) at position expression s into a new
  // variable; returns [statements, variable].
  const nodeCode = (n: LayoutNode, s: string): [string, string] => {
    const v = `v${vars++}`;
    const occurs = n.occurs;
    if (occurs === undefined) {
      if (n.kind === 'field') return [`let ${v};\n${fieldCode(n, s, v)}`, v];
      const [code, expr] = groupCode(n.children, n.offset, s);
      return [`${code}\nconst ${v} = ${expr};`, v];
    }
    // An OCCURS item: one generated function per element, called for each at a constant stride.
    const index = functions.push('') - 1;
    let inner: string;
    if (n.kind === 'field') inner = `let x;\n${fieldCode(n, 'p', 'x')}\nreturn x;`;
    else {
      const [code, literal] = groupCode(n.children, n.offset, 'p');
      inner = `${code}\nreturn ${literal};`;
    }
    functions[index] = `function e${index}(b, p) {\n${inner}\n}`;
    return [
      [
        `const ${v} = new Array(${occurs.max});`,
        `for (let i = 0; i < ${occurs.max}; i++) { const x = e${index}(b, ${s} + i * ${n.size}); if (x === undefined) return undefined; ${v}[i] = x; }`,
      ].join('\n'),
      v,
    ];
  };

  // A group's statements and its object literal (the copybook's keys in order, FILLER left out).
  const groupCode = (children: readonly LayoutNode[], groupOffset: number, s: string): [string, string] => {
    const code: string[] = [];
    const entries: string[] = [];
    for (const c of children) {
      if (c.filler) continue;
      const [stmts, v] = nodeCode(c, at(s, c.offset - groupOffset));
      code.push(stmts);
      entries.push(`${literalKey(c.name)}: ${v}`);
    }
    return [code.join('\n'), `{${entries.join(', ')}}`];
  };

  const [body, literal] = groupCode(options.top, options.topOffset, 'p');
  const source = [
    '"use strict";',
    ...functions,
    `return function fastDecode(b, p) {\n${body}\nreturn ${literal};\n};`,
  ].join('\n');
  const sd = Array.from({ length: 65 }, (_, n) => (n === 0 ? undefined : shortDecoder(n)));
  const header = 'const { k, T, SP, SD, ZD, ZS, PD, PS, PN } = h;\n';
  return new Function('h', header + source)({
    k: consts,
    T: page.toUnicode,
    SP: page.space,
    SD: sd,
    ZD: notDigit,
    ZS: zonedSign,
    PD: packedDigits,
    PS: packedSign,
    PN: packedNegative,
  }) as FastDecode;
}
