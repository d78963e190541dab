import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCodePage, type CodePage } from '../../copybooks/code-page';
import {
  layoutFromText,
  layoutNodes,
  type Layout,
  type LayoutField,
  type LayoutNode,
} from '../../copybooks/copybook-layout';
import { createRecordDecoder, type DecodedRecord, type DecodedValue } from '../../copybooks/record-decoder';
import { isNum, parseExpected, type Json } from './lossless-json';

// The Cobrix corpus (test/fixtures/cobrix, Apache-2.0, see its README and LICENSE) run against our
// engine. For each case: our layout against Cobrix's layout file, and our decode against Cobrix's
// expected rows after the normalisations the corpus README documents (names, trimming, nulls,
// scale, Cobrix's own code-page variants). What we deliberately do differently is counted per
// category and listed in copybooks/README.md; everything else must match exactly.

const root = join(__dirname, '..', 'fixtures', 'cobrix');

interface CaseJson {
  readonly case: string;
  readonly copybook: string;
  readonly data: string;
  readonly layout: string | null;
  readonly record_length?: number;
  readonly expected: readonly {
    readonly name?: string;
    readonly expected: string;
    readonly expected_format: string;
    readonly options_used_by_cobrix_test: Record<string, string>;
    readonly records_in_expected: number;
    readonly layout?: string;
  }[];
}

function readCase(name: string): CaseJson {
  return JSON.parse(readFileSync(join(root, name, 'case.json'), 'utf8')) as CaseJson;
}

type CobrixPage = 'common' | 'cp037' | 'extended' | 'plain';

/** Cobrix's character for a byte, given the IBM character our table gives (corpus README, "Code pages"). */
function cobrixChar(kind: CobrixPage, byte: number, ibm: string): string {
  if (kind === 'plain') return ibm;
  if (byte === 0x0d) return '\n';
  if (byte === 0x25) return '\r';
  const cp = ibm.charCodeAt(0);
  switch (kind) {
    case 'common':
      if (cp >= 0x20 && cp <= 0x7e) return ibm;
      if (byte === 0x6a) return '\u00a6';
      if (byte === 0xca) return '-';
      return ' ';
    case 'cp037':
      if (byte === 0x15) return '\u0085';
      if (byte < 0x40 || byte === 0xff) return ' ';
      return ibm;
    case 'extended':
      return cp >= 0x80 && cp <= 0x9f && cp !== 0x85 ? ' ' : ibm;
  }
}

function javaTrim(s: string, policy: string): string {
  let a = 0;
  let b = s.length;
  if (policy === 'both' || policy === 'left') while (a < b && s.charCodeAt(a) <= 0x20) a++;
  if (policy === 'both' || policy === 'right') while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

/** Exact decimal comparison: "30.50" == 30.5 == "3.05E1"; floats only when allowed. */
function decimalKey(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (m === null) return `?${text}`;
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let exp = Number(m[4] ?? '0') - (m[3] ?? '').length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exp++;
  }
  return `${m[1] === '-' ? '-' : ''}${digits}e${exp}`;
}

/** Our display string of an edited picture (+9(8), Z(6)VZZ-, S9(3).99 with overpunch) as a decimal. */
function editedAsDecimal(text: string, f: LayoutField): string | undefined {
  if (f.type.kind !== 'edited') return undefined;
  let s = text.trim();
  let negative = false;
  const last = s[s.length - 1] ?? '';
  if (f.type.picture.signed) {
    const pos = '{ABCDEFGHI'.indexOf(last);
    const neg = '}JKLMNOPQR'.indexOf(last);
    if (pos >= 0) s = s.slice(0, -1) + String(pos);
    if (neg >= 0) {
      s = s.slice(0, -1) + String(neg);
      negative = true;
    }
  }
  if (s.endsWith('-') || s.startsWith('-') || s.endsWith('CR') || s.endsWith('DB')) negative = true;
  const body = s.replace(/CR$|DB$/, '').replace(/[+\-\s,*$]/g, '');
  if (!/^\d*\.?\d*$/.test(body) || body.replace('.', '') === '') return undefined;
  const scale = f.type.picture.scale;
  const withPoint = body.includes('.') ? body : scale > 0 ? `${body.slice(0, -scale)}.${body.slice(-scale)}` : body;
  return `${negative ? '-' : ''}${withPoint}`;
}

interface Variant {
  readonly label: string;
  readonly page: CodePage;
  readonly cobrixPage: CobrixPage;
  readonly trim: string;
  readonly naFill: boolean;
  readonly segmentViews?: ReadonlyMap<string, string>;
  readonly skipFields: ReadonlySet<string>;
}

interface Tally {
  fields: number;
  records: number;
  mismatches: string[];
  differences: Map<string, number>;
}

function note(t: Tally, category: string): void {
  t.differences.set(category, (t.differences.get(category) ?? 0) + 1);
}

const generated = /^(File_Id|Record_Id|Record_Byte_Length|Seg_Id\d)$|_NT$|_debug$/;

function key(name: string): string {
  return name.replace(/-/g, '_');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compareNodes(
  nodes: readonly LayoutNode[],
  ours: DecodedRecord | undefined,
  exp: Json | undefined,
  v: Variant,
  t: Tally,
  where: string,
  recLen: number,
): void {
  const e = isObj(exp) && !isNum(exp) ? (exp as Record<string, Json>) : {};
  const known = new Set(nodes.map((n) => key(n.name)));
  for (const k of Object.keys(e)) {
    if (!known.has(k) && !generated.test(k)) t.mismatches.push(`${where}.${k}: Cobrix has a field our layout lacks`);
  }
  for (const n of nodes) {
    if (n.filler) continue;
    const k = key(n.name);
    const o = ours?.[n.name];
    const x = e[k];
    compareValue(n, o, x, v, t, `${where}.${k}`, recLen);
  }
}

function compareValue(
  n: LayoutNode,
  o: DecodedValue | undefined,
  x: Json | undefined,
  v: Variant,
  t: Tally,
  where: string,
  recLen: number,
): void {
  if (v.skipFields.has(key(n.name))) {
    note(t, `skipped field ${key(n.name)}`);
    return;
  }
  const missing = x === undefined || x === null;
  if (n.redefines !== undefined || n.redefinedBy.length > 0) {
    const active = v.segmentViews;
    if (active !== undefined && missing && o !== undefined) {
      note(t, 'REDEFINES view not selected by the Cobrix segment map');
      return;
    }
  }
  if (n.occurs !== undefined) {
    if (o === undefined && missing) return;
    if (!Array.isArray(o) || !Array.isArray(x)) {
      t.mismatches.push(`${where}: array expected on both sides (ours ${JSON.stringify(o)?.slice(0, 80)})`);
      return;
    }
    if (o.length !== x.length) {
      t.mismatches.push(`${where}: ${o.length} elements, Cobrix ${x.length}`);
      return;
    }
    const single: LayoutNode = { ...n, occurs: undefined } as LayoutNode;
    o.forEach((el, i) => compareValue(single, el, x[i], v, t, `${where}[${i}]`, recLen));
    return;
  }
  if (n.kind === 'group') {
    if (o === undefined) {
      if (missing) return;
      if (recLen < n.offset + n.size) {
        note(t, 'view cut by a short VB record is left out (Cobrix reads the missing bytes as empty)');
        return;
      }
      t.mismatches.push(`${where}: group missing in ours`);
      return;
    }
    if (!isObj(o)) {
      t.mismatches.push(`${where}: ours is not an object`);
      return;
    }
    compareNodes(n.children, o as DecodedRecord, x, v, t, where, recLen);
    return;
  }
  t.fields++;
  const f = n;
  const numeric =
    f.type.kind === 'zoned' || f.type.kind === 'packed' || f.type.kind === 'binary' || f.type.kind === 'float';
  if (o === undefined) {
    if (missing) return;
    if (recLen < n.offset + n.size) {
      note(t, 'field cut by a short VB record is left out (Cobrix reads the missing bytes as empty)');
      return;
    }
    if (v.naFill && isNum(x) && decimalKey(x.num) === '0') {
      note(t, 'undecodable numeric: Cobrix null (written 0 by na.fill), ours an error');
      return;
    }
    if (isNum(x) && decimalKey(x.num) === '0') {
      note(t, 'all-blank numeric: Cobrix 0, ours an error');
      return;
    }
    t.mismatches.push(`${where}: ours failed, Cobrix ${JSON.stringify(x)}`);
    return;
  }
  if (typeof o !== 'string') {
    t.mismatches.push(`${where}: ours is not a string`);
    return;
  }
  if (missing) {
    if (o.length > 0 && [...o].every((c) => c === '\u0000')) {
      note(t, 'all-0x00 text: Cobrix null, ours the NUL characters');
      return;
    }
    if (numeric && decimalKey(o) === '0') {
      note(t, 'zero numeric: Cobrix null, ours 0');
      return;
    }
    if (f.type.kind === 'text' && javaTrim(o, 'both') === '' && v.trim !== 'none') {
      note(t, 'blank text: Cobrix null, ours empty');
      return;
    }
    t.mismatches.push(`${where}: ours ${JSON.stringify(o)}, Cobrix null`);
    return;
  }
  if (numeric) {
    if (!isNum(x)) {
      t.mismatches.push(`${where}: Cobrix ${JSON.stringify(x)} is not a number, ours ${o}`);
      return;
    }
    if (decimalKey(o) !== decimalKey(x.num)) t.mismatches.push(`${where}: ours ${o}, Cobrix ${x.num}`);
    return;
  }
  if (f.type.kind === 'edited' && isNum(x)) {
    const d = editedAsDecimal(o, f);
    if (d === undefined || decimalKey(d) !== decimalKey(x.num))
      t.mismatches.push(`${where}: ours display "${o}", Cobrix ${x.num}`);
    else note(t, 'edited picture: ours the display string, Cobrix a number');
    return;
  }
  if (typeof x !== 'string') {
    t.mismatches.push(`${where}: Cobrix ${JSON.stringify(x)}, ours text ${JSON.stringify(o)}`);
    return;
  }
  let mapped = '';
  for (const ch of o) {
    const byte = v.page.fromUnicode[ch.charCodeAt(0)] ?? -1;
    mapped += cobrixChar(v.cobrixPage, byte, ch);
  }
  const ourText = javaTrim(mapped, v.trim);
  if (ourText !== x) t.mismatches.push(`${where}: ours ${JSON.stringify(ourText)}, Cobrix ${JSON.stringify(x)}`);
}

function numberOf(v: DecodedValue | undefined): bigint {
  if (typeof v !== 'string') return -(10n ** 40n);
  const [i = '0', f = ''] = v.replace('-', '').split('.');
  const n = BigInt(i + f.padEnd(12, '0'));
  return v.startsWith('-') ? -n : n;
}

interface DecodedRow {
  readonly value: DecodedRecord;
  readonly length: number;
}

function fixedRecords(data: Buffer, lrecl: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p + lrecl <= data.length; p += lrecl) out.push(data.subarray(p, p + lrecl));
  expect(data.length % lrecl).toBe(0);
  return out;
}

function rdwRecords(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < data.length) {
    const len = data.readUInt16BE(p);
    out.push(data.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

function decodeAll(layout: Layout, page: CodePage, records: readonly Buffer[], t: Tally): DecodedRow[] {
  const decoder = createRecordDecoder(layout, { codePage: page, trim: 'none' });
  return records.map((r) => {
    const out = decoder.decodeAll(r);
    if (out.errors.length > 0)
      note(t, `records with field errors (${[...new Set(out.errors.map((e) => e.code))].join(', ')})`);
    return { value: out.value, length: r.length };
  });
}

function run(
  caseName: string,
  variantIndex: number,
  setup: {
    page: string;
    cobrixPage: CobrixPage;
    copybookText?: (text: string) => string;
    records: (data: Buffer, layout: Layout) => Buffer[];
    order?: (rows: DecodedRow[]) => DecodedRow[];
    segmentViews?: Map<string, string>;
    skipFields?: readonly string[];
    naFill?: boolean;
  },
): Tally {
  const c = readCase(caseName);
  const variant = c.expected[variantIndex];
  if (variant === undefined) throw new Error('no such variant');
  const opts = variant.options_used_by_cobrix_test;
  const dir = join(root, caseName);
  let text = readFileSync(join(dir, c.copybook), 'latin1');
  if (setup.copybookText !== undefined) text = setup.copybookText(text);
  const layout = layoutFromText(text, { file: c.copybook });
  const page = getCodePage(setup.page);
  const t: Tally = { fields: 0, records: 0, mismatches: [], differences: new Map() };
  let rows = decodeAll(layout, page, setup.records(readFileSync(join(dir, c.data)), layout), t);
  if (setup.order !== undefined) rows = setup.order(rows);
  const expected = parseExpected(readFileSync(join(dir, variant.expected), 'utf8'), variant.expected_format);
  expect(expected.length).toBe(variant.records_in_expected);
  const v: Variant = {
    label: variant.name ?? caseName,
    page,
    cobrixPage: setup.cobrixPage,
    trim: opts.string_trimming_policy ?? 'both',
    naFill: setup.naFill ?? false,
    segmentViews: setup.segmentViews,
    skipFields: new Set(setup.skipFields ?? []),
  };
  const keepRoot = opts.schema_retention_policy === 'keep_original';
  expected.forEach((x, i) => {
    const row = rows[i];
    if (row === undefined) {
      t.mismatches.push(`row ${i}: we have fewer records`);
      return;
    }
    t.records++;
    const first = layout.roots[0];
    if (layout.roots.length === 1 && first?.kind === 'group') {
      const exp = keepRoot && isObj(x) ? (x as Record<string, Json>)[key(first.name)] : x;
      compareNodes(first.children, row.value, exp, v, t, `row ${i}`, row.length);
    } else {
      compareNodes(layout.roots, row.value, x, v, t, `row ${i}`, row.length);
    }
  });
  return t;
}

function report(label: string, t: Tally): void {
  // Kept visible on purpose: the README's list of differences is checked against these counts.
  const diffs = [...t.differences.entries()].map(([k, n]) => `    ${n} x ${k}`).join('\n');
  process.stdout.write(
    `${label}: ${t.records} rows, ${t.fields} fields compared, ${t.mismatches.length} mismatches\n${diffs}\n`,
  );
}

const byNumber = (field: string) => (rows: DecodedRow[]) =>
  [...rows].sort((a, b) => {
    const x = numberOf(a.value[field]);
    const y = numberOf(b.value[field]);
    return x < y ? -1 : x > y ? 1 : 0;
  });

const fixed = (data: Buffer, layout: Layout): Buffer[] => fixedRecords(data, layout.size);

// Cobrix sizes BINARY above 18 digits as 9, 12 or 16 bytes; IBM COBOL stops at 18, and so do we.
// Those fields are replaced by PIC X of Cobrix's size (from its layout file) and not compared.
function withoutWideBinary(
  caseName: string,
  copybook: string,
  layoutFile: string,
): { copybookText: (t: string) => string; skip: string[] } {
  const lengths = new Map<string, number>();
  for (const line of readFileSync(join(root, caseName, layoutFile), 'utf8').split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s.*?(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m?.[1] !== undefined) lengths.set(m[1], Number(m[4]));
  }
  const skip: string[] = [];
  const count = (p: string): number => Number(/\((\d+)\)/.exec(p)?.[1] ?? '0');
  const copybookText = (text: string): string =>
    text.replace(
      /^(\s+\d+\s+)([A-Z0-9-]+)(\s+)PIC\s+(S?)(9\(\d+\)|99)(V9\(\d+\)|V99)?\s+(COMP|BINARY)\.\s*$/gm,
      (all, lead: string, name: string, sp: string, _s, int: string, frac: string | undefined) => {
        const digits = (int === '99' ? 2 : count(int)) + (frac === undefined ? 0 : frac === 'V99' ? 2 : count(frac));
        if (digits <= 18) return all;
        skip.push(key(name));
        return `${lead}${name}${sp}PIC X(${lengths.get(key(name)) ?? 0}).`;
      },
    );
  copybookText(readFileSync(join(root, caseName, copybook), 'latin1'));
  return { copybookText, skip: [...new Set(skip)] };
}

describe('Cobrix conformance corpus', () => {
  describe('layouts match Cobrix layout files (start, end, length of every item)', () => {
    const cases: [string, string, ((t: string) => string) | undefined][] = [
      ['fixed-ebcdic-fillers-redefines', 'test7_layout.txt', undefined],
      ['fixed-ebcdic-fillers-redefines', 'test7c_layout.txt', undefined],
      ['fixed-ebcdic-segment-redefines', 'test16_layout.txt', undefined],
      ['fixed-ebcdic-display-numbers-nulls', 'test19_layout.txt', undefined],
      ['fixed-ebcdic-file-header-footer', 'test13a_layout.txt', undefined],
      [
        'fixed-ebcdic-type-variety',
        'test6_layout.txt',
        withoutWideBinary('fixed-ebcdic-type-variety', 'test6_copybook.cob', 'test6_layout.txt').copybookText,
      ],
      [
        'fixed-ebcdic-type-variety-hex-debug',
        'test24_layout.txt',
        withoutWideBinary('fixed-ebcdic-type-variety-hex-debug', 'test24_copybook.cob', 'test24_layout.txt')
          .copybookText,
      ],
    ];
    test.each(cases)('%s %s', (caseName, layoutFile, rewrite) => {
      const c = readCase(caseName);
      let text = readFileSync(join(root, caseName, c.copybook), 'latin1');
      if (rewrite !== undefined) text = rewrite(text);
      const layout = layoutFromText(text);
      const theirs = readFileSync(join(root, caseName, layoutFile), 'utf8')
        .split('\n')
        .map((l) => /^\s*(?:\d+\s+)?(\S+)\s+(?:[rR]+\s+)?(?:\d+\s+)?(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ name: m[1] ?? '', start: Number(m[2]), end: Number(m[3]), length: Number(m[4]) }))
        .filter((r) => !r.name.endsWith('_debug'));
      const ours = layoutNodes(layout).map((n) => ({
        name: key(n.name),
        start: n.offset + 1,
        // Cobrix gives every view of a REDEFINES area the area's length.
        length: n.redefines !== undefined || n.redefinedBy.length > 0 ? n.areaSize : n.size,
      }));
      expect(ours.length).toBe(theirs.length);
      theirs.forEach((r, i) => {
        const o = ours[i];
        expect({
          name: o?.name.startsWith('FILLER') ? 'FILLER' : o?.name,
          start: o?.start,
          end: (o?.start ?? 0) + (o?.length ?? 0) - 1,
          length: o?.length,
        }).toEqual({
          name: r.name.startsWith('FILLER') ? 'FILLER' : r.name,
          start: r.start,
          end: r.end,
          length: r.length,
        });
      });
      expect(layout.size).toBe(theirs[0]?.length);
    });
  });

  test('fixed-ebcdic-comp-comp3-redefines-odo: COMP, COMP-3, REDEFINES, OCCURS DEPENDING ON', () => {
    const t = run('fixed-ebcdic-comp-comp3-redefines-odo', 0, { page: '037', cobrixPage: 'common', records: fixed });
    report('test1', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(10);
  });

  test('fixed-ebcdic-type-variety: every numeric usage, sign form, scale and P', () => {
    const wide = withoutWideBinary('fixed-ebcdic-type-variety', 'test6_copybook.cob', 'test6_layout.txt');
    const t = run('fixed-ebcdic-type-variety', 0, {
      page: '037',
      cobrixPage: 'common',
      copybookText: wide.copybookText,
      records: fixed,
      order: byNumber('ID'),
      naFill: true,
      skipFields: [...wide.skip, 'FLOAT_01', 'DOUBLE_01'],
    });
    report('test6', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(100);
    expect(t.fields).toBeGreaterThan(15000);
  });

  test('fixed-ebcdic-type-variety-hex-debug: same data, S9PPPV COMP', () => {
    const wide = withoutWideBinary('fixed-ebcdic-type-variety-hex-debug', 'test24_copybook.cob', 'test24_layout.txt');
    const t = run('fixed-ebcdic-type-variety-hex-debug', 0, {
      page: '037',
      cobrixPage: 'common',
      copybookText: wide.copybookText,
      records: fixed,
      order: byNumber('ID'),
      naFill: true,
      skipFields: [...wide.skip, 'FLOAT_01', 'DOUBLE_01'],
    });
    report('test24', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(20);
  });

  test('fixed-ebcdic-fillers-redefines: FILLERs dropped, REDEFINES larger than its target', () => {
    const t = run('fixed-ebcdic-fillers-redefines', 0, {
      page: '037',
      cobrixPage: 'common',
      records: fixed,
      order: byNumber('AMOUNT'),
    });
    report('test7', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(100);
  });

  test.each([
    [0, 'cp037', 'cp037'],
    [1, 'cp037', 'extended'],
    [3, 'cp500', 'extended'],
    [4, 'cp1140', 'extended'],
  ] as const)('fixed-ebcdic-code-pages variant %d: %s', (index, page, cobrixPage) => {
    const t = run('fixed-ebcdic-code-pages', index, { page, cobrixPage, records: fixed });
    report(`test9 ${page}/${cobrixPage}`, t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(60);
  });

  test('fixed-ebcdic-common-code-page: Cobrix default table through its documented reduction', () => {
    const t = run('fixed-ebcdic-common-code-page', 0, { page: '037', cobrixPage: 'common', records: fixed });
    report('test8 common', t);
    expect(t.mismatches).toEqual([]);
  });

  test.each([0, 1, 2, 3, 4])('fixed-ebcdic-string-trimming variant %d', (index) => {
    const t = run('fixed-ebcdic-string-trimming', index, { page: '037', cobrixPage: 'common', records: fixed });
    report(`test3 #${index}`, t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(60);
  });

  test('fixed-ebcdic-segment-redefines: the active view matches', () => {
    const t = run('fixed-ebcdic-segment-redefines', 0, {
      page: '037',
      cobrixPage: 'common',
      records: fixed,
      segmentViews: new Map([
        ['C', 'COMPANY'],
        ['P', 'PERSON'],
        ['B', 'PO-BOX'],
      ]),
    });
    report('test16', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(50);
  });

  test('fixed-ebcdic-display-numbers-nulls: blank and non-numeric zoned fields are errors for us', () => {
    const t = run('fixed-ebcdic-display-numbers-nulls', 0, { page: '037', cobrixPage: 'common', records: fixed });
    report('test19', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(7);
  });

  test('fixed-ebcdic-file-header-footer: records between a 10-byte header and a 12-byte trailer', () => {
    const orderByCompany = (rows: DecodedRow[]): DecodedRow[] =>
      [...rows].sort((a, b) => {
        const x = String(a.value['COMPANY-ID']).trim();
        const y = String(b.value['COMPANY-ID']).trim();
        if (x !== y) return x < y ? -1 : 1;
        const p = numberOf(a.value['AMOUNT']);
        const q = numberOf(b.value['AMOUNT']);
        return p < q ? -1 : p > q ? 1 : 0;
      });
    const t = run('fixed-ebcdic-file-header-footer', 0, {
      page: '037',
      cobrixPage: 'common',
      records: (data, layout) => fixedRecords(data.subarray(10, data.length - 12), layout.size),
      order: orderByCompany,
    });
    report('test13a', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(50);
  });

  test('fixed-ascii-group-fillers-non-terminals: ASCII, FILLERs inside groups, root kept', () => {
    const t = run('fixed-ascii-group-fillers-non-terminals', 0, { page: 'ascii', cobrixPage: 'plain', records: fixed });
    report('test10', t);
    expect(t.mismatches).toEqual([]);
    expect(t.fields).toBe(3);
  });

  test('fixed-ascii-level01-redefines: two 01 records over the same bytes', () => {
    const t = run('fixed-ascii-level01-redefines', 0, { page: 'ascii', cobrixPage: 'plain', records: fixed });
    report('test12', t);
    expect(t.mismatches).toEqual([]);
    expect(t.fields).toBe(8);
  });

  test('variable-ebcdic-rdw-big-endian-multisegment: RDW records shorter than the copybook', () => {
    const t = run('variable-ebcdic-rdw-big-endian-multisegment', 0, {
      page: '037',
      cobrixPage: 'common',
      records: (data) => rdwRecords(data),
    });
    report('test5b', t);
    expect(t.mismatches).toEqual([]);
    expect(t.records).toBe(60);
  });

  test('variable-ascii-nested-odo-packed: nested OCCURS DEPENDING ON, records packed to their counts', () => {
    const c = readCase('variable-ascii-nested-odo-packed');
    const dir = join(root, c.case);
    const layout = layoutFromText(readFileSync(join(dir, c.copybook), 'latin1'));
    const decoder = createRecordDecoder(layout, { codePage: getCodePage('ascii'), occurs: 'packed', root: 'keep' });
    const data = readFileSync(join(dir, c.data));
    const rows: DecodedRecord[] = [];
    for (let p = 0; p < data.length; p += decoder.lastLength()) rows.push(decoder.decode(data, p, data.length));
    const expected = parseExpected(readFileSync(join(dir, 'test21.txt'), 'utf8'), 'jsonl');
    const normalise = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(normalise)
        : isNum(v as Json)
          ? (v as { num: string }).num
          : isObj(v)
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [key(k), normalise(x)]))
            : v;
    expect(rows.map(normalise)).toEqual(expected.map(normalise));
  });
});
