import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CoreHttpExchange } from '../core-adapters';
import { CoreExtractError } from '../core-extract-errors';
import {
  assertBusinessDate,
  extractFileName,
  finishExtract,
  problem,
  readCoreReference,
  readInstant,
  readLoanNumber,
  readPaymentId,
  requirePositive,
  rowOf,
  unavailable,
  type Problems,
} from '../core-extract-fields';
import type { CoreExtract, CoreExtractRow, CoreExtractSource } from '../core-extract-port';
import { VEHICLE_EXTRACT_ROOT, VEHICLE_GATEWAY_PATH, VEHICLE_RESULT_CODES } from './vehicle-contract';
import { decodeVehicleAmount, decodeVehicleCurrency } from './vehicle-fields';
import { VEHICLE_REQUEST_ROOT, VEHICLE_RESPONSE_ROOT, buildVehicleMessage } from './vehicle-message';

// The vehicle core's daily extract: the gateway's EXT operation with <BusinessDate>YYYYMMDD</BusinessDate>,
// answered by
//   <VehicleDailyExtract><ResultCode>00</ResultCode><BusinessDate/><RecordCount/>
//     <Records><Record><Seq>1</Seq><Type>PAY|REV</Type><TraceRef/><AuthCode/><LoanId/>
//       <CurrencyCode>604</CurrencyCode><Amount>000000012550</Amount><Timestamp>ISO instant</Timestamp>
//     </Record>…</Records></VehicleDailyExtract>
// A record's number is its position among the <Record> elements, from 1 (its <Seq> must say the same);
// problems with the document as a whole are on record 0. A refusal comes as a VehicleLoanResponse.

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  isArray: (name, jpath) => jpath === `${VEHICLE_EXTRACT_ROOT}.Records.Record`,
});

function get(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Reflect.get(value, key) : undefined;
}

function compact(businessDate: string): string {
  return businessDate.replaceAll('-', '');
}

/** Reads the document; a VehicleLoanResponse in its place is the core refusing (its ResultCode says why). */
function readDocument(core: 'vehicle', xml: string, businessDate: string, problems: Problems): unknown {
  if (/<!DOCTYPE/i.test(xml)) {
    problem(problems, 0, 'file', 'DOCTYPE is not allowed');
    return undefined;
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    problem(problems, 0, 'file', `not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
    return undefined;
  }
  const document: unknown = parser.parse(xml);
  const refusal = get(document, VEHICLE_RESPONSE_ROOT);
  if (refusal !== undefined) {
    const code = get(refusal, 'ResultCode');
    const detail = get(refusal, 'Detail');
    throw new CoreExtractError(
      code === '96' ? 'EXTRACT_UNAVAILABLE' : 'EXTRACT_REFUSED',
      core,
      `vehicle core refused the extract of ${businessDate} (ResultCode ${String(code)} ${
        typeof code === 'string' && Object.hasOwn(VEHICLE_RESULT_CODES, code)
          ? String(Reflect.get(VEHICLE_RESULT_CODES, code))
          : ''
      }${typeof detail === 'string' ? `: ${detail}` : ''})`,
      { businessDate },
    );
  }
  const body = get(document, VEHICLE_EXTRACT_ROOT);
  if (body === undefined) problem(problems, 0, 'file', `root element must be <${VEHICLE_EXTRACT_ROOT}>`);
  return body;
}

/** Reads an extract's bytes; throws CoreExtractError EXTRACT_INVALID listing every bad record. */
export function parseVehicleExtract(raw: Buffer, businessDate: string, fileName: string): CoreExtract {
  const problems: Problems = [];
  const rows: CoreExtractRow[] = [];
  let xml = '';
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    problem(problems, 0, 'file', 'the file is not valid UTF-8');
  }
  const body = problems.length === 0 ? readDocument('vehicle', xml, businessDate, problems) : undefined;
  if (body !== undefined) {
    if (get(body, 'ResultCode') !== '00') {
      problem(problems, 0, 'ResultCode', 'ResultCode must be 00 on an extract', get(body, 'ResultCode'));
    }
    if (get(body, 'BusinessDate') !== compact(businessDate)) {
      problem(problems, 0, 'BusinessDate', `BusinessDate must be ${compact(businessDate)}`, get(body, 'BusinessDate'));
    }
  }
  const records = get(get(body, 'Records'), 'Record');
  const list: readonly unknown[] = Array.isArray(records) ? records : [];
  const stated = get(body, 'RecordCount');
  if (
    body !== undefined &&
    (typeof stated !== 'string' || !/^[0-9]{1,9}$/.test(stated) || Number(stated) !== list.length)
  ) {
    problem(
      problems,
      0,
      'RecordCount',
      `RecordCount states ${String(stated)}, the file holds ${list.length} records`,
      stated,
    );
  }
  list.forEach((record, index) => {
    const line = index + 1;
    if (get(record, 'Seq') !== String(line)) {
      problem(problems, line, 'Seq', `Seq must be ${line}, the record's position`, get(record, 'Seq'));
    }
    const type = get(record, 'Type');
    let kind: CoreExtractRow['kind'] | undefined;
    if (type === 'PAY') kind = 'applied';
    else if (type === 'REV') kind = 'reversed';
    else problem(problems, line, 'Type', 'Type must be PAY or REV', type);
    const amountText = get(record, 'Amount');
    const decoded = decodeVehicleAmount(amountText);
    if (decoded === undefined) problem(problems, line, 'Amount', 'Amount must be 12 digits of minor units', amountText);
    const currencyText = get(record, 'CurrencyCode');
    const currency = decodeVehicleCurrency(currencyText);
    if (currency === undefined) {
      problem(problems, line, 'CurrencyCode', 'CurrencyCode must be ISO 4217 numeric 604 or 840', currencyText);
    }
    const row = rowOf('vehicle', {
      kind,
      paymentId: readPaymentId(problems, line, 'TraceRef', get(record, 'TraceRef')),
      coreReference: readCoreReference(problems, line, 'AuthCode', get(record, 'AuthCode')),
      loanNumber: readLoanNumber(problems, line, 'LoanId', get(record, 'LoanId')),
      currency,
      amount: requirePositive(problems, line, 'Amount', decoded, amountText),
      at: readInstant(problems, line, 'Timestamp', get(record, 'Timestamp')),
      line,
    });
    if (row) rows.push(row);
  });
  return finishExtract({ core: 'vehicle', businessDate, fileName, raw, rows, problems });
}

/** The vehicle core's extract over its gateway (the token in <Auth>, as for payments). */
export function createVehicleExtractSource(exchange: CoreHttpExchange, token: string): CoreExtractSource {
  const headers = { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml' };
  return Object.freeze({
    async fetchDailyExtract(businessDate: string): Promise<CoreExtract> {
      assertBusinessDate('vehicle', businessDate);
      const response = await exchange({
        operation: 'extract',
        method: 'POST',
        path: VEHICLE_GATEWAY_PATH,
        headers,
        body: buildVehicleMessage(VEHICLE_REQUEST_ROOT, {
          Auth: { Token: token },
          Operation: 'EXT',
          BusinessDate: compact(businessDate),
        }),
      }).catch((err: unknown) => unavailable('vehicle', businessDate, err));
      if (response.status !== 200) {
        throw new CoreExtractError(
          'EXTRACT_REFUSED',
          'vehicle',
          `vehicle core refused the extract of ${businessDate} (HTTP ${response.status})`,
          { businessDate, status: response.status },
        );
      }
      return parseVehicleExtract(
        response.raw ?? Buffer.from(response.body, 'utf8'),
        businessDate,
        extractFileName('vehicle', businessDate, 'xml'),
      );
    },
  });
}
