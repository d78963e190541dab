import { parseCashExtract } from '../../adapters/cash/cash-extract';
import { CoreExtractError, type CoreExtractProblem } from '../../adapters/core-extract-errors';
import { createCoreExtractSource } from '../../adapters/core-extract-sources';
import { parseMortgageExtract } from '../../adapters/mortgage/mortgage-extract';
import { parseVehicleExtract } from '../../adapters/vehicle/vehicle-extract';

// Extracts are read strictly: every bad line is reported with its line (record, element) number, the
// field and the value, all at once, and nothing of a bad file is used. Amounts never pass through a float.

const DATE = '2026-12-02';
const AT = '2026-12-02T15:04:05.123Z';
const PAY_ID = '0b7d1c2e-9f4a-4c1e-8a55-3d2f1e0c9b8a';

function problemsOf(parse: () => unknown): CoreExtractProblem[] {
  try {
    parse();
  } catch (err) {
    if (err instanceof CoreExtractError && err.code === 'EXTRACT_INVALID') return [...(err.context.problems ?? [])];
    throw err;
  }
  throw new Error('expected EXTRACT_INVALID, the extract parsed');
}

const where = (problems: CoreExtractProblem[]) => problems.map((p) => `${p.line}:${p.field}`);

describe('cash extract (CSV)', () => {
  const header = 'record_type,external_ref,txn_id,loan_id,currency,amount_cents,booked_at';
  const good = `PAYMENT,${PAY_ID},CSH0000000001,100000000001,PEN,900719925474099312,${AT}`;

  test('a good file gives exact bigint amounts beyond 2^53 and lines numbered with the header as line 1', () => {
    const raw = Buffer.from(`${header}\r\n${good}\r\nREVERSAL,${PAY_ID},CSR0000000001,100000000001,PEN,5,${AT}\r\n`);
    const extract = parseCashExtract(raw, DATE, 'cash-extract.csv');
    expect(extract.rows.map((r) => [r.line, r.kind, r.amount])).toEqual([
      [2, 'applied', 900719925474099312n],
      [3, 'reversed', 5n],
    ]);
  });

  test('every bad line is reported at once with its line number and field', () => {
    const raw = Buffer.from(
      [
        header,
        good,
        `PAYMENT,${PAY_ID},CSH2,100000000001,PEN,125.50,${AT}`, // 3: decimal in cents
        `REFUND,${PAY_ID},CSH3,10000001,EUR,100,yesterday`, // 4: four bad fields
        `PAYMENT,${PAY_ID},CSH4,100000000001,PEN,100`, // 5: a field short
        `PAYMENT,"${PAY_ID}",CSH5,100000000001,PEN,100,${AT}`, // 6: quoting
        `PAYMENT,${PAY_ID},CSH6,100000000001,PEN,0,${AT}`, // 7: zero
        '',
      ].join('\r\n'),
    );
    const problems = problemsOf(() => parseCashExtract(raw, DATE, 'cash-extract.csv'));
    expect(where(problems)).toEqual([
      '3:amount_cents',
      '4:record_type',
      '4:loan_id',
      '4:currency',
      '4:booked_at',
      '5:line',
      '6:line',
      '7:amount_cents',
    ]);
    expect(problems[0]).toEqual(expect.objectContaining({ value: '125.50' }));
  });

  test('a wrong header is line 1; bytes that are not UTF-8 are the file', () => {
    expect(where(problemsOf(() => parseCashExtract(Buffer.from(`a,b,c\r\n`), DATE, 'f.csv')))).toEqual(['1:header']);
    const latin1 = Buffer.from([0x41, 0xe9, 0x0a]);
    expect(where(problemsOf(() => parseCashExtract(latin1, DATE, 'f.csv')))).toContain('0:file');
  });

  test("the error's describe() names the file, the line, the field and the value", () => {
    try {
      parseCashExtract(Buffer.from(`${header}\r\n${good.replace('PEN', 'XYZ')}\r\n`), DATE, 'cash-extract-x.csv');
      throw new Error('parsed');
    } catch (err) {
      if (!(err instanceof CoreExtractError)) throw err;
      expect(err.describe()).toContain(
        'cash-extract-x.csv line 2 field currency: currency must be PEN or USD (value "XYZ")',
      );
    }
  });
});

describe('mortgage extract (JSON)', () => {
  const movement = {
    type: 'PAYMENT',
    clientReference: PAY_ID,
    reference: 'MTG-PAY-00000001',
    mortgageId: '200000000001',
    currency: 'USD',
    amount: '1450.30',
    postedAt: AT,
  };
  const doc = (movements: unknown[], extra: Record<string, unknown> = {}) =>
    Buffer.from(JSON.stringify({ extractDate: DATE, recordCount: movements.length, movements, ...extra }));

  test('a good file: amounts from decimal strings, element numbers from 1', () => {
    const extract = parseMortgageExtract(doc([movement, { ...movement, type: 'REVERSAL' }]), DATE, 'm.json');
    expect(extract.rows.map((r) => [r.line, r.kind, r.amount, r.currency])).toEqual([
      [1, 'applied', 145_030n, 'USD'],
      [2, 'reversed', 145_030n, 'USD'],
    ]);
  });

  test('an amount as a JSON number, one decimal, a wrong date and a count that does not add up are each reported', () => {
    const problems = problemsOf(() =>
      parseMortgageExtract(
        doc([movement, { ...movement, amount: 1450.3 }, { ...movement, amount: '1450.3', mortgageId: 'X' }], {
          extractDate: '2026-12-01',
          recordCount: 4,
        }),
        DATE,
        'm.json',
      ),
    );
    expect(where(problems)).toEqual(['0:extractDate', '0:recordCount', '2:amount', '3:amount', '3:mortgageId']);
  });

  test('not JSON at all is one problem on the file', () => {
    expect(where(problemsOf(() => parseMortgageExtract(Buffer.from('{"extractDate":'), DATE, 'm.json')))).toEqual([
      '0:file',
    ]);
  });
});

describe('vehicle extract (XML)', () => {
  const record = (seq: number, fields: Record<string, string> = {}) => {
    const all: Record<string, string> = {
      Seq: String(seq),
      Type: 'PAY',
      TraceRef: PAY_ID,
      AuthCode: 'VP000000001',
      LoanId: '300000000001',
      CurrencyCode: '604',
      Amount: '000000012550',
      Timestamp: AT,
      ...fields,
    };
    return `<Record>${Object.entries(all)
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('')}</Record>`;
  };
  const doc = (records: string[], count = records.length) =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?><VehicleDailyExtract><ResultCode>00</ResultCode>` +
        `<BusinessDate>20261202</BusinessDate><RecordCount>${count}</RecordCount><Records>${records.join('')}</Records></VehicleDailyExtract>`,
    );

  test('a single record is still a list; 12-digit amounts and numeric currencies are decoded', () => {
    const extract = parseVehicleExtract(doc([record(1)]), DATE, 'v.xml');
    expect(extract.rows).toEqual([
      expect.objectContaining({ line: 1, kind: 'applied', amount: 12_550n, currency: 'PEN' }),
    ]);
  });

  test('bad records are reported by record number and element name', () => {
    const problems = problemsOf(() =>
      parseVehicleExtract(
        doc(
          [
            record(1),
            record(2, { Amount: '125.50', CurrencyCode: '978' }),
            record(7, { Type: 'XXX' }),
            record(4, { Timestamp: '20261202153000' }),
          ],
          5,
        ),
        DATE,
        'v.xml',
      ),
    );
    expect(where(problems)).toEqual(['0:RecordCount', '2:Amount', '2:CurrencyCode', '3:Seq', '3:Type', '4:Timestamp']);
  });

  test('a DOCTYPE is refused (entity expansion), as on the payment contract', () => {
    const xml = Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><VehicleDailyExtract/>');
    expect(where(problemsOf(() => parseVehicleExtract(xml, DATE, 'v.xml')))).toEqual(['0:file']);
  });
});

test('through the source: a bad line from the core fails the fetch with its line number, and nothing is returned', async () => {
  const body = `record_type,external_ref,txn_id,loan_id,currency,amount_cents,booked_at\r\nPAYMENT,${PAY_ID},CSH1,100000000001,PEN,-5,${AT}\r\n`;
  const source = createCoreExtractSource('cash', {
    baseUrl: 'http://cash.invalid',
    timeoutMs: 1_000,
    credentials: { kind: 'api_key', apiKey: 'k' },
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/csv' } }),
  });
  await expect(source.fetchDailyExtract(DATE)).rejects.toMatchObject({
    code: 'EXTRACT_INVALID',
    context: {
      fileName: `cash-extract-${DATE}.csv`,
      problems: [expect.objectContaining({ line: 2, field: 'amount_cents' })],
    },
  });
});
