import fc from 'fast-check';
import { codePageNames, getCodePage, type CodePage } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { layoutFromText } from '../../copybooks/copybook-layout';
import { createRecordDecoder, type DecodedRecord } from '../../copybooks/record-decoder';
import { createRecordEncoder } from '../../copybooks/record-encoder';

// Random copybooks with random values: encode -> decode gives the values back, and decode ->
// encode gives the bytes back, in every code page. Random bytes never make the decoder throw
// anything but a CopybookError.

type FieldSpec =
  | { kind: 'text'; length: number }
  | {
      kind: 'zoned';
      digits: number;
      scale: number;
      signed: boolean;
      sign: '' | 'LEADING' | 'TRAILING' | 'LEADING SEPARATE' | 'TRAILING SEPARATE';
    }
  | { kind: 'packed'; digits: number; scale: number; signed: boolean }
  | { kind: 'binary'; digits: number; scale: number; signed: boolean; native: boolean };

interface Item {
  readonly field: FieldSpec;
  readonly occurs: number;
}

const numeric = (maxDigits: number) =>
  fc
    .integer({ min: 1, max: maxDigits })
    .chain((digits) =>
      fc.record({ digits: fc.constant(digits), scale: fc.integer({ min: 0, max: digits }), signed: fc.boolean() }),
    );

const fieldSpec: fc.Arbitrary<FieldSpec> = fc.oneof(
  fc.integer({ min: 1, max: 30 }).map((length): FieldSpec => ({ kind: 'text', length })),
  numeric(38).chain((n) =>
    fc
      .constantFrom('', 'LEADING', 'TRAILING', 'LEADING SEPARATE', 'TRAILING SEPARATE')
      .map((sign): FieldSpec => ({ kind: 'zoned', ...n, sign: n.signed ? sign : ('' as const) })),
  ),
  numeric(38).map((n): FieldSpec => ({ kind: 'packed', ...n })),
  numeric(18).chain((n) => fc.boolean().map((native): FieldSpec => ({ kind: 'binary', ...n, native }))),
);

const items = fc.array(fc.record({ field: fieldSpec, occurs: fc.constantFrom(0, 0, 0, 1, 3) }), {
  minLength: 1,
  maxLength: 8,
});

function picture(f: FieldSpec): string {
  if (f.kind === 'text') return `PIC X(${f.length})`;
  const int = f.digits - f.scale;
  const pic = `${f.signed ? 'S' : ''}${int > 0 ? `9(${int})` : ''}${f.scale > 0 ? `V9(${f.scale})` : ''}`;
  switch (f.kind) {
    case 'zoned':
      return `PIC ${pic}${f.sign === '' ? '' : ` SIGN ${f.sign}`}`;
    case 'packed':
      return `PIC ${pic} COMP-3`;
    case 'binary':
      return `PIC ${pic} ${f.native ? 'COMP-5' : 'BINARY'}`;
  }
}

function copybook(list: readonly Item[]): string {
  const lines = ['      * generated', '       01  REC.'];
  list.forEach((it, i) => {
    if (i % 3 === 2) {
      lines.push(`           05  GRP-${i}${it.occurs > 0 ? ` OCCURS ${it.occurs} TIMES` : ''}.`);
      lines.push(`               10  F-${i}  ${picture(it.field)}.`);
    } else {
      lines.push(`           05  F-${i}  ${picture(it.field)}${it.occurs > 0 ? ` OCCURS ${it.occurs}` : ''}.`);
    }
  });
  return `${lines.join('\n')}\n`;
}

/** A value as the decoder prints it: no leading zeros, exactly `scale` decimals. */
function decimalValue(f: Exclude<FieldSpec, { kind: 'text' }>): fc.Arbitrary<string> {
  const max = 10n ** BigInt(f.digits) - 1n;
  return fc.bigInt({ min: f.signed ? -max : 0n, max }).map((v) => {
    const neg = v < 0n;
    const s = (neg ? -v : v).toString().padStart(f.scale + 1, '0');
    const body = f.scale > 0 ? `${s.slice(0, s.length - f.scale)}.${s.slice(s.length - f.scale)}` : s;
    return neg ? `-${body}` : body;
  });
}

function textValue(page: CodePage, length: number): fc.Arbitrary<string> {
  const chars: string[] = [];
  for (let b = 0; b < 256; b++) {
    const u = page.toUnicode[b] ?? 0xffff;
    if (u !== 0xffff) chars.push(String.fromCharCode(u));
  }
  // Decoding drops the space padding, so a value never ends in a space.
  return fc.array(fc.constantFrom(...chars), { maxLength: length }).map((a) => a.join('').replace(/ +$/, ''));
}

function valueOf(f: FieldSpec, page: CodePage): fc.Arbitrary<string> {
  return f.kind === 'text' ? textValue(page, f.length) : decimalValue(f);
}

function recordFor(list: readonly Item[], page: CodePage): fc.Arbitrary<DecodedRecord> {
  const parts = list.map((it, i) => {
    const one = valueOf(it.field, page);
    const leaf = (v: fc.Arbitrary<string>): fc.Arbitrary<DecodedRecord[string]> =>
      i % 3 === 2 ? v.map((x) => ({ [`F-${i}`]: x })) : v;
    const key = i % 3 === 2 ? `GRP-${i}` : `F-${i}`;
    const value = it.occurs > 0 ? fc.array(leaf(one), { minLength: it.occurs, maxLength: it.occurs }) : leaf(one);
    return value.map((v) => [key, v] as const);
  });
  return fc.tuple(...parts).map((entries) => Object.fromEntries(entries) as DecodedRecord);
}

describe('round trips in every code page', () => {
  test.each(codePageNames)('%s: random copybook and values survive encode -> decode -> encode', (name) => {
    const page = getCodePage(name);
    const scenario = items.chain((list) => recordFor(list, page).map((record) => ({ list, record })));
    fc.assert(
      fc.property(scenario, ({ list, record }) => {
        const layout = layoutFromText(copybook(list));
        const encoder = createRecordEncoder(layout, { codePage: page });
        const decoder = createRecordDecoder(layout, { codePage: page });
        const bytes = Buffer.from(encoder.encode(record));
        expect(bytes.length).toBe(layout.size);
        const back = decoder.decode(bytes);
        expect(back).toEqual(record);
        expect(Buffer.from(encoder.encode(back))).toEqual(bytes);
      }),
      { numRuns: 150 },
    );
  });
});

describe('random bytes never crash the decoder', () => {
  test('a value or a CopybookError, nothing else, for any bytes and any length', () => {
    const scenario = items.chain((list) =>
      fc.record({
        list: fc.constant(list),
        bytes: fc.uint8Array({ maxLength: 400 }),
        page: fc.constantFrom(...codePageNames),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ list, bytes, page }) => {
        const layout = layoutFromText(copybook(list));
        const decoder = createRecordDecoder(layout, { codePage: getCodePage(page) });
        const outcome = decoder.decodeAll(bytes);
        for (const e of outcome.errors) expect(e).toBeInstanceOf(CopybookError);
        try {
          decoder.decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(CopybookError);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('the generated fast path and the full plan agree on any bytes', () => {
    const scenario = items.chain((list) =>
      fc.record({
        list: fc.constant(list),
        seed: fc.uint8Array({ minLength: 400, maxLength: 400 }),
        page: fc.constantFrom(...codePageNames),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ list, seed, page }) => {
        const layout = layoutFromText(copybook(list));
        const codePage = getCodePage(page);
        // Half the time start from valid bytes (so the fast path succeeds), else raw random bytes.
        const bytes =
          seed[0] !== undefined && seed[0] % 2 === 0
            ? seed.subarray(0, layout.size)
            : Buffer.from(createRecordEncoder(layout, { codePage, defaults: 'blank' }).encode({}));
        const fast = createRecordDecoder(layout, { codePage }).decodeAll(bytes);
        const full = createRecordDecoder(layout, { codePage, plan: 'full' }).decodeAll(bytes);
        expect(fast.value).toEqual(full.value);
        expect(Object.keys(fast.value)).toEqual(Object.keys(full.value));
        expect(fast.errors.map((e) => e.describe())).toEqual(full.errors.map((e) => e.describe()));
      }),
      { numRuns: 300 },
    );
  });

  test('OCCURS DEPENDING ON counters from random bytes are range-checked, fixed and packed', () => {
    const cb = `       01 R.\n          05 N PIC 9(2).\n          05 T OCCURS 1 TO 5 DEPENDING ON N.\n             10 C PIC 9(2).\n             10 I OCCURS 0 TO 3 DEPENDING ON C.\n                15 V PIC S9(3) COMP-3.\n`;
    const layout = layoutFromText(cb);
    for (const occurs of ['fixed', 'packed'] as const) {
      const decoder = createRecordDecoder(layout, { codePage: getCodePage('ascii'), occurs });
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
          const out = decoder.decodeAll(bytes);
          for (const e of out.errors) expect(e).toBeInstanceOf(CopybookError);
        }),
        { numRuns: 300 },
      );
    }
  });
});
