import fc from 'fast-check';
import type { CodePage } from '../../copybooks/code-page';
import { layoutFromText, type Layout } from '../../copybooks/copybook-layout';

// Random copybooks (groups, OCCURS, REDEFINES, FILLER with VALUE, every numeric usage and sign,
// P scaling, JUSTIFIED, BLANK WHEN ZERO, PIC A) and records for them, valid and not: shared by
// the property tests of the fast paths and of the JSON line writer.

export type Field =
  | { kind: 'text'; length: number; pic: 'X' | 'A'; justified: boolean }
  | { kind: 'zoned'; int: number; scale: number; p: number; signed: boolean; sign: string; blank: boolean }
  | { kind: 'packed'; int: number; scale: number; p: number; signed: boolean }
  | { kind: 'binary'; int: number; scale: number; signed: boolean; native: boolean };

export type Item =
  | { kind: 'field'; field: Field; occurs: number }
  | { kind: 'group'; fields: Field[]; occurs: number }
  | { kind: 'redefines'; digits: number }
  | { kind: 'filler'; spaces: boolean };

const digitsSplit = (max: number) =>
  fc.integer({ min: 1, max }).chain((n) => fc.integer({ min: 0, max: n }).map((scale) => ({ int: n - scale, scale })));

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({
    kind: fc.constant('text' as const),
    length: fc.integer({ min: 1, max: 70 }),
    pic: fc.constantFrom('X' as const, 'A' as const),
    justified: fc.boolean(),
  }),
  fc
    .tuple(
      digitsSplit(38),
      fc.boolean(),
      fc.constantFrom('', ' SIGN LEADING', ' SIGN TRAILING', ' SIGN LEADING SEPARATE', ' SIGN TRAILING SEPARATE'),
      fc.constantFrom(false, false, false, true),
      fc.constantFrom(0, 0, 0, 2),
    )
    .map(([d, signed, sign, blank, p]): Field => {
      // P positions on the left of an integer-free picture, or on the right of an integer picture.
      const pp = d.int > 0 && d.scale === 0 ? p : d.int === 0 ? p : 0;
      return { kind: 'zoned', ...d, p: pp, signed, sign: signed ? sign : '', blank: blank && !signed };
    }),
  fc.tuple(digitsSplit(38), fc.boolean(), fc.constantFrom(0, 0, 0, 2)).map(([d, signed, p]): Field => ({
    kind: 'packed',
    ...d,
    p: (d.int > 0 && d.scale === 0) || d.int === 0 ? p : 0,
    signed,
  })),
  fc
    .tuple(digitsSplit(18), fc.boolean(), fc.boolean())
    .map(([d, signed, native]): Field => ({ kind: 'binary', ...d, signed, native })),
);

const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('field' as const), field, occurs: fc.constantFrom(0, 0, 0, 2) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('group' as const),
      fields: fc.array(field, { minLength: 1, maxLength: 3 }),
      occurs: fc.constantFrom(0, 0, 2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('redefines' as const), digits: fc.integer({ min: 1, max: 12 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('filler' as const), spaces: fc.boolean() }) },
);

export const items = fc.array(item, { minLength: 1, maxLength: 7 });

/** A field's clauses, one a line (fixed-format lines end at column 72). */
function clauses(f: Field): string[] {
  if (f.kind === 'text') return [`PIC ${f.pic}(${f.length})`, ...(f.justified ? ['JUSTIFIED RIGHT'] : [])];
  const s = f.signed ? 'S' : '';
  let pic: string;
  if (f.kind !== 'binary' && f.p > 0 && f.int === 0) pic = `${s}V${'P'.repeat(f.p)}9(${f.scale})`;
  else if (f.kind !== 'binary' && f.p > 0) pic = `${s}9(${f.int})${'P'.repeat(f.p)}`;
  else pic = `${s}${f.int > 0 ? `9(${f.int})` : ''}${f.scale > 0 ? `V9(${f.scale})` : ''}`;
  switch (f.kind) {
    case 'zoned':
      return [`PIC ${pic}`, ...(f.sign !== '' ? [f.sign.trim()] : []), ...(f.blank ? ['BLANK WHEN ZERO'] : [])];
    case 'packed':
      return [`PIC ${pic}`, 'COMP-3'];
    case 'binary':
      return [`PIC ${pic}`, f.native ? 'COMP-5' : 'COMP'];
  }
}

function entry(level: string, name: string, lines: readonly string[]): string[] {
  const pad = ' '.repeat(level === '05' ? 15 : 19);
  const all = [`${pad.slice(4)}${level}  ${name}`, ...lines.map((l) => `${pad}    ${l}`)];
  all[all.length - 1] += '.';
  return all;
}

export function copybook(list: readonly Item[]): string {
  const lines = ['       01  REC.'];
  list.forEach((it, i) => {
    const occurs = 'occurs' in it && it.occurs > 0 ? [`OCCURS ${it.occurs} TIMES`] : [];
    switch (it.kind) {
      case 'field':
        lines.push(...entry('05', `F-${i}`, [...clauses(it.field), ...occurs]));
        break;
      case 'group':
        lines.push(...entry('05', `G-${i}`, occurs));
        it.fields.forEach((f, j) => lines.push(...entry('10', `G-${i}-${j}`, clauses(f))));
        break;
      case 'redefines':
        lines.push(...entry('05', `D-${i}`, [`PIC 9(${it.digits})`]));
        lines.push(...entry('05', `T-${i}`, [`REDEFINES D-${i}`, `PIC X(${it.digits})`]));
        break;
      case 'filler':
        lines.push(...entry('05', 'FILLER', [`PIC X(3) VALUE ${it.spaces ? 'SPACES' : "'AB1'"}`]));
        break;
    }
  });
  return `${lines.join('\n')}\n`;
}

/** Decimal strings around a field's limits: canonical and not, valid and not. */
function numericValue(f: Exclude<Field, { kind: 'text' }>): fc.Arbitrary<unknown> {
  const digits = f.int + f.scale;
  const scale = f.kind === 'binary' ? f.scale : f.p > 0 && f.int > 0 ? -f.p : f.p > 0 ? f.scale + f.p : f.scale;
  const max = 10n ** BigInt(digits) - 1n;
  const canonical = fc.bigInt({ min: f.signed ? -max : 0n, max }).map((v) => {
    const neg = v < 0n;
    let s = (neg ? -v : v).toString();
    if (scale < 0) s = s === '0' ? s : s + '0'.repeat(-scale);
    else if (scale > 0) {
      s = s.padStart(scale + 1, '0');
      s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
    }
    return neg ? `-${s}` : s;
  });
  const odd = fc.oneof(
    fc.constantFrom('-0', '+0', '0', '-0.0', '00', '.5', '5.', '', '-', '+', ' 1', '1 ', '1e3', '1.2.3', '--1', '0x1F'),
    fc.constantFrom(5, -5, 1.5, 12n, null, true, [], {}),
    fc
      .tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{0,42}$/), fc.stringMatching(/^(\.[0-9]{0,5})?$/))
      .map(([s, i, d]) => `${s}${i}${d}`),
  );
  return fc.oneof({ weight: 4, arbitrary: canonical }, { weight: 1, arbitrary: odd });
}

function textValue(page: CodePage, f: Extract<Field, { kind: 'text' }>): fc.Arbitrary<unknown> {
  const chars: string[] = [];
  for (let b = 0; b < 256; b++) {
    const u = page.toUnicode[b] ?? 0xffff;
    if (u !== 0xffff) chars.push(String.fromCharCode(u));
  }
  const letters = 'ABCXYZ abcxyz'.split('');
  const good = fc
    .array(fc.constantFrom(...(f.pic === 'A' ? letters : chars)), { maxLength: f.length })
    .map((a) => a.join(''));
  const odd = fc.oneof(
    fc.constant('x'.repeat(f.length + 1)),
    fc.constantFrom('\u4e00', '\u20ac', '\u00a4', 'ab1', 7, null),
    fc.array(fc.constantFrom(...chars), { maxLength: f.length + 2 }).map((a) => a.join('')),
  );
  return fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: odd });
}

function valueOf(f: Field, page: CodePage): fc.Arbitrary<unknown> {
  return f.kind === 'text' ? textValue(page, f) : numericValue(f);
}

/** A record for the list; sometimes a key is missing, unknown, or a view pair is given twice. */
export function recordFor(list: readonly Item[], page: CodePage): fc.Arbitrary<Record<string, unknown>> {
  const entries = list.map((it, i): fc.Arbitrary<[string, unknown][]> => {
    const many = (one: fc.Arbitrary<unknown>, occurs: number): fc.Arbitrary<unknown> =>
      occurs > 0 ? fc.array(one, { minLength: occurs, maxLength: occurs }) : one;
    switch (it.kind) {
      case 'field':
        return many(valueOf(it.field, page), it.occurs).map((v) => [[`F-${i}`, v]]);
      case 'group': {
        const group = fc
          .tuple(...it.fields.map((f) => valueOf(f, page)))
          .map((vs) => Object.fromEntries(vs.map((v, j) => [`G-${i}-${j}`, v])));
        return many(group, it.occurs).map((v) => [[`G-${i}`, v]]);
      }
      case 'redefines': {
        const digits = fc.stringMatching(new RegExp(`^[0-9]{${it.digits}}$`));
        return fc.oneof(
          digits.map((d): [string, unknown][] => [[`D-${i}`, String(BigInt(d))]]),
          digits.map((d): [string, unknown][] => [[`T-${i}`, d]]),
          // Both views: the same bytes, or a conflict.
          fc.tuple(digits, fc.boolean()).map(([d, same]): [string, unknown][] => [
            [`D-${i}`, String(BigInt(d))],
            [`T-${i}`, same ? d : `${d.slice(1)}x`],
          ]),
        );
      }
      case 'filler':
        return fc.constant([]);
    }
  });
  return fc
    .tuple(fc.tuple(...entries), fc.constantFrom('none', 'none', 'none', 'none', 'drop', 'extra'))
    .map(([parts, change]) => {
      const flat = parts.flat();
      if (change === 'drop' && flat.length > 0) flat.pop();
      if (change === 'extra') flat.push(['NOT-A-FIELD', '1']);
      return Object.fromEntries(flat);
    });
}

export function layoutOf(list: readonly Item[]): Layout {
  return layoutFromText(copybook(list));
}
