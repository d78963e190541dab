// Builds a decimal string straight from a field's bytes: `table` maps each byte to its digit
// character, so no intermediate digit buffer is filled and copied. The string for one shape
// (sign, integer digits, decimals) comes from one generated String.fromCharCode call of fixed
// arity, created on first use and shared by every field of that shape.

type ShapeBuilder = (t: Uint16Array, b: Uint8Array, p: number) => string;

const shapes: ShapeBuilder[][][] = [[], []];

function shape(negative: boolean, intDigits: number, decimals: number): ShapeBuilder {
  const bySign = shapes[negative ? 1 : 0] as ShapeBuilder[][];
  let byInt = bySign[intDigits];
  if (byInt === undefined) {
    byInt = [];
    bySign[intDigits] = byInt;
  }
  let f = byInt[decimals];
  if (f === undefined) {
    const codes: string[] = negative ? ['45'] : [];
    for (let i = 0; i < intDigits; i++) codes.push(`t[b[p + ${i}]]`);
    if (decimals > 0) {
      codes.push('46');
      for (let i = 0; i < decimals; i++) codes.push(`t[b[p + ${intDigits + i}]]`);
    }
    f = new Function('t', 'b', 'p', `return String.fromCharCode(${codes.join(', ')});`) as ShapeBuilder;
    byInt[decimals] = f;
  }
  return f;
}

const LIMIT = 40;

/**
 * The value of the n digits at buf[base, base+n) as a decimal string with `scale` decimals.
 * `firstNonZero` is the index (0-based, within the n digits) of the first non-zero digit, or -1.
 */
export function decimalFromDigits(
  table: Uint16Array,
  buf: Uint8Array,
  base: number,
  n: number,
  firstNonZero: number,
  scale: number,
  negative: boolean,
): string {
  if (scale <= 0) {
    if (firstNonZero < 0) return negative ? '-0' : '0';
    const len = n - firstNonZero;
    const s =
      len <= LIMIT
        ? shape(negative, len, 0)(table, buf, base + firstNonZero)
        : slowDigits(negative, table, buf, base + firstNonZero, len);
    return scale === 0 ? s : s + '0'.repeat(-scale);
  }
  if (scale >= n) {
    const frac = shape(false, n, 0)(table, buf, base);
    return `${negative ? '-' : ''}0.${'0'.repeat(scale - n)}${frac}`;
  }
  const intLen = n - scale;
  const start = firstNonZero >= 0 && firstNonZero < intLen ? firstNonZero : intLen - 1;
  const a = intLen - start;
  if (a + scale <= LIMIT) return shape(negative, a, scale)(table, buf, base + start);
  const all = slowDigits(false, table, buf, base + start, a + scale);
  return `${negative ? '-' : ''}${all.slice(0, a)}.${all.slice(a)}`;
}

function slowDigits(negative: boolean, table: Uint16Array, buf: Uint8Array, p: number, len: number): string {
  let s = negative ? '-' : '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(table[buf[p + i] as number] as number);
  return s;
}

// Packed decimal: digit k of the field sits in the high nibble of byte k/2 when k is even, in the
// low nibble when odd (counting from the first digit nibble, `first`).
const highChars = Uint16Array.from({ length: 256 }, (_, b) => 0x30 + (b >>> 4));
const lowChars = Uint16Array.from({ length: 256 }, (_, b) => 0x30 + (b & 0x0f));

type NibbleBuilder = (h: Uint16Array, l: Uint16Array, b: Uint8Array, p: number) => string;

const nibbleShapes = new Map<number, NibbleBuilder>();

function nibbleShape(negative: boolean, first: number, intDigits: number, decimals: number): NibbleBuilder {
  const key = (negative ? 1 : 0) + 2 * (first & 1) + 4 * intDigits + 256 * decimals;
  let f = nibbleShapes.get(key);
  if (f === undefined) {
    const digit = (k: number): string => {
      const nib = (first & 1) + k;
      return `${nib & 1 ? 'l' : 'h'}[b[p + ${nib >>> 1}]]`;
    };
    const codes: string[] = negative ? ['45'] : [];
    for (let i = 0; i < intDigits; i++) codes.push(digit(i));
    if (decimals > 0) {
      codes.push('46');
      for (let i = 0; i < decimals; i++) codes.push(digit(intDigits + i));
    }
    f = new Function('h', 'l', 'b', 'p', `return String.fromCharCode(${codes.join(', ')});`) as NibbleBuilder;
    nibbleShapes.set(key, f);
  }
  return f;
}

/**
 * The value of the n digit nibbles starting at nibble `first` of buf[pos...] (0 = high nibble of
 * buf[pos]) as a decimal string; firstNonZero is relative to the first digit, or -1.
 */
export function decimalFromNibbles(
  buf: Uint8Array,
  pos: number,
  first: number,
  n: number,
  firstNonZero: number,
  scale: number,
  negative: boolean,
): string {
  let start: number;
  let a: number;
  let decimals: number;
  if (scale <= 0) {
    if (firstNonZero < 0) return negative ? '-0' : '0';
    start = firstNonZero;
    a = n - firstNonZero;
    decimals = 0;
  } else if (scale >= n) {
    const frac = nibbleShape(false, first, n, 0)(highChars, lowChars, buf, pos + (first >>> 1));
    return `${negative ? '-' : ''}0.${'0'.repeat(scale - n)}${frac}`;
  } else {
    const intLen = n - scale;
    start = firstNonZero >= 0 && firstNonZero < intLen ? firstNonZero : intLen - 1;
    a = intLen - start;
    decimals = scale;
  }
  const nib = first + start;
  const s = nibbleShape(negative, nib, a, decimals)(highChars, lowChars, buf, pos + (nib >>> 1));
  return scale < 0 ? s + '0'.repeat(-scale) : s;
}

/** Builds a field's decimal string from its bytes at p (the field's first digit byte). */
export type DigitsBuilder = (b: Uint8Array, p: number) => string;

const builderCache = new Map<string, readonly DigitsBuilder[]>();
const zonedTables: Uint16Array[] = [];

/** A field shape's digit source: zoned (`table` maps a byte to its digit character) or packed (`pad` nibbles first). */
export type DigitsSource =
  { readonly kind: 'zoned'; readonly table: Uint16Array } | { readonly kind: 'packed'; readonly pad: number };

function sourceKey(source: DigitsSource, n: number, scale: number): string {
  let tableId = -1;
  if (source.kind === 'zoned') {
    tableId = zonedTables.indexOf(source.table);
    if (tableId < 0) tableId = zonedTables.push(source.table) - 1;
  }
  return `${source.kind}:${tableId}:${source.kind === 'packed' ? source.pad : 0}:${n}:${scale}`;
}

/**
 * The character codes (as expressions over t/h/l, b and p) of the decimal string for one shape,
 * in the order of the builders' index: (negative ? n + 1 : 0) + (firstNonZero < 0 ? n : firstNonZero).
 * Builders (strings) and writers (UTF-8 bytes of the JSON line) are both generated from this list,
 * so they cannot disagree.
 */
function shapeCodes(source: DigitsSource, n: number, scale: number): string[][] {
  const digit = (i: number): string => {
    if (source.kind === 'zoned') return `t[b[p + ${i}]]`;
    const nib = source.pad + i;
    return `${nib & 1 ? 'l' : 'h'}[b[p + ${nib >>> 1}]]`;
  };
  const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => digit(from + k));
  const zeros = (k: number): string[] => Array.from({ length: Math.max(k, 0) }, () => '48');
  const all: string[][] = [];
  for (const negative of [false, true]) {
    for (let first = 0; first <= n; first++) {
      const fnz = first === n ? -1 : first;
      let codes: string[];
      if (scale <= 0) {
        codes = fnz < 0 ? ['48'] : [...range(fnz, n), ...zeros(-scale)];
      } else if (scale >= n) {
        codes = ['48', '46', ...zeros(scale - n), ...range(0, n)];
      } else {
        const intLen = n - scale;
        const start = fnz >= 0 && fnz < intLen ? fnz : intLen - 1;
        codes = [...range(start, intLen), '46', ...range(intLen, n)];
      }
      if (negative) codes.unshift('45');
      all.push(codes);
    }
  }
  return all;
}

/**
 * Every string builder one field shape can need, for the generated decoder: index
 * (negative ? n + 1 : 0) + (firstNonZero < 0 ? n : firstNonZero). Each builds, with one
 * String.fromCharCode call, exactly the string decimalFromDigits (zoned: `table` maps a byte to its
 * digit character) or decimalFromNibbles (packed: `pad` digit nibbles before the first digit)
 * returns for the same arguments.
 */
export function digitsBuilders(source: DigitsSource, n: number, scale: number): readonly DigitsBuilder[] {
  const key = sourceKey(source, n, scale);
  const cached = builderCache.get(key);
  if (cached !== undefined) return cached;
  const builders = shapeCodes(source, n, scale).map((codes) => {
    const make = new Function(
      't',
      'h',
      'l',
      `return function build(b, p) { return String.fromCharCode(${codes.join(', ')}); };`,
    ) as (t: Uint16Array, h: Uint16Array, l: Uint16Array) => DigitsBuilder;
    return make(source.kind === 'zoned' ? source.table : highChars, highChars, lowChars);
  });
  builderCache.set(key, builders);
  return builders;
}

/** Writes a field's decimal string (ASCII bytes) from its bytes at p into o at q; returns the end. */
export type DigitsWriter = (b: Uint8Array, p: number, o: Uint8Array, q: number) => number;

const writerCache = new Map<string, readonly DigitsWriter[]>();

/**
 * The byte-writing twins of digitsBuilders (same index, same characters): for the JSON line
 * writer, which puts a number's decimal string straight into the output bytes.
 */
export function digitsWriters(source: DigitsSource, n: number, scale: number): readonly DigitsWriter[] {
  const key = sourceKey(source, n, scale);
  const cached = writerCache.get(key);
  if (cached !== undefined) return cached;
  const writers = shapeCodes(source, n, scale).map((codes) => {
    const stores = codes.map((c, i) => `o[q + ${i}] = ${c};`).join(' ');
    const make = new Function(
      't',
      'h',
      'l',
      `return function write(b, p, o, q) { ${stores} return q + ${codes.length}; };`,
    ) as (t: Uint16Array, h: Uint16Array, l: Uint16Array) => DigitsWriter;
    return make(source.kind === 'zoned' ? source.table : highChars, highChars, lowChars);
  });
  writerCache.set(key, writers);
  return writers;
}
