import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { codePageNames, getCodePage } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { layoutFromText, loadLayout } from '../../copybooks/copybook-layout';
import { compileJsonLineFastPath } from '../../copybooks/json-line-encoder';
import { isBlankLine, splitLines } from '../../copybooks/line-splitter';
import { codecFor, createRecordDecoder } from '../../copybooks/record-decoder';
import { createRecordEncoder, type RecordEncoder } from '../../copybooks/record-encoder';
import { items, layoutOf, recordFor } from './random-copybook';

// `copybook encode` reads each JSON line's bytes (encoder.encodeLine) instead of JSON.parse and
// encode. These tests hold it to the old path: for any line, the same bytes or the same error;
// and lines in the decoder's shape are taken by the generated code, not the fallback.

const fixtures = join(__dirname, '..', 'fixtures', 'copybooks');

type Outcome = { bytes: string } | { error: string };

function outcome(run: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(run()).toString('hex') };
  } catch (err) {
    if (!(err instanceof CopybookError)) throw err;
    return { error: err.describe() };
  }
}

/** The old per-line path of copybook encode. */
function viaParse(encoder: RecordEncoder, line: string): Outcome {
  return outcome(() => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CopybookError('INPUT_INVALID', `line is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    return encoder.encode(value);
  });
}

function viaBytes(encoder: RecordEncoder, line: string): Outcome {
  // The line inside a larger buffer, as it sits in a chunk: nothing past its end may be read.
  const buf = Buffer.from(`{"X":"1"}\n${line}\n{"Y":[1,2]}`, 'utf8');
  const start = Buffer.byteLength('{"X":"1"}\n');
  return outcome(() => encoder.encodeLine(buf, start, start + Buffer.byteLength(line)));
}

function fastPathOf(encoder: RecordEncoder) {
  const layout = encoder.layout;
  const page = getCodePage('037');
  return compileJsonLineFastPath(layout, {
    codePage: page,
    top: layout.roots.length === 1 && layout.roots[0]?.kind === 'group' ? layout.roots[0].children : layout.roots,
    codecFor: (f) => codecFor(f, page, 'pad'),
    fillerBytes: () => undefined,
  });
}

describe('encoding JSON lines from their bytes', () => {
  test('the loan-payment lines: the golden bytes, each read by the generated code', () => {
    const layout = loadLayout(join(fixtures, 'loan-payment-record.cpy'));
    const encoder = createRecordEncoder(layout, { codePage: getCodePage('037') });
    const golden = readFileSync(join(fixtures, 'loan-payments.cp037.dat'));
    const lines = readFileSync(join(fixtures, 'loan-payments.jsonl'), 'utf8').split('\n').filter(Boolean);
    const fast = fastPathOf(encoder);
    lines.forEach((line, i) => {
      const buf = Buffer.from(line, 'utf8');
      expect(Buffer.from(encoder.encodeLine(buf, 0, buf.length))).toEqual(
        golden.subarray(i * layout.size, (i + 1) * layout.size),
      );
      const out = new Uint8Array(layout.size).fill(0x40);
      expect(fast?.(buf, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), 0, buf.length, out)).toBe(true);
      expect(Buffer.from(out)).toEqual(golden.subarray(i * layout.size, (i + 1) * layout.size));
    });
  });

  test('lines the generated code declines give what JSON.parse and encode give', () => {
    const layout = loadLayout(join(fixtures, 'loan-payment-record.cpy'));
    const encoder = createRecordEncoder(layout, { codePage: getCodePage('037') });
    const line = readFileSync(join(fixtures, 'loan-payments.jsonl'), 'utf8').split('\n')[0] ?? '';
    const record = JSON.parse(line) as Record<string, unknown>;
    const variants = [
      line,
      ` ${line}`,
      `${line} \t`,
      line.replace(',', ', '),
      line.replace('"PD"', '"P\\u0044"'),
      line.replace('"PD"', '"P\\""'),
      line.replace('"1250.75"', '1250'),
      line.replace('"1250.75"', '"1250.7"'),
      line.replace('"1250.75"', '"+1250.75"'),
      line.replace('"1250.75"', '"12345678901234.75"'),
      line.replace('"1250.75"', '"1250.755"'),
      line.replace('"1250.75"', '"-1250.75"'),
      line.replace('"USD"', '"€€"'),
      line.replace('"USD"', '"\u4e00"'),
      line.replace('"USD"', '"😀"'),
      line.replace('"USD"', '"US\tD"'),
      line.replace('Ana Núñez', 'x'.repeat(41)),
      line.replace('Ana Núñez', 'Ñ'.repeat(40)),
      line.replace('"A"}', '"A","EXTRA":"1"}'),
      line.replace('"A"}', '"A"}x'),
      line.replace('"A"}', '"A"'),
      line.replace('"STATUS":"A"', '"STATUS":"A","STATUS":"B"'),
      line.replace('"PAY-DD":"23"', '"PAY-DD":"24"'), // the REDEFINES views disagree
      JSON.stringify({ ...record, 'PAYMENT-DATE-PARTS': undefined }), // one view only
      JSON.stringify(Object.fromEntries(Object.entries(record).reverse())),
      '{}',
      '[]',
      'null',
      '{',
      '',
    ];
    for (const v of variants) expect([v, viaBytes(encoder, v)]).toEqual([v, viaParse(encoder, v)]);
  });

  test('a line cut anywhere, with the rest of its text after it in the buffer or at the buffer end: read as cut', () => {
    // The generated code scans values without comparing each position with the line end: a
    // value cut by the end runs on into the bytes after it, and the line must still be declined.
    const layout = loadLayout(join(fixtures, 'loan-payment-record.cpy'));
    const encoder = createRecordEncoder(layout, { codePage: getCodePage('037') });
    const fast = fastPathOf(encoder);
    const line = readFileSync(join(fixtures, 'loan-payments.jsonl'), 'utf8').split('\n')[0] ?? '';
    const whole = Buffer.from(line, 'utf8');
    let cuts = 0;
    for (let cut = 1; cut < whole.length; cut++) {
      const prefix = whole.toString('utf8', 0, cut);
      if (Buffer.byteLength(prefix) !== cut) continue; // inside a UTF-8 sequence
      const expected = viaParse(encoder, prefix);
      expect('error' in expected).toBe(true);
      // The rest of the line right after the cut: a scan past the end would find valid values.
      expect([cut, outcome(() => encoder.encodeLine(whole, 0, cut))]).toEqual([cut, expected]);
      const alone = Buffer.from(whole.subarray(0, cut));
      expect([cut, outcome(() => encoder.encodeLine(alone, 0, cut))]).toEqual([cut, expected]);
      const out = new Uint8Array(layout.size).fill(0x40);
      const view = new DataView(alone.buffer, alone.byteOffset, alone.byteLength);
      expect([cut, fast?.(alone, view, 0, cut, out)]).toEqual([cut, false]);
      cuts++;
    }
    expect(cuts).toBeGreaterThan(200);
    // The whole line inside other text (no break after it) is still read.
    const inText = Buffer.from(`xx${line}yy`, 'utf8');
    expect(Buffer.from(encoder.encodeLine(inText, 2, 2 + whole.length))).toEqual(
      Buffer.from(encoder.encodeLine(whole, 0, whole.length)),
    );
  });

  test('FILLER VALUE SPACES: left to the space fill alone, written inside a REDEFINES view (a conflict stays one)', () => {
    const layout = layoutFromText(
      [
        '       01 R.',
        '          05 A PIC X(6).',
        '          05 B REDEFINES A.',
        '             10 FILLER PIC X(3) VALUE SPACES.',
        '             10 C PIC X(3).',
        '          05 FILLER PIC X(2) VALUE SPACES.',
        '          05 D PIC 9(2).',
        '',
      ].join('\n'),
    );
    const page = getCodePage('037');
    const encoder = createRecordEncoder(layout, { codePage: page });
    const full = createRecordEncoder(layout, { codePage: page, plan: 'full' });
    const cases: [string, string][] = [
      ['{"A":"abcdef","D":"07"}', '8182838485864040f0f7'],
      ['{"B":{"C":"def"},"D":"7"}', '404040848586' + '4040f0f7'],
      ['{"A":"   def","B":{"C":"def"},"D":"07"}', '404040848586' + '4040f0f7'],
      ['{"A":"abcdef","B":{"C":"def"},"D":"07"}', 'REDEFINES_CONFLICT'],
    ];
    for (const [line, want] of cases) {
      const expected = viaParse(full, line);
      expect([line, 'bytes' in expected ? expected.bytes : expected.error]).toEqual([
        line,
        expect.stringContaining(want),
      ]);
      expect([line, viaBytes(encoder, line)]).toEqual([line, expected]);
      expect([line, viaParse(encoder, line)]).toEqual([line, expected]);
    }
  });

  test('invalid UTF-8 in a value: the same error as the text readline would have made', () => {
    const layout = layoutFromText('       01 R.\n          05 T PIC X(4).\n          05 N PIC 9(2) COMP-3.\n');
    const encoder = createRecordEncoder(layout, { codePage: getCodePage('1140') });
    for (const bad of [[0xc3], [0xe2, 0x82], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xff], [0xf0, 0x9f, 0x98, 0x80]]) {
      const line = Buffer.concat([Buffer.from('{"T":"a'), Buffer.from(bad), Buffer.from('","N":"12"}')]);
      const got = outcome(() => encoder.encodeLine(line, 0, line.length));
      expect(got).toEqual(viaParse(encoder, line.toString('utf8')));
      expect('error' in got).toBe(true);
    }
  });

  test.each(codePageNames)('%s: random records, valid or not, as lines: the same bytes or the same error', (name) => {
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
        const encoder = createRecordEncoder(layout, {
          codePage: page,
          occurs,
          defaults: blank ? 'blank' : 'none',
        });
        const line = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        expect(viaBytes(encoder, line)).toEqual(viaParse(encoder, line));
      }),
      { numRuns: 40 },
    );
  });

  test.each(codePageNames)(
    '%s: every record the decoder prints without escapes is read by the generated code',
    (name) => {
      const page = getCodePage(name);
      const plain = items.map((list) => list.filter((it) => it.kind !== 'filler'));
      const scenario = plain
        .filter((list) => list.length > 0)
        .chain((list) =>
          fc.record({ list: fc.constant(list), bytes: fc.uint8Array({ minLength: 600, maxLength: 600 }) }),
        );
      let taken = 0;
      fc.assert(
        fc.property(scenario, ({ list, bytes }) => {
          const layout = layoutOf(list);
          const decoded = createRecordDecoder(layout, { codePage: page, plan: 'full' }).decodeAll(bytes);
          fc.pre(decoded.errors.length === 0);
          const encoder = createRecordEncoder(layout, { codePage: page });
          const expected = outcome(() => encoder.encode(decoded.value));
          fc.pre('bytes' in expected);
          const text = JSON.stringify(decoded.value);
          // Escapes (control characters, quotes, backslashes in text) are left to JSON.parse.
          fc.pre(!text.includes('\\'));
          const line = Buffer.from(text, 'utf8');
          const fast = compileJsonLineFastPath(layout, {
            codePage: page,
            top: layout.roots[0]?.kind === 'group' ? layout.roots[0].children : layout.roots,
            codecFor: (f) => codecFor(f, page, 'pad'),
            fillerBytes: () => undefined,
          });
          const out = new Uint8Array(layout.size).fill(page.space);
          expect(fast?.(line, new DataView(line.buffer, line.byteOffset, line.byteLength), 0, line.length, out)).toBe(
            true,
          );
          expect({ bytes: Buffer.from(out).toString('hex') }).toEqual(expected);
          taken++;
        }),
        { numRuns: 40 },
      );
      expect(taken).toBeGreaterThan(0);
    },
  );
});

describe('lines split as readline splits them', () => {
  async function viaReadline(data: Buffer, chunk: number): Promise<string[]> {
    const parts: Buffer[] = [];
    for (let p = 0; p < data.length; p += chunk) parts.push(data.subarray(p, p + chunk));
    const lines: string[] = [];
    for await (const line of createInterface({ input: Readable.from(parts), crlfDelay: Infinity })) lines.push(line);
    return lines;
  }

  async function viaSplitter(data: Buffer, chunk: number): Promise<string[]> {
    const parts: Buffer[] = [];
    for (let p = 0; p < data.length; p += chunk) parts.push(data.subarray(p, p + chunk));
    const lines: string[] = [];
    for await (const { buf, ranges } of splitLines(Readable.from(parts))) {
      for (let k = 0; k < ranges.length; k += 2) lines.push(buf.toString('utf8', ranges[k], ranges[k + 1]));
    }
    return lines;
  }

  test('LF, CRLF, lone CR, blank lines and a last line without a break, in any chunking', async () => {
    const pieces = fc.array(fc.constantFrom('{"A":"1"}', 'ab', 'ñ€', ' ', '\n', '\r', '\r\n', '\n\n', '\t'), {
      maxLength: 30,
    });
    await fc.assert(
      fc.asyncProperty(pieces, fc.integer({ min: 1, max: 12 }), async (list, chunk) => {
        const data = Buffer.from(list.join(''), 'utf8');
        expect(await viaSplitter(data, chunk)).toEqual(await viaReadline(data, chunk));
      }),
      { numRuns: 300 },
    );
  });

  test('blank lines are those String.prototype.trim empties', () => {
    for (const s of ['', ' ', '\t \t', '\u00a0', '\ufeff', '\u2028', ' {}', 'x', '\u00a0x']) {
      const buf = Buffer.from(s, 'utf8');
      expect([s, isBlankLine(buf, 0, buf.length)]).toEqual([s, s.trim() === '']);
    }
  });
});
