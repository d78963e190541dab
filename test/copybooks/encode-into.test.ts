import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openAtomicFile } from '../../copybooks/atomic-file-writer';
import { codePageNames, getCodePage } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { loadLayout } from '../../copybooks/copybook-layout';
import { createRecordEncoder, type RecordEncoder } from '../../copybooks/record-encoder';
import { items, layoutOf, recordFor } from './random-copybook';

// encodeInto / encodeLineInto write a record straight into a caller's buffer (the atomic writer's,
// in `copybook encode`), through the same generated fast paths as encode / encodeLine. Held here
// against the full plan (`plan: 'full'`, the reference path): the same bytes at any offset, nothing
// written outside the record, and the same errors, for random copybooks and records (valid or not)
// in every code page; and the writer's reserve/advance path gives the file write() gives.

type Outcome = { bytes: string } | { error: string };

const GUARD = 0xa5;

function outcome(run: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(run()).toString('hex') };
  } catch (err) {
    if (!(err instanceof CopybookError)) throw err;
    return { error: err.describe() };
  }
}

/** Runs an *Into call at `offset` in a guarded buffer: the bytes it wrote, and a check of the guards. */
function into(encoder: RecordEncoder, offset: number, write: (target: Uint8Array, at: number) => number): Uint8Array {
  const size = encoder.layout.size;
  const target = new Uint8Array(offset + size + 7).fill(GUARD);
  const n = write(target, offset);
  expect(n).toBeLessThanOrEqual(size);
  for (let i = 0; i < offset; i++) expect(target[i]).toBe(GUARD);
  for (let i = offset + size; i < target.length; i++) expect(target[i]).toBe(GUARD);
  return target.subarray(offset, offset + n);
}

describe('encodeInto and encodeLineInto give what the full plan gives', () => {
  test.each(codePageNames)('%s: random records, valid or not, at any offset: same bytes or same error', (name) => {
    const page = getCodePage(name);
    const scenario = items.chain((list) =>
      fc.record({
        list: fc.constant(list),
        record: recordFor(list, page),
        offset: fc.integer({ min: 0, max: 300 }),
        blank: fc.boolean(),
        occurs: fc.constantFrom('fixed' as const, 'packed' as const),
      }),
    );
    let taken = 0;
    fc.assert(
      fc.property(scenario, ({ list, record, offset, blank, occurs }) => {
        const layout = layoutOf(list);
        const options = { codePage: page, occurs, defaults: blank ? ('blank' as const) : ('none' as const) };
        const encoder = createRecordEncoder(layout, options);
        const reference = createRecordEncoder(layout, { ...options, plan: 'full' });
        const expected = outcome(() => reference.encode(record));
        if ('bytes' in expected) taken++;
        expect(outcome(() => into(encoder, offset, (t, at) => encoder.encodeInto(record, t, at)))).toEqual(expected);
        // The same record as a JSON line (the fast line path for decode's shape, JSON.parse else),
        // between other bytes; the reference is encode(JSON.parse(line)) (a bigint becomes a string).
        const text = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        const line = Buffer.from(`  ${text}\r`, 'utf8');
        const end = line.length - 1;
        const fromLine = outcome(() => reference.encode(JSON.parse(text)));
        expect(outcome(() => into(encoder, offset, (t, at) => encoder.encodeLineInto(line, 2, end, t, at)))).toEqual(
          fromLine,
        );
        expect(outcome(() => encoder.encodeLine(line, 2, end))).toEqual(fromLine);
      }),
      { numRuns: 60 },
    );
    expect(taken).toBeGreaterThan(0);
  });

  const fixture = loadLayout(join(__dirname, '..', 'fixtures', 'copybooks', 'loan-payment-record.cpy'));
  const good = {
    'RECORD-TYPE': 'PD',
    'PAYMENT-ID': '0f6b1c2e-8a8d-4c53-9d0e-3b7a4f1e2d9c',
    'LOAN-ACCOUNT': 'LN-2024-000017',
    'CUSTOMER-NAME': 'Søren Ødegård',
    'PAYMENT-DATE': '20261202',
    'PAYMENT-DATE-PARTS': { 'PAY-YYYY': '2026', 'PAY-MM': '12', 'PAY-DD': '2' },
    'VALUE-DATE': '20261203',
    AMOUNT: '-12345678901.25',
    PRINCIPAL: '1250.75',
    INTEREST: '0.01',
    FEES: '-7.10',
    ADJUSTMENT: '-0.00',
    CURRENCY: 'PEN',
    CHANNEL: 'MOBILE',
    'SEQUENCE-NO': '999999999',
    'INSTALMENT-NO': '-360',
    RATE: '0.1234567',
    BRANCH: '00042',
    STATUS: 'A',
  };
  // Each a different check of the fast path that must decline, so that the full plan reports it.
  const bad: Record<string, unknown>[] = [
    { ...good, 'CUSTOMER-NAME': 'Zoë € 漢' },
    { ...good, 'CUSTOMER-NAME': 'x'.repeat(41) },
    { ...good, AMOUNT: '1.234' },
    { ...good, AMOUNT: '12345678901234.00' },
    { ...good, FEES: '1e3' },
    { ...good, 'SEQUENCE-NO': '-1' },
    { ...good, 'INSTALMENT-NO': '40000' },
    { ...good, 'PAYMENT-DATE-PARTS': { 'PAY-YYYY': '2026', 'PAY-MM': '11', 'PAY-DD': '2' } },
    { ...good, EXTRA: 'x' },
    { ...good, STATUS: 1 },
    Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'RATE')),
  ];

  test.each(codePageNames)('%s: the fixture record and its faults: same bytes, same errors', (name) => {
    const page = getCodePage(name);
    const encoder = createRecordEncoder(fixture, { codePage: page });
    const reference = createRecordEncoder(fixture, { codePage: page, plan: 'full' });
    for (const record of [good, ...bad]) {
      const expected = outcome(() => reference.encode(record));
      if (record !== good) expect(Object.keys(expected)).toEqual(['error']);
      const line = Buffer.from(JSON.stringify(record), 'utf8');
      for (const offset of [0, 1, 200, 333]) {
        expect(outcome(() => into(encoder, offset, (t, at) => encoder.encodeInto(record, t, at)))).toEqual(expected);
        expect(
          outcome(() => into(encoder, offset, (t, at) => encoder.encodeLineInto(line, 0, line.length, t, at))),
        ).toEqual(expected);
      }
    }
    // The good record is written in every code page that has its characters (ascii lacks ø).
    expect(Object.keys(outcome(() => encoder.encode(good)))).toEqual([name === 'ascii' ? 'error' : 'bytes']);
  });

  test('a target without room for the record is a RangeError, before anything is written', () => {
    const encoder = createRecordEncoder(fixture, { codePage: getCodePage('037') });
    const target = new Uint8Array(250).fill(GUARD);
    expect(() => encoder.encodeInto(good, target, 51)).toThrow(RangeError);
    expect(() => encoder.encodeLineInto(Buffer.from(JSON.stringify(good)), 0, 10, target, -1)).toThrow(RangeError);
    expect(target.every((b) => b === GUARD)).toBe(true);
    expect(encoder.encodeInto(good, target, 50)).toBe(200);
  });
});

describe('the atomic writer: reserve/advance beside write', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'encode-into-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('records written in place, by write, and larger than the buffer, in order, over many flushes', async () => {
    const target = join(dir, 'out.dat');
    const w = await openAtomicFile(target);
    const expected: Buffer[] = [];
    let seed = 7;
    for (let i = 0; i < 30_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const size = 1 + (seed % 300);
      const bytes = Buffer.alloc(size, i & 0xff);
      bytes[0] = (i >> 8) & 0xff;
      expected.push(bytes);
      if (i % 3 === 0) {
        const pending = w.write(bytes);
        if (pending !== undefined) await pending;
      } else {
        const room = w.reserve(size + 10);
        if (room !== undefined) await room;
        w.buffer.set(bytes, w.position);
        w.advance(size);
      }
      if (i === 20_000) {
        const big = Buffer.alloc(3 << 20, 0x5a);
        expected.push(big);
        const room = w.reserve(big.length);
        if (room !== undefined) await room;
        w.buffer.set(big, w.position);
        w.advance(big.length);
      }
    }
    expect(readdirSync(dir)).toHaveLength(1);
    expect(readdirSync(dir)[0]).toMatch(/^\.out\.dat\..*\.tmp$/);
    await w.commit();
    expect(readdirSync(dir)).toEqual(['out.dat']);
    expect(readFileSync(target).equals(Buffer.concat(expected))).toBe(true);
  });

  test('abort while a flush is in flight leaves nothing', async () => {
    const w = await openAtomicFile(join(dir, 'out.dat'));
    for (let i = 0; i < 3000; i++) {
      const room = w.reserve(1000);
      if (room !== undefined) await room;
      w.buffer.fill(1, w.position, w.position + 1000);
      w.advance(1000);
    }
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
