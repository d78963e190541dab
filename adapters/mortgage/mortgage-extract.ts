import type { CoreHttpExchange } from '../core-adapters';
import { CoreExtractError } from '../core-extract-errors';
import {
  assertBusinessDate,
  extractFileName,
  finishExtract,
  problem,
  readCoreReference,
  readCurrency,
  readInstant,
  readLoanNumber,
  readPaymentId,
  requirePositive,
  rowOf,
  unavailable,
  type Problems,
} from '../core-extract-fields';
import type { CoreExtract, CoreExtractRow, CoreExtractSource } from '../core-extract-port';
import { basicAuthorization, mortgageExtractPath } from './mortgage-contract';
import { parseMortgageDecimal } from './mortgage-decimal';

// The mortgage core's daily extract: JSON
// `{ extractDate, recordCount, movements: [{ type: PAYMENT|REVERSAL, clientReference, reference,
//    mortgageId, currency, amount: "125.50", postedAt }] }`. A movement's line number is its position in
// `movements`, from 1; problems with the document as a whole are on line 0. Amounts are decimal strings
// with two decimals, read digit by digit: a JSON number is refused, never converted.

function get(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Reflect.get(value, key) : undefined;
}

/** Reads an extract's bytes; throws CoreExtractError EXTRACT_INVALID listing every bad movement. */
export function parseMortgageExtract(raw: Buffer, businessDate: string, fileName: string): CoreExtract {
  const problems: Problems = [];
  const rows: CoreExtractRow[] = [];
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (err) {
    problem(problems, 0, 'file', `the file is not JSON in UTF-8 (${err instanceof Error ? err.message : String(err)})`);
  }
  const extractDate = get(document, 'extractDate');
  const recordCount = get(document, 'recordCount');
  const movements = get(document, 'movements');
  if (document !== undefined) {
    if (extractDate !== businessDate) {
      problem(problems, 0, 'extractDate', `extractDate must be the date asked for, ${businessDate}`, extractDate);
    }
    if (!Array.isArray(movements)) problem(problems, 0, 'movements', 'movements must be a list', movements);
  }
  const list: readonly unknown[] = Array.isArray(movements) ? movements : [];
  if (document !== undefined && recordCount !== list.length) {
    problem(
      problems,
      0,
      'recordCount',
      `recordCount states ${JSON.stringify(recordCount)}, the file holds ${list.length} movements`,
      recordCount,
    );
  }
  list.forEach((movement, index) => {
    const line = index + 1;
    if (typeof movement !== 'object' || movement === null || Array.isArray(movement)) {
      problem(problems, line, 'movement', 'a movement must be an object', movement);
      return;
    }
    const type = get(movement, 'type');
    let kind: CoreExtractRow['kind'] | undefined;
    if (type === 'PAYMENT') kind = 'applied';
    else if (type === 'REVERSAL') kind = 'reversed';
    else problem(problems, line, 'type', 'type must be PAYMENT or REVERSAL', type);
    const amountText = get(movement, 'amount');
    let amount: bigint | undefined;
    if (typeof amountText !== 'string') {
      problem(
        problems,
        line,
        'amount',
        amountText === undefined ? 'amount is missing' : 'amount must be a decimal string such as "125.50"',
        amountText,
      );
    } else {
      const parsed = parseMortgageDecimal(amountText);
      if (parsed === undefined) problem(problems, line, 'amount', 'amount must have exactly two decimals', amountText);
      amount = requirePositive(problems, line, 'amount', parsed, amountText);
    }
    const row = rowOf('mortgage', {
      kind,
      paymentId: readPaymentId(problems, line, 'clientReference', get(movement, 'clientReference')),
      coreReference: readCoreReference(problems, line, 'reference', get(movement, 'reference')),
      loanNumber: readLoanNumber(problems, line, 'mortgageId', get(movement, 'mortgageId')),
      currency: readCurrency(problems, line, 'currency', get(movement, 'currency')),
      amount,
      at: readInstant(problems, line, 'postedAt', get(movement, 'postedAt')),
      line,
    });
    if (row) rows.push(row);
  });
  return finishExtract({ core: 'mortgage', businessDate, fileName, raw, rows, problems });
}

/** The mortgage core's extract over its HTTP contract (Basic authentication, as for payments). */
export function createMortgageExtractSource(
  exchange: CoreHttpExchange,
  username: string,
  password: string,
): CoreExtractSource {
  const headers = { authorization: basicAuthorization(username, password), accept: 'application/json' };
  return Object.freeze({
    async fetchDailyExtract(businessDate: string): Promise<CoreExtract> {
      assertBusinessDate('mortgage', businessDate);
      const response = await exchange({
        operation: 'extract',
        method: 'GET',
        path: mortgageExtractPath(businessDate),
        headers,
      }).catch((err: unknown) => unavailable('mortgage', businessDate, err));
      if (response.status !== 200) {
        throw new CoreExtractError(
          'EXTRACT_REFUSED',
          'mortgage',
          `mortgage core refused the extract of ${businessDate} (HTTP ${response.status}: ${response.body.slice(0, 200)})`,
          { businessDate, status: response.status },
        );
      }
      return parseMortgageExtract(
        response.raw ?? Buffer.from(response.body, 'utf8'),
        businessDate,
        extractFileName('mortgage', businessDate, 'json'),
      );
    },
  });
}
