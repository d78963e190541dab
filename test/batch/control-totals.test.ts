import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchError } from '../../batch/batch-errors';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import type { RequestDetail } from '../../batch/request-detail-record';
import { readRequestFile } from '../../batch/request-file-reader';
import { writeRequestFile } from '../../batch/request-file-writer';
import { readResponseFile } from '../../batch/response-file-reader';
import { SAMPLE_REQUEST_NAME, SAMPLE_RESPONSE_NAME, sampleDetails, sampleHeader, zoned } from './golden-records';

// The trailer's control totals and hash total catch a changed amount, a dropped detail and a changed
// loan number: the readers name the file, the record, the byte offset and the field, with the stated
// and the computed figure. The writer refuses to finish a file that would not add up, and leaves
// nothing behind (no final file, no temporary file). Tampered copies of test/fixtures/batch.

const page = mainframeCodePage('cp037');
const fixtures = path.join(__dirname, '..', 'fixtures', 'batch');
const request = fs.readFileSync(path.join(fixtures, `${SAMPLE_REQUEST_NAME}.cp037`));
const response = fs.readFileSync(path.join(fixtures, `${SAMPLE_RESPONSE_NAME}.cp037`));
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-totals-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What an operator sees of each problem. */
function found(problems: readonly BatchError[]): Record<string, unknown>[] {
  return problems.map((p) => ({ code: p.code, ...p.context }));
}

async function readTampered(bytes: Buffer): Promise<Record<string, unknown>[]> {
  const file = path.join(dir, SAMPLE_REQUEST_NAME);
  fs.writeFileSync(file, bytes);
  const report = await readRequestFile({ path: file, name: SAMPLE_REQUEST_NAME, page });
  return found(report.problems);
}

// Byte offsets in the sample file: records of 200 bytes; the trailer is record 5 at offset 800.
const DETAIL_2 = 400;
const TRAILER = 800;

test('the untouched fixture reads without a problem', async () => {
  expect(await readTampered(request)).toEqual([]);
});

test('one amount changed: TOTAL-PEN stated 125.51, computed 125.52, located at the trailer field', async () => {
  const bytes = Buffer.from(request);
  // Detail 2's AMOUNT (positions 119-126) from +0.01 to +0.02: the last byte holds digit 1 and sign C.
  expect(bytes[DETAIL_2 + 125]).toBe(0x1c);
  bytes[DETAIL_2 + 125] = 0x2c;
  expect(await readTampered(bytes)).toEqual([
    {
      code: 'TOTAL_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      record: 5,
      offset: TRAILER + 10,
      field: 'TOTAL-PEN',
      stated: '125.51',
      computed: '125.52',
    },
  ]);
});

test('a dropped detail record: count, PEN total and hash total each report both figures', async () => {
  const bytes = Buffer.concat([request.subarray(0, DETAIL_2), request.subarray(DETAIL_2 + 200)]);
  expect(await readTampered(bytes)).toEqual([
    {
      code: 'COUNT_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      record: 4,
      offset: 600 + 1,
      field: 'RECORD-COUNT',
      stated: '3',
      computed: '2',
    },
    {
      code: 'TOTAL_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      record: 4,
      offset: 600 + 10,
      field: 'TOTAL-PEN',
      stated: '125.51',
      computed: '125.50',
    },
    {
      code: 'HASH_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      record: 4,
      offset: 600 + 28,
      field: 'HASH-TOTAL',
      stated: '300000000075',
      computed: '200000000050',
    },
  ]);
});

test('a changed loan number is caught by the hash total alone', async () => {
  const bytes = Buffer.from(request);
  // Detail 1's LOAN-NUMBER (positions 104-115) 100000000017 -> 100000000018.
  zoned('100000000018').copy(bytes, 200 + 103);
  expect(await readTampered(bytes)).toEqual([
    {
      code: 'HASH_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      record: 5,
      offset: TRAILER + 28,
      field: 'HASH-TOTAL',
      stated: '300000000075',
      computed: '300000000076',
    },
  ]);
});

test('an amount that is not packed decimal is named by record, offset and field; reading goes on', async () => {
  const bytes = Buffer.from(request);
  bytes[DETAIL_2 + 125] = 0xac; // a digit nibble of A is not a decimal digit
  const problems = await readTampered(bytes);
  expect(problems[0]).toMatchObject({
    code: 'RECORD_INVALID',
    file: SAMPLE_REQUEST_NAME,
    record: 3,
    offset: DETAIL_2 + 118,
    field: expect.stringContaining('AMOUNT') as unknown,
  });
  // The bad detail is left out of the computed figures, and that is reported too.
  expect(problems.slice(1).map((p) => [p.code, p.field, p.stated, p.computed])).toEqual([
    ['COUNT_MISMATCH', 'RECORD-COUNT', '3', '2'],
    ['TOTAL_MISMATCH', 'TOTAL-PEN', '125.51', '125.50'],
    ['HASH_MISMATCH', 'HASH-TOTAL', '300000000075', '200000000050'],
  ]);
});

test('a file cut short has no trailer and a size that is not whole records', async () => {
  expect(await readTampered(request.subarray(0, 750))).toEqual([
    { code: 'FILE_LENGTH', file: SAMPLE_REQUEST_NAME, record: 4, offset: 600 },
    { code: 'TRAILER_MISSING', file: SAMPLE_REQUEST_NAME, record: 3, offset: 400 },
  ]);
});

describe('the response reader', () => {
  const amounts = new Map(sampleDetails.map((d) => [d.paymentId, { currency: d.currency, amount: d.amount }]));
  async function readResponse(bytes: Buffer): Promise<Record<string, unknown>[]> {
    const file = path.join(dir, SAMPLE_RESPONSE_NAME);
    fs.writeFileSync(file, bytes);
    const report = await readResponseFile({
      path: file,
      name: SAMPLE_RESPONSE_NAME,
      page,
      amountOf: (id) => amounts.get(id),
    });
    return found(report.problems);
  }

  test('the untouched fixture reads without a problem', async () => {
    expect(await readResponse(response)).toEqual([]);
  });

  test('a rejected detail turned posted: both counts and the posted PEN total disagree with the trailer', async () => {
    const bytes = Buffer.from(response);
    // Detail 2 (record 3, offset 200): RESULT at position 38 from R (0xD9) to P (0xD7).
    expect(bytes[200 + 37]).toBe(0xd9);
    bytes[200 + 37] = 0xd7;
    expect(await readResponse(bytes)).toEqual([
      {
        code: 'COUNT_MISMATCH',
        file: SAMPLE_RESPONSE_NAME,
        record: 5,
        offset: 400 + 1,
        field: 'POSTED-COUNT',
        stated: '2',
        computed: '3',
      },
      {
        code: 'COUNT_MISMATCH',
        file: SAMPLE_RESPONSE_NAME,
        record: 5,
        offset: 400 + 10,
        field: 'REJECTED-COUNT',
        stated: '1',
        computed: '0',
      },
      {
        code: 'TOTAL_MISMATCH',
        file: SAMPLE_RESPONSE_NAME,
        record: 5,
        offset: 400 + 19,
        field: 'POSTED-PEN',
        stated: '125.50',
        computed: '125.51',
      },
    ]);
  });

  test('a payment the request did not hold is UNKNOWN_PAYMENT at its record', async () => {
    const bytes = Buffer.from(response);
    bytes[100 + 36] = 0xf9; // detail 1's PAYMENT-ID ...0001 -> ...0009
    const problems = await readResponse(bytes);
    expect(problems[0]).toEqual({
      code: 'UNKNOWN_PAYMENT',
      file: SAMPLE_RESPONSE_NAME,
      record: 2,
      offset: 100,
      field: 'PAYMENT-ID',
      paymentId: '0190a000-0000-7000-8000-000000000009',
    });
  });
});

describe('the writer', () => {
  const target = (): string => path.join(dir, SAMPLE_REQUEST_NAME);
  async function* pagesOf(details: readonly RequestDetail[], size = 2_000): AsyncGenerator<RequestDetail[]> {
    for (let i = 0; i < details.length; i += size) yield details.slice(i, i + size);
  }
  /** 6,000 details (1.2 MB): more than the writer's 1 MB buffer, so bytes were on disk when it fails. */
  const many: RequestDetail[] = Array.from({ length: 6_000 }, (_, i) => ({
    ...(sampleDetails[0] as RequestDetail),
    paymentId: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    loanNumber: String(100_000_000_000 + i),
    amount: BigInt(100 + i),
  }));
  const failure = async (work: Promise<unknown>): Promise<BatchError> => {
    try {
      await work;
    } catch (err) {
      return err as BatchError;
    }
    throw new Error('the writer finished a file it should have refused');
  };

  test('refuses a file whose records do not add up to the totals recorded for it, and leaves nothing', async () => {
    const sumPen = many.reduce((s, d) => s + d.amount, 0n);
    const err = await failure(
      writeRequestFile({
        target: target(),
        header: sampleHeader,
        details: pagesOf(many),
        page,
        expected: { recordCount: 6_000, totalPen: sumPen + 1n },
      }),
    );
    expect({ code: err.code, ...err.context }).toEqual({
      code: 'TOTAL_MISMATCH',
      file: SAMPLE_REQUEST_NAME,
      field: 'TOTAL-PEN',
      stated: String(sumPen + 1n),
      computed: String(sumPen),
    });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('refuses a recorded count or hash that differs', async () => {
    for (const [expected, field] of [
      [{ recordCount: 5_999 }, 'RECORD-COUNT'],
      [{ hashTotal: 1n }, 'HASH-TOTAL'],
    ] as const) {
      const err = await failure(
        writeRequestFile({ target: target(), header: sampleHeader, details: pagesOf(many), page, expected }),
      );
      expect([err.code, err.context.field]).toEqual(['TOTAL_MISMATCH', field]);
      expect(fs.readdirSync(dir)).toEqual([]);
    }
  });

  test('a detail out of order or a value that does not fit stops the file; nothing is left', async () => {
    const swapped = [...many];
    swapped[4_500] = many[4_499] as RequestDetail;
    const order = await failure(
      writeRequestFile({ target: target(), header: sampleHeader, details: pagesOf(swapped), page }),
    );
    expect([order.code, order.context.record]).toEqual(['DUPLICATE_PAYMENT', 4_502]);
    expect(fs.readdirSync(dir)).toEqual([]);

    const tooBig = [...many];
    tooBig[5_999] = { ...(many[5_999] as RequestDetail), amount: 10n ** 15n };
    const value = await failure(
      writeRequestFile({ target: target(), header: sampleHeader, details: pagesOf(tooBig), page }),
    );
    expect(value.code).toBe('VALUE_INVALID');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('an existing file of that name is left as it was when a rewrite fails', async () => {
    fs.writeFileSync(target(), request);
    await failure(
      writeRequestFile({
        target: target(),
        header: sampleHeader,
        details: pagesOf(many),
        page,
        expected: { recordCount: 1 },
      }),
    );
    expect(fs.readdirSync(dir)).toEqual([SAMPLE_REQUEST_NAME]);
    expect(fs.readFileSync(target()).equals(request)).toBe(true);
  });
});
