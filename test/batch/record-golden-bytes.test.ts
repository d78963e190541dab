import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchError } from '../../batch/batch-errors';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { decodeRequestDetail, encodeRequestDetail } from '../../batch/request-detail-record';
import { readRequestFile } from '../../batch/request-file-reader';
import { writeRequestFile } from '../../batch/request-file-writer';
import { decodeRequestHeader, encodeRequestHeader } from '../../batch/request-header-record';
import { decodeRequestTrailer, encodeRequestTrailer } from '../../batch/request-trailer-record';
import { decodeResponseDetail, encodeResponseDetail } from '../../batch/response-detail-record';
import { readResponseFile } from '../../batch/response-file-reader';
import { decodeResponseHeader, encodeResponseHeader } from '../../batch/response-header-record';
import { decodeResponseTrailer, encodeResponseTrailer } from '../../batch/response-trailer-record';
import {
  ebcdicText,
  packed,
  requestDetailBytes,
  requestFileBytes,
  requestHeaderBytes,
  requestTrailerBytes,
  responseDetailBytes,
  responseFileBytes,
  responseHeaderBytes,
  responseTrailerBytes,
  SAMPLE_REQUEST_NAME,
  SAMPLE_RESPONSE_NAME,
  sampleDetails,
  sampleHeader,
  sampleResponseDetails,
  sampleResponseHeader,
  sampleResponseTrailer,
  sampleTrailer,
  type IconvName,
} from './golden-records';

// Golden bytes of every record type of both mainframe files, in each EBCDIC page the bridge is
// configured with through LOANHUB_MAINFRAME_CODEPAGE. The expected bytes come from iconv and from
// nibbles written by hand (golden-records.ts), never from the hub's encoder; the hub's modules must
// produce exactly them and decode them back to the same values.

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const at = (record: number, lrecl: number): { file: string; record: number; offset: number } => ({
  file: 'golden',
  record,
  offset: (record - 1) * lrecl,
});
const fixtures = path.join(__dirname, '..', 'fixtures', 'batch');

const PAGES: readonly (readonly [string, IconvName])[] = [
  ['037', 'IBM037'],
  ['500', 'IBM500'],
  ['1140', 'IBM1140'],
];

describe.each(PAGES)('LOANHUB_MAINFRAME_CODEPAGE=%s', (setting, cp) => {
  const page = batchSettingsFromEnv({ LOANHUB_MAINFRAME_CODEPAGE: setting }).page;

  test('request header: H, file name, core code, zoned date, sequence and stamp, FILLER spaces', () => {
    const expected = requestHeaderBytes(cp);
    expect(hex(encodeRequestHeader(sampleHeader, page))).toBe(hex(expected));
    expect(decodeRequestHeader(expected, page, at(1, 200))).toEqual(sampleHeader);
  });

  test('request details: text fields, zoned loan number and stamp, COMP-3 amount with sign C', () => {
    const expected = requestDetailBytes(cp);
    sampleDetails.forEach((d, i) => {
      const bytes = expected[i] ?? Buffer.alloc(0);
      expect(hex(encodeRequestDetail(d, page))).toBe(hex(bytes));
      expect(decodeRequestDetail(bytes, page, at(i + 2, 200))).toEqual(d);
    });
  });

  test('request trailer: zoned count, COMP-3 totals per currency, zoned hash total', () => {
    const expected = requestTrailerBytes(cp);
    expect(hex(encodeRequestTrailer(sampleTrailer, page))).toBe(hex(expected));
    expect(decodeRequestTrailer(expected, page, at(5, 200))).toEqual(sampleTrailer);
  });

  test('response header, details and trailer', () => {
    expect(hex(encodeResponseHeader(sampleResponseHeader, page))).toBe(hex(responseHeaderBytes(cp)));
    expect(decodeResponseHeader(responseHeaderBytes(cp), page, at(1, 100))).toEqual(sampleResponseHeader);
    const details = responseDetailBytes(cp);
    sampleResponseDetails.forEach((d, i) => {
      const bytes = details[i] ?? Buffer.alloc(0);
      expect(hex(encodeResponseDetail(d, page))).toBe(hex(bytes));
      expect(decodeResponseDetail(bytes, page, at(i + 2, 100))).toEqual(d);
    });
    expect(hex(encodeResponseTrailer(sampleResponseTrailer, page))).toBe(hex(responseTrailerBytes(cp)));
    expect(decodeResponseTrailer(responseTrailerBytes(cp), page, at(5, 100))).toEqual(sampleResponseTrailer);
  });

  test('the file writer gives the hand-built file, and both readers find it sound', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-golden-'));
    const target = path.join(dir, SAMPLE_REQUEST_NAME);
    async function* pages(): AsyncGenerator<readonly (typeof sampleDetails)[number][]> {
      yield sampleDetails.slice(0, 2);
      yield sampleDetails.slice(2);
    }
    const written = await writeRequestFile({ target, header: sampleHeader, details: pages(), page });
    expect(hex(fs.readFileSync(target))).toBe(hex(requestFileBytes(cp)));
    expect(written.trailer).toEqual(sampleTrailer);
    expect(written.size).toBe(1000);

    const seen: string[] = [];
    const request = await readRequestFile({
      path: target,
      name: SAMPLE_REQUEST_NAME,
      page,
      onDetail: (d) => seen.push(d.paymentId),
    });
    expect(request.problems.map((p) => p.describe())).toEqual([]);
    expect(request.trailer).toEqual(sampleTrailer);
    expect(seen).toEqual(sampleDetails.map((d) => d.paymentId));

    const responsePath = path.join(dir, SAMPLE_RESPONSE_NAME);
    fs.writeFileSync(responsePath, responseFileBytes(cp));
    const amounts = new Map(sampleDetails.map((d) => [d.paymentId, { currency: d.currency, amount: d.amount }]));
    const response = await readResponseFile({
      path: responsePath,
      name: SAMPLE_RESPONSE_NAME,
      page,
      amountOf: (id) => amounts.get(id),
    });
    expect(response.problems.map((p) => p.describe())).toEqual([]);
    expect(response.header).toEqual(sampleResponseHeader);
    expect(response.trailer).toEqual(sampleResponseTrailer);
    fs.rmSync(dir, { recursive: true });
  });
});

test('the sample reference sits on other bytes in 037 and 500, so the pages above are really told apart', () => {
  expect(hex(ebcdicText('[]!|^', 5, 'IBM037'))).toBe('BABB5A4FB0');
  expect(hex(ebcdicText('[]!|^', 5, 'IBM500'))).toBe('4A5A4FBB5F');
  expect(hex(requestDetailBytes('IBM037')[0] ?? Buffer.alloc(0))).not.toBe(
    hex(requestDetailBytes('IBM500')[0] ?? Buffer.alloc(0)),
  );
});

test('the fixtures in test/fixtures/batch are the hand-built cp037 files', () => {
  expect(hex(fs.readFileSync(path.join(fixtures, `${SAMPLE_REQUEST_NAME}.cp037`)))).toBe(
    hex(requestFileBytes('IBM037')),
  );
  expect(hex(fs.readFileSync(path.join(fixtures, `${SAMPLE_RESPONSE_NAME}.cp037`)))).toBe(
    hex(responseFileBytes('IBM037')),
  );
});

describe('values at the edges of their fields', () => {
  const cp037 = batchSettingsFromEnv({}).page;
  const cp1140 = batchSettingsFromEnv({ LOANHUB_MAINFRAME_CODEPAGE: 'IBM-1140' }).page;
  const first = sampleDetails[0];
  if (!first) throw new Error('no sample');
  const AMOUNT = 118;

  test('the default page is 037', () => {
    expect(cp037.name).toBe('cp037');
  });

  test('the largest AMOUNT of S9(13)V99 and a negative one (sign D) have their exact nibbles', () => {
    const max = encodeRequestDetail({ ...first, amount: 999_999_999_999_999n }, cp037);
    expect(hex(max.subarray(AMOUNT, AMOUNT + 8))).toBe(hex(packed('999999999999999C')));
    const negative = Uint8Array.from(encodeRequestDetail({ ...first, amount: -250n }, cp037));
    expect(hex(negative.subarray(AMOUNT, AMOUNT + 8))).toBe(hex(packed('000000000000250D')));
    expect(decodeRequestDetail(negative, cp037, at(2, 200)).amount).toBe(-250n);
  });

  test('a value that does not fit is refused with VALUE_INVALID naming the field, never cut or rounded', () => {
    const refused = (d: typeof first): BatchError => {
      try {
        encodeRequestDetail(d, cp037);
      } catch (err) {
        return err as BatchError;
      }
      throw new Error('encoded a value that does not fit');
    };
    expect(refused({ ...first, amount: 1_000_000_000_000_000n })).toMatchObject({
      code: 'VALUE_INVALID',
      context: { field: expect.stringContaining('AMOUNT') as unknown },
    });
    expect(refused({ ...first, loanNumber: '1000000000171' })).toMatchObject({
      code: 'VALUE_INVALID',
      context: { field: expect.stringContaining('LOAN-NUMBER') as unknown },
    });
    expect(refused({ ...first, channelReference: 'x'.repeat(41) })).toMatchObject({
      code: 'VALUE_INVALID',
      context: { field: expect.stringContaining('CHANNEL-REF') as unknown },
    });
    // 037 has no euro sign: refused, not replaced by '?'.
    expect(refused({ ...first, channelReference: 'pago 10€' })).toMatchObject({
      code: 'VALUE_INVALID',
      context: { field: expect.stringContaining('CHANNEL-REF') as unknown },
    });
  });

  test('1140 writes the euro sign where iconv puts it', () => {
    const bytes = encodeRequestDetail({ ...first, channelReference: 'pago 10€' }, cp1140);
    expect(hex(bytes.subarray(63, 103))).toBe(hex(ebcdicText('pago 10€', 40, 'IBM1140')));
    expect(hex(ebcdicText('€', 1, 'IBM1140'))).toBe('9F');
  });

  test('LOANHUB_MAINFRAME_CODEPAGE must name an EBCDIC page of the engine', () => {
    for (const value of ['ascii', 'latin1', 'cp9999']) {
      expect(() => batchSettingsFromEnv({ LOANHUB_MAINFRAME_CODEPAGE: value })).toThrow(
        expect.objectContaining({ code: 'CODEPAGE_INVALID' }),
      );
    }
  });
});
