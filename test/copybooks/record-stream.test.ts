import { Readable } from 'node:stream';
import fc from 'fast-check';
import { getCodePage } from '../../copybooks/code-page';
import { layoutFromText } from '../../copybooks/copybook-layout';
import { createRecordDecoder } from '../../copybooks/record-decoder';
import { createRecordJsonWriter } from '../../copybooks/record-json-writer';
import {
  decodeJsonLines,
  decodeRecordBatches,
  decodeRecords,
  splitRecords,
  type DecodeResult,
  type SplitResult,
} from '../../copybooks/record-stream';

function chunked(data: Buffer, sizes: readonly number[]): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  let p = 0;
  let i = 0;
  while (p < data.length) {
    const n = Math.max(1, sizes[i % Math.max(sizes.length, 1)] ?? data.length);
    parts.push(data.subarray(p, p + n));
    p += n;
    i++;
  }
  return Readable.from(parts);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const layout = layoutFromText('       01 R.\n          05 ID PIC 9(3).\n          05 AMT PIC S9(3)V99 COMP-3.\n');
const page = getCodePage('037');

function ebcdic(text: string): Buffer {
  return Buffer.from([...text].map((c) => 0xf0 + Number(c)));
}

describe('FB records', () => {
  test('records split the same whatever the chunk boundaries', async () => {
    const data = Buffer.concat([
      ebcdic('001'),
      Buffer.from('00123C', 'hex'),
      ebcdic('002'),
      Buffer.from('00456D', 'hex'),
    ]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }), async (sizes) => {
        const got = await collect(
          decodeRecords(chunked(data, sizes), createRecordDecoder(layout, { codePage: page }), { recfm: 'fb' }),
        );
        expect(got).toEqual([
          { ok: true, index: 1, offset: 0, length: 6, value: { ID: '1', AMT: '1.23' } },
          { ok: true, index: 2, offset: 6, length: 6, value: { ID: '2', AMT: '-4.56' } },
        ]);
      }),
    );
  });

  test('records straddling chunks (completed apart from the rest of the chunk): the same records, errors and JSON lines as in one chunk', async () => {
    const good = (i: number): Buffer =>
      Buffer.concat([
        ebcdic(String(i % 1000).padStart(3, '0')),
        Buffer.from(`00${String(i % 100).padStart(2, '0')}3C`, 'hex'),
      ]);
    const bad = Buffer.concat([ebcdic('00'), Buffer.from([0x40]), Buffer.from('00123C', 'hex')]);
    const scenario = fc.record({
      count: fc.integer({ min: 1, max: 40 }),
      badAt: fc.integer({ min: -1, max: 39 }),
      tail: fc.integer({ min: 0, max: 5 }),
      sizes: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
    });
    const all = async (data: Buffer, sizes: readonly number[]) => {
      const decoder = createRecordDecoder(layout, { codePage: page });
      const writer = createRecordJsonWriter(layout, { codePage: page });
      const split = { recfm: 'fb' as const, file: 'pay.dat' };
      const records = (await collect(splitRecords(chunked(data, sizes), { ...split, lrecl: 6 }))).map((r) =>
        r.ok ? [r.record.index, r.record.offset, r.record.bytes.toString('hex')] : r.error.describe(),
      );
      const batches = (await collect(decodeRecordBatches(chunked(data, sizes), decoder, split)))
        .flat()
        .map((r) => (r.ok ? r : [r.index, r.offset, r.error.describe()]));
      const lines: string[] = [];
      for await (const b of decodeJsonLines(chunked(data, sizes), decoder, writer, split)) {
        lines.push(b.text.toString('utf8'));
        if (b.failed !== undefined) lines.push(b.failed.error.describe());
      }
      return { records, batches, lines: lines.join('') };
    };
    await fc.assert(
      fc.asyncProperty(scenario, async ({ count, badAt, tail, sizes }) => {
        const data = Buffer.concat([
          ...Array.from({ length: count }, (_, i) => (i === badAt ? bad : good(i))),
          good(999).subarray(0, tail),
        ]);
        const whole = await all(data, [data.length]);
        expect(whole.records.length).toBe(count + (tail > 0 ? 1 : 0));
        expect(await all(data, sizes)).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  test('a bad record is reported with file, record number, file offset, field and hex, and the next one still decodes', async () => {
    const data = Buffer.concat([
      ebcdic('001'),
      Buffer.from('00123C', 'hex'),
      ebcdic('00'),
      Buffer.from([0x40]),
      Buffer.from('00456D', 'hex'),
      ebcdic('003'),
      Buffer.from('00000C', 'hex'),
    ]);
    const got = await collect(
      decodeRecords(chunked(data, [5]), createRecordDecoder(layout, { codePage: page }), {
        recfm: 'fb',
        file: 'pay.dat',
      }),
    );
    expect(got.map((r) => r.ok)).toEqual([true, false, true]);
    const bad = got[1] as Extract<DecodeResult, { ok: false }>;
    expect(bad.error.code).toBe('RECORD_INVALID');
    expect(bad.error.errors[0]?.context).toMatchObject({
      file: 'pay.dat',
      record: 2,
      offset: 6,
      field: 'R.ID',
      hex: 'F0F040',
    });
    expect(bad.error.describe()).toContain('ZONED_INVALID');
  });

  test('a truncated last record is an error, not a short record', async () => {
    const data = Buffer.concat([ebcdic('001'), Buffer.from('00123C', 'hex'), ebcdic('00')]);
    const got = await collect(splitRecords(chunked(data, [4]), { recfm: 'fb', lrecl: 6, file: 'pay.dat' }));
    expect(got).toHaveLength(2);
    const last = got[1] as Extract<SplitResult, { ok: false }>;
    expect(last.error.code).toBe('RECORD_TRUNCATED');
    expect(last.error.context).toMatchObject({ file: 'pay.dat', record: 2, offset: 6, hex: 'F0F0' });
  });
});

describe('VB records', () => {
  const rec = (body: Buffer, ibm = true): Buffer => {
    const rdw = Buffer.alloc(4);
    rdw.writeUInt16BE(body.length + (ibm ? 4 : 0), 0);
    return Buffer.concat([rdw, body]);
  };

  test('the RDW length counts itself (IBM) by default; --rdw data counts only the data', async () => {
    const a = Buffer.from('C1C2C3', 'hex');
    const b = Buffer.from('C4', 'hex');
    for (const [mode, ibm] of [
      ['ibm', true],
      ['data', false],
    ] as const) {
      const got = await collect(
        splitRecords(chunked(Buffer.concat([rec(a, ibm), rec(b, ibm)]), [3]), { recfm: 'vb', rdw: mode }),
      );
      expect(
        got.map((r) => (r.ok ? [r.record.index, r.record.offset, r.record.bytes.toString('hex')] : r.error.code)),
      ).toEqual([
        [1, 4, 'c1c2c3'],
        [2, 11, 'c4'],
      ]);
    }
  });

  test('a malformed RDW stops the file with RDW_INVALID', async () => {
    const got = await collect(splitRecords(chunked(Buffer.from('0008010041424344', 'hex'), [64]), { recfm: 'vb' }));
    expect(got).toEqual([
      expect.objectContaining({ ok: false, fatal: true, error: expect.objectContaining({ code: 'RDW_INVALID' }) }),
    ]);
  });

  test('a record shorter than the copybook decodes the fields it holds; fields wholly past its end are absent', async () => {
    const l = layoutFromText('       01 R.\n          05 A PIC X(2).\n          05 B PIC X(3).\n');
    const got = await collect(
      decodeRecords(chunked(rec(Buffer.from('C1C2', 'hex')), [64]), createRecordDecoder(l, { codePage: page }), {
        recfm: 'vb',
      }),
    );
    expect(got).toEqual([{ ok: true, index: 1, offset: 4, length: 2, value: { A: 'AB' } }]);
  });

  test('a field cut by the end of a short record is FIELD_BEYOND_RECORD', async () => {
    const l = layoutFromText('       01 R.\n          05 A PIC X(2).\n          05 B PIC X(3).\n');
    const got = await collect(
      decodeRecords(chunked(rec(Buffer.from('C1C2C3', 'hex')), [64]), createRecordDecoder(l, { codePage: page }), {
        recfm: 'vb',
      }),
    );
    expect(got[0]?.ok).toBe(false);
    expect(got[0]?.ok === false ? got[0].error.errors[0]?.code : undefined).toBe('FIELD_BEYOND_RECORD');
  });
});

describe('memory stays flat', () => {
  test('only the bytes of the current chunk and one partial record are held', async () => {
    // 19,600 records streamed in 4,200-byte chunks: every record is a view into a buffer no larger
    // than one chunk plus one partial record, so memory does not grow with the file.
    const rec = Buffer.concat([ebcdic('123'), Buffer.from('00123C', 'hex')]);
    async function* source(): AsyncGenerator<Buffer> {
      const block = Buffer.concat(Array.from({ length: 700 }, () => rec)); // 4200 bytes, not a multiple of 4096
      for (let i = 0; i < 28; i++) {
        // cut off the record grid so that records straddle chunks
        yield block.subarray(0, 4097);
        yield block.subarray(4097);
      }
    }
    let maxBacking = 0;
    let n = 0;
    for await (const r of splitRecords(source(), { recfm: 'fb', lrecl: 6 })) {
      if (!r.ok) throw r.error;
      // (small buffers live in Node's shared 8 KB pool slab, which is not ours to count)
      const backing = r.record.bytes.buffer.byteLength;
      if (backing !== Buffer.poolSize) maxBacking = Math.max(maxBacking, backing);
      n++;
    }
    expect(n).toBe(28 * 700);
    expect(maxBacking).toBeLessThanOrEqual(4200 + 6);
  });
});
