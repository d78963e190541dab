import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { codePageNames, getCodePage, type CodePage } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { layoutFromText, loadLayout, type Layout } from '../../copybooks/copybook-layout';
import { createRecordDecoder, type RecordCodecOptions } from '../../copybooks/record-decoder';
import { createRecordEncoder } from '../../copybooks/record-encoder';
import { createRecordJsonWriter, writeJsonString } from '../../copybooks/record-json-writer';
import { decodeJsonLines, decodeRecordBatches, type SplitOptions } from '../../copybooks/record-stream';
import { items, layoutOf, recordFor } from './random-copybook';

// The JSON line writer (copybook decode's output written from the record's bytes) against the
// path it replaces: decodeRecordBatches, then JSON.stringify per record. Every test compares
// bytes: the same lines, the same bad records reported, on the fixtures, the Cobrix corpus in
// every code page and option, and random copybooks.

const fixtures = join(__dirname, '..', 'fixtures');

function chunked(data: Buffer, size: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let p = 0; p < data.length; p += size) parts.push(data.subarray(p, p + size));
  return Readable.from(parts);
}

interface Output {
  readonly text: Buffer;
  readonly failures: readonly string[];
}

/** The old `copybook decode --format jsonl` path: decoded objects, JSON.stringify, '\n' after each. */
async function viaStringify(data: Buffer, layout: Layout, options: RecordCodecOptions, split: SplitOptions) {
  const decoder = createRecordDecoder(layout, options);
  const lines: string[] = [];
  const failures: string[] = [];
  for await (const batch of decodeRecordBatches(chunked(data, 4096), decoder, split)) {
    for (const r of batch) {
      if (r.ok) lines.push(`${JSON.stringify(r.value)}\n`);
      else failures.push(r.error.describe());
    }
  }
  return { text: Buffer.from(lines.join(''), 'utf8'), failures };
}

async function viaWriter(
  data: Buffer,
  layout: Layout,
  options: RecordCodecOptions,
  split: SplitOptions,
  chunk = 4096,
): Promise<Output & { written: number }> {
  const decoder = createRecordDecoder(layout, options);
  const writer = createRecordJsonWriter(layout, options);
  const parts: Buffer[] = [];
  const failures: string[] = [];
  for await (const batch of decodeJsonLines(chunked(data, chunk), decoder, writer, split)) {
    parts.push(batch.text);
    if (batch.failed !== undefined) failures.push(batch.failed.error.describe());
  }
  // How many lines the generated writer wrote itself (not through the fallback).
  let written = 0;
  if (writer !== undefined) {
    const out = new Uint8Array(writer.maxLineBytes);
    const size = split.recfm === 'fb' ? (split.lrecl ?? layout.size) : 0;
    if (size > 0)
      for (let p = 0; p + size <= data.length; p += size) if (writer.write(data, p, p + size, out, 0) >= 0) written++;
  }
  return { text: Buffer.concat(parts), failures, written };
}

describe('writeJsonString writes the bytes of JSON.stringify', () => {
  test('every control character, quote, backslash, DEL and C1 control', () => {
    const all = Array.from({ length: 0xa0 }, (_, c) => String.fromCharCode(c)).join('');
    const out = new Uint8Array(all.length * 6 + 2);
    const end = writeJsonString(all, out, 0);
    expect(Buffer.from(out.subarray(0, end)).toString('utf8')).toBe(JSON.stringify(all));
    expect(JSON.stringify('\u0000\u001f"\\\b\f\n\r\t')).toBe('"\\u0000\\u001f\\"\\\\\\b\\f\\n\\r\\t"');
  });

  test('2-, 3- and 4-byte UTF-8, and lone surrogates escaped as well-formed JSON.stringify does', () => {
    for (const s of [
      'Ñandú €5',
      '\u4e00\uffff\ufffd',
      '😀 \ud83d\ude00',
      '\ud800',
      'a\udc00b',
      '\ude00\ud83d',
      'x\ud83d',
    ]) {
      const out = new Uint8Array(s.length * 6 + 2);
      const end = writeJsonString(s, out, 0);
      expect(Buffer.from(out.subarray(0, end))).toEqual(Buffer.from(JSON.stringify(s), 'utf8'));
    }
  });

  test('random strings of any UTF-16 units', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme' }), (a, b) => {
        for (const s of [a, b, a + b]) {
          const out = new Uint8Array(s.length * 6 + 2);
          const end = writeJsonString(s, out, 0);
          expect(Buffer.from(out.subarray(0, end)).equals(Buffer.from(JSON.stringify(s), 'utf8'))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('records written as JSON lines from their bytes', () => {
  test.each(codePageNames)(
    '%s: all 256 bytes in a text field, trimmed or not: the bytes of JSON.stringify',
    async (name) => {
      const page = getCodePage(name);
      const layout = layoutFromText('       01 R.\n          05 T PIC X(16).\n          05 N PIC S9(3)V99 COMP-3.\n');
      const records: Buffer[] = [];
      for (let b = 0; b < 256; b += 8) {
        // Eight bytes, then the same eight with spaces after (the padding trim), then an amount.
        const r = Buffer.alloc(layout.size, page.space);
        for (let i = 0; i < 8; i++) r[i] = b + i;
        r.set([0x12, 0x34, 0x5d], 16);
        records.push(r);
      }
      const data = Buffer.concat(records);
      for (const trim of ['pad', 'none'] as const) {
        const options = { codePage: page, trim };
        const old = await viaStringify(data, layout, options, { recfm: 'fb' });
        const now = await viaWriter(data, layout, options, { recfm: 'fb' });
        expect(now.text.equals(old.text)).toBe(true);
        expect(now.failures).toEqual(old.failures);
        // The ascii page has no character for 0x80-0xFF: those records go to the decoder and fail.
        expect(now.written).toBe(page.total ? records.length : 16);
        expect(old.failures.length).toBe(page.total ? 0 : 16);
      }
    },
  );

  test('the loan-payment fixture: every line as before, each written by the generated writer', async () => {
    const layout = loadLayout(join(fixtures, 'copybooks', 'loan-payment-record.cpy'));
    const data = readFileSync(join(fixtures, 'copybooks', 'loan-payments.cp037.dat'));
    const options = { codePage: getCodePage('037') };
    const old = await viaStringify(data, layout, options, { recfm: 'fb' });
    const now = await viaWriter(data, layout, options, { recfm: 'fb' });
    expect(now.text.toString('utf8')).toBe(old.text.toString('utf8'));
    expect(now.text.equals(old.text)).toBe(true);
    expect(now.written).toBe(data.length / layout.size);
    // The lines are the fixture's JSON lines (numbers as the same decimal strings, names in UTF-8).
    const jsonl = readFileSync(join(fixtures, 'copybooks', 'loan-payments.jsonl'), 'utf8');
    const lines = now.text.toString('utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(
      jsonl
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown),
    );
  });

  test('bad records end their batch, in order; --strict can stop right after one', async () => {
    const layout = loadLayout(join(fixtures, 'copybooks', 'loan-payment-record.cpy'));
    const good = readFileSync(join(fixtures, 'copybooks', 'loan-payments.cp037.dat'));
    const bad = Buffer.from(good.subarray(0, layout.size));
    bad.fill(0x40, 0, layout.size); // all spaces: numbers blank, a typed error per number field
    const data = Buffer.concat([good, bad, good, Buffer.from([0xf1, 0xf2])]);
    const options = { codePage: getCodePage('037') };
    const old = await viaStringify(data, layout, options, { recfm: 'fb', file: 'P.DAT' });
    const now = await viaWriter(data, layout, options, { recfm: 'fb', file: 'P.DAT' }, 37);
    expect(now.text.equals(old.text)).toBe(true);
    expect(now.failures).toEqual(old.failures);
    expect(now.failures[0]).toContain('RECORD_INVALID');
    expect(now.failures[1]).toContain('RECORD_TRUNCATED');
    const decoder = createRecordDecoder(layout, options);
    const writer = createRecordJsonWriter(layout, options);
    const batches = [];
    for await (const b of decodeJsonLines(chunked(data, 1 << 20), decoder, writer, { recfm: 'fb' })) {
      batches.push(b);
      if (b.failed !== undefined) break;
    }
    const n = good.length / layout.size;
    expect(batches.map((b) => [b.good, b.failed?.index, b.seen])).toEqual([[n, n + 1, n + 1]]);
  });

  test('layouts the writer leaves to JSON.stringify: OCCURS DEPENDING ON, floats, duplicate or index-like keys', async () => {
    const page = getCodePage('037');
    for (const text of [
      '       01 R.\n          05 C PIC 9.\n          05 X PIC X(2) OCCURS 0 TO 3 DEPENDING ON C.\n',
      '       01 R.\n          05 F COMP-2.\n',
      '       01 R.\n          05 A PIC X.\n          05 G.\n             10 A PIC X.\n          05 A PIC X.\n',
    ]) {
      const layout = layoutFromText(text);
      expect(createRecordJsonWriter(layout, { codePage: page })).toBeUndefined();
      const data = Buffer.alloc(layout.size * 3, 0xf1);
      const old = await viaStringify(data, layout, { codePage: page }, { recfm: 'fb' });
      const now = await viaWriter(data, layout, { codePage: page }, { recfm: 'fb' });
      expect(now.text.equals(old.text)).toBe(true);
      expect(now.failures).toEqual(old.failures);
    }
  });
});

describe('the Cobrix corpus: the same bytes as before in every code page and option', () => {
  const root = join(fixtures, 'cobrix');
  const cases = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

  test.each(cases)('%s', async (name) => {
    const c = JSON.parse(readFileSync(join(root, name, 'case.json'), 'utf8')) as {
      copybook: string;
      data: string;
      record_length?: number;
      expected: { options_used_by_cobrix_test: Record<string, string> }[];
    };
    let layout: Layout;
    try {
      layout = layoutFromText(readFileSync(join(root, name, c.copybook), 'latin1'));
    } catch (err) {
      // BINARY above 18 digits: that copybook is refused (copybooks/README.md); no record to write.
      expect(err).toBeInstanceOf(CopybookError);
      return;
    }
    const data = readFileSync(join(root, name, c.data));
    const ascii = c.expected.some((e) => e.options_used_by_cobrix_test.encoding === 'ascii');
    const pages: CodePage[] = (ascii ? ['ascii', 'latin1'] : ['037', '500', '284', '1047', '1140', '1145']).map((p) =>
      getCodePage(p),
    );
    const split: SplitOptions = name.startsWith('variable-ebcdic')
      ? { recfm: 'vb', rdw: 'data', file: c.data }
      : { recfm: 'fb', lrecl: c.record_length ?? layout.size, file: c.data };
    let records = 0;
    for (const [i, codePage] of pages.entries()) {
      for (const trim of ['pad', 'none'] as const) {
        const options = { codePage, trim, root: i % 2 === 0 ? ('auto' as const) : ('keep' as const) };
        const old = await viaStringify(data, layout, options, split);
        const now = await viaWriter(data, layout, options, split, 1000);
        expect(now.text.equals(old.text)).toBe(true);
        expect(now.failures).toEqual(old.failures);
        records += old.text.toString('utf8').split('\n').length - 1 + old.failures.length;
      }
    }
    expect(records).toBeGreaterThan(0);
  });
});

describe('random copybooks and records', () => {
  test.each(codePageNames)(
    '%s: the line is JSON.stringify of what the decoder returns, or the writer declines',
    (name) => {
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
      let written = 0;
      fc.assert(
        fc.property(scenario, ({ list, record, changes, trim, root }) => {
          const layout = layoutOf(list);
          const encoder = createRecordEncoder(layout, { codePage: page, defaults: 'blank', plan: 'full' });
          let bytes: Buffer;
          try {
            bytes = Buffer.from(encoder.encode(record));
          } catch (err) {
            if (!(err instanceof CopybookError)) throw err;
            bytes = Buffer.alloc(layout.size, page.space);
          }
          for (const [at, b] of changes) bytes[at % bytes.length] = b;
          const options = { codePage: page, trim, root };
          const writer = createRecordJsonWriter(layout, options);
          expect(writer).toBeDefined();
          if (writer === undefined) return;
          const out = new Uint8Array(writer.maxLineBytes + 8).fill(0xee);
          const end = writer.write(bytes, 0, bytes.length, out, 4);
          const decoded = createRecordDecoder(layout, options).decodeValid(bytes);
          if (end < 0) {
            // Declining is allowed only where the decoder's own fast path declines too.
            expect(decoded).toBeUndefined();
            return;
          }
          written++;
          expect(end - 4).toBeLessThanOrEqual(writer.maxLineBytes);
          expect(out[end]).toBe(0xee);
          expect(Buffer.from(out.subarray(4, end)).toString('utf8')).toBe(`${JSON.stringify(decoded)}\n`);
        }),
        { numRuns: 80 },
      );
      // Not vacuous: a fair share of the random records are valid and written by the generated code.
      expect(written).toBeGreaterThan(8);
    },
  );
});
