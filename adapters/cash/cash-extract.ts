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
import { CASH_API_KEY_HEADER, CASH_EXTRACT_COLUMNS, cashExtractPath } from './cash-contract';

// The cash core's daily extract: CSV, UTF-8, CRLF, the header line
// `record_type,external_ref,txn_id,loan_id,currency,amount_cents,booked_at`, then one line per payment
// applied (PAYMENT) or reversal done (REVERSAL); amounts in integer cents, no quoting. Line numbers count
// the header as line 1, as an editor shows them.

const CENTS = /^[0-9]{1,18}$/;

/** Reads an extract's bytes; throws CoreExtractError EXTRACT_INVALID listing every bad line. */
export function parseCashExtract(raw: Buffer, businessDate: string, fileName: string): CoreExtract {
  const problems: Problems = [];
  const rows: CoreExtractRow[] = [];
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    problem(problems, 0, 'file', 'the file is not valid UTF-8');
  }
  const lines = text.split('\n');
  // The file ends with a line end; what follows the last one is nothing.
  if (lines.at(-1) === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '');
  if (text !== '' && header !== CASH_EXTRACT_COLUMNS.join(',')) {
    problem(problems, 1, 'header', `the header line must be ${CASH_EXTRACT_COLUMNS.join(',')}`, header);
  }
  if (text === '' && problems.length === 0) problem(problems, 0, 'file', 'the file is empty (not even a header)');
  for (let i = 1; i < lines.length; i += 1) {
    const line = i + 1;
    const content = (lines[i] ?? '').replace(/\r$/, '');
    if (content.includes('"')) {
      problem(problems, line, 'line', 'quoted fields are not part of the contract', content);
      continue;
    }
    const fields = content.split(',');
    if (fields.length !== CASH_EXTRACT_COLUMNS.length) {
      problem(
        problems,
        line,
        'line',
        `expected ${CASH_EXTRACT_COLUMNS.length} fields, found ${fields.length}`,
        content,
      );
      continue;
    }
    const [recordType, externalRef, txnId, loanId, currency, amountCents, bookedAt] = fields;
    let kind: CoreExtractRow['kind'] | undefined;
    if (recordType === 'PAYMENT') kind = 'applied';
    else if (recordType === 'REVERSAL') kind = 'reversed';
    else problem(problems, line, 'record_type', 'record_type must be PAYMENT or REVERSAL', recordType);
    let amount: bigint | undefined;
    if (amountCents === undefined || !CENTS.test(amountCents)) {
      problem(problems, line, 'amount_cents', 'amount_cents must be whole cents (digits only)', amountCents);
    } else {
      amount = requirePositive(problems, line, 'amount_cents', BigInt(amountCents), amountCents);
    }
    const row = rowOf('cash', {
      kind,
      paymentId: readPaymentId(problems, line, 'external_ref', externalRef),
      coreReference: readCoreReference(problems, line, 'txn_id', txnId),
      loanNumber: readLoanNumber(problems, line, 'loan_id', loanId),
      currency: readCurrency(problems, line, 'currency', currency),
      amount,
      at: readInstant(problems, line, 'booked_at', bookedAt),
      line,
    });
    if (row) rows.push(row);
  }
  return finishExtract({ core: 'cash', businessDate, fileName, raw, rows, problems });
}

/** The cash core's extract over its HTTP contract (API key header, as for payments). */
export function createCashExtractSource(exchange: CoreHttpExchange, apiKey: string): CoreExtractSource {
  return Object.freeze({
    async fetchDailyExtract(businessDate: string): Promise<CoreExtract> {
      assertBusinessDate('cash', businessDate);
      const response = await exchange({
        operation: 'extract',
        method: 'GET',
        path: cashExtractPath(businessDate),
        headers: { [CASH_API_KEY_HEADER]: apiKey, accept: 'text/csv' },
      }).catch((err: unknown) => unavailable('cash', businessDate, err));
      if (response.status !== 200) {
        throw new CoreExtractError(
          'EXTRACT_REFUSED',
          'cash',
          `cash core refused the extract of ${businessDate} (HTTP ${response.status}: ${response.body.slice(0, 200)})`,
          { businessDate, status: response.status },
        );
      }
      return parseCashExtract(
        response.raw ?? Buffer.from(response.body, 'utf8'),
        businessDate,
        extractFileName('cash', businessDate, 'csv'),
      );
    },
  });
}
