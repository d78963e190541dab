import fc from 'fast-check';
import { codePageNames, getCodePage } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { compileEncodeFastPath } from '../../copybooks/encode-fast-path';
import { codecFor, createRecordDecoder } from '../../copybooks/record-decoder';
import { createRecordEncoder, type RecordEncoder } from '../../copybooks/record-encoder';
import { items, layoutOf, recordFor } from './random-copybook';

// The decoder and the encoder each have a generated fast path and a full plan (`plan: 'full'`),
// which stays the reference and the one that reports errors. These properties hold the two
// together: for random copybooks (groups, OCCURS, REDEFINES, FILLER with VALUE, every numeric
// usage and sign, P scaling, JUSTIFIED, BLANK WHEN ZERO, PIC A) and random values or bytes, valid
// and not, both give the same record, the same bytes, or the same error.

type Outcome = { bytes: string } | { error: string };

function encodeOutcome(encoder: RecordEncoder, record: unknown): Outcome {
  try {
    return { bytes: Buffer.from(encoder.encode(record)).toString('hex') };
  } catch (err) {
    if (!(err instanceof CopybookError)) throw err;
    return { error: err.describe() };
  }
}

describe('the generated fast paths give what the full plans give', () => {
  test.each(codePageNames)('%s: encoding random records, valid or not: same bytes or same error', (name) => {
    const page = getCodePage(name);
    const scenario = items.chain((list) =>
      fc.record({
        list: fc.constant(list),
        record: recordFor(list, page),
        blank: fc.boolean(),
        occurs: fc.constantFrom('fixed' as const, 'packed' as const),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ list, record, blank, occurs }) => {
        const layout = layoutOf(list);
        const options = { codePage: page, occurs, defaults: blank ? ('blank' as const) : ('none' as const) };
        const fast = createRecordEncoder(layout, options);
        const full = createRecordEncoder(layout, { ...options, plan: 'full' });
        expect(encodeOutcome(fast, record)).toEqual(encodeOutcome(full, record));
      }),
      { numRuns: 60 },
    );
  });

  test.each(codePageNames)('%s: decoding valid records, with some bytes changed: same record, same errors', (name) => {
    const page = getCodePage(name);
    const scenario = items.chain((list) =>
      fc.record({
        list: fc.constant(list),
        record: recordFor(list, page),
        changes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        trim: fc.constantFrom('pad' as const, 'none' as const),
        root: fc.constantFrom('auto' as const, 'keep' as const),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ list, record, changes, trim, root }) => {
        const layout = layoutOf(list);
        const writer = createRecordEncoder(layout, { codePage: page, defaults: 'blank', plan: 'full' });
        const base = encodeOutcome(writer, record);
        const bytes = 'bytes' in base ? Buffer.from(base.bytes, 'hex') : Buffer.alloc(layout.size, page.space);
        for (const [at, b] of changes) bytes[at % bytes.length] = b;
        const fast = createRecordDecoder(layout, { codePage: page, trim, root }).decodeAll(bytes);
        const full = createRecordDecoder(layout, { codePage: page, trim, root, plan: 'full' }).decodeAll(bytes);
        expect(fast.value).toEqual(full.value);
        expect(JSON.stringify(fast.value)).toBe(JSON.stringify(full.value));
        expect(fast.errors.map((e) => e.describe())).toEqual(full.errors.map((e) => e.describe()));
        // Not a fallback in disguise: a record as the encoder wrote it is taken by the fast path.
        if (changes.length === 0 && 'bytes' in base) {
          const decoder = createRecordDecoder(layout, { codePage: page, trim, root });
          expect(decoder.decodeValid(bytes)).toEqual(full.value);
        }
      }),
      { numRuns: 60 },
    );
  });

  test.each(codePageNames)('%s: the encoder fast path takes every record as the decoder prints it', (name) => {
    const page = getCodePage(name);
    const plain = items.map((list) => list.filter((it) => it.kind !== 'filler'));
    const scenario = plain
      .filter((list) => list.length > 0)
      .chain((list) =>
        fc.record({ list: fc.constant(list), bytes: fc.uint8Array({ minLength: 600, maxLength: 600 }) }),
      );
    fc.assert(
      fc.property(scenario, ({ list, bytes }) => {
        const layout = layoutOf(list);
        // Whatever decodes from random bytes is, printed back, a record the fast path must take.
        const decoded = createRecordDecoder(layout, { codePage: page, plan: 'full' }).decodeAll(bytes);
        fc.pre(decoded.errors.length === 0);
        const full = encodeOutcome(createRecordEncoder(layout, { codePage: page, plan: 'full' }), decoded.value);
        fc.pre('bytes' in full);
        const fast = compileEncodeFastPath(layout, {
          codePage: page,
          top: layout.roots[0]?.kind === 'group' ? layout.roots[0].children : layout.roots,
          codecFor: (f) => codecFor(f, page, 'pad'),
          fillerBytes: () => undefined,
        });
        const buf = new Uint8Array(layout.size).fill(page.space);
        expect(fast?.write(decoded.value, buf)).toBe(true);
        expect({ bytes: Buffer.from(buf).toString('hex') }).toEqual(full);
      }),
      { numRuns: 60 },
    );
  });

  test('a packed amount and a date given through both its views: exact bytes, read back by the fast path', () => {
    const layout = layoutOf([
      { kind: 'field', field: { kind: 'packed', int: 13, scale: 2, p: 0, signed: true }, occurs: 0 },
      { kind: 'redefines', digits: 8 },
    ]);
    const page = getCodePage('1140');
    const encoder = createRecordEncoder(layout, { codePage: page });
    const record = { 'F-0': '-1234567890123.45', 'D-1': '20261123', 'T-1': '20261123' };
    const bytes = Buffer.from(encoder.encode(record));
    expect(bytes.toString('hex')).toBe('123456789012345d' + 'f2f0f2f6f1f1f2f3');
    expect(createRecordDecoder(layout, { codePage: page }).decodeValid(bytes)).toEqual(record);
  });
});
