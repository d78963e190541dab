import { createHash } from 'node:crypto';
import type { Core } from '../domain/channel';
import type { Currency } from '../domain/money';
import { CoreExtractError, type CoreExtractProblem } from './core-extract-errors';
import type { CoreExtract, CoreExtractRow } from './core-extract-port';
import { CoreUnavailableError } from './core-port';

// The fields every core's extract carries, read strictly and the same way whatever the format: a value
// that does not fit is a problem with its line, field and value, never a guess. A reader collects every
// problem of the file, then `finishExtract` refuses the whole extract if there is any (STYLE habit 5).

const PAYMENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CORE_REFERENCE = /^[A-Za-z0-9._:-]{1,40}$/;
const LOAN_NUMBER = /^[0-9]{12}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export type Problems = CoreExtractProblem[];

function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function problem(problems: Problems, line: number, field: string, message: string, value?: unknown): void {
  const v = shown(value);
  problems.push(v === undefined ? { line, field, message } : { line, field, message, value: v });
}

function matching(
  problems: Problems,
  line: number,
  field: string,
  value: unknown,
  pattern: RegExp,
  what: string,
): string | undefined {
  if (value === undefined || value === '') {
    problem(problems, line, field, `${field} is missing`);
    return undefined;
  }
  if (typeof value !== 'string' || !pattern.test(value)) {
    problem(problems, line, field, `${field} must be ${what}`, value);
    return undefined;
  }
  return value;
}

export function readPaymentId(problems: Problems, line: number, field: string, value: unknown): string | undefined {
  return matching(problems, line, field, value, PAYMENT_ID, 'a payment reference (1-64 of A-Z a-z 0-9 . _ : -)');
}

export function readCoreReference(problems: Problems, line: number, field: string, value: unknown): string | undefined {
  return matching(problems, line, field, value, CORE_REFERENCE, "the core's reference (1-40 of A-Z a-z 0-9 . _ : -)");
}

export function readLoanNumber(problems: Problems, line: number, field: string, value: unknown): string | undefined {
  return matching(problems, line, field, value, LOAN_NUMBER, 'a loan number of 12 digits');
}

export function readCurrency(problems: Problems, line: number, field: string, value: unknown): Currency | undefined {
  if (value === 'PEN' || value === 'USD') return value;
  problem(problems, line, field, value === undefined ? `${field} is missing` : `${field} must be PEN or USD`, value);
  return undefined;
}

/** An ISO 8601 instant with a zone (Z or ±hh:mm), normalised to UTC with milliseconds. */
export function readInstant(problems: Problems, line: number, field: string, value: unknown): string | undefined {
  const text = matching(problems, line, field, value, INSTANT, 'an ISO 8601 instant with a zone');
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    problem(problems, line, field, `${field} is not a real date and time`, value);
    return undefined;
  }
  return new Date(ms).toISOString();
}

/** An amount that is not positive has no place in an extract of payments and reversals. */
export function requirePositive(
  problems: Problems,
  line: number,
  field: string,
  amount: bigint | undefined,
  value: unknown,
): bigint | undefined {
  if (amount === undefined) return undefined;
  if (amount <= 0n) {
    problem(problems, line, field, `${field} must be greater than zero`, value);
    return undefined;
  }
  return amount;
}

/** YYYY-MM-DD naming a real day; anything else is refused before a request is made. */
export function assertBusinessDate(core: Core, businessDate: string): void {
  const ok =
    /^\d{4}-\d{2}-\d{2}$/.test(businessDate) &&
    new Date(`${businessDate}T00:00:00.000Z`).toISOString().slice(0, 10) === businessDate;
  if (!ok) {
    throw new CoreExtractError('EXTRACT_REFUSED', core, `business date must be YYYY-MM-DD, not ${businessDate}`, {
      businessDate,
    });
  }
}

/** The extract's file name as the hub keeps it: `<core>-extract-<YYYY-MM-DD>.<ext>`. */
export function extractFileName(core: Core, businessDate: string, extension: 'csv' | 'json' | 'xml'): string {
  return `${core}-extract-${businessDate}.${extension}`;
}

/** A failed exchange as an extract error: no answer is EXTRACT_UNAVAILABLE; anything else is passed on. */
export function unavailable(core: Core, businessDate: string, err: unknown): never {
  if (err instanceof CoreUnavailableError) {
    throw new CoreExtractError('EXTRACT_UNAVAILABLE', core, err.message, { businessDate }, { cause: err });
  }
  throw err;
}

/** A row of any core, each field already read; undefined when a field had a problem. */
export function rowOf(core: Core, fields: Partial<Omit<CoreExtractRow, 'core'>>): CoreExtractRow | undefined {
  const { kind, paymentId, coreReference, loanNumber, currency, amount, at, line } = fields;
  if (
    kind === undefined ||
    paymentId === undefined ||
    coreReference === undefined ||
    loanNumber === undefined ||
    currency === undefined ||
    amount === undefined ||
    at === undefined ||
    line === undefined
  ) {
    return undefined;
  }
  return Object.freeze({ core, kind, paymentId, coreReference, loanNumber, currency, amount, at, line });
}

/** The extract when the file had no problem; otherwise EXTRACT_INVALID listing every problem. */
export function finishExtract(input: {
  readonly core: Core;
  readonly businessDate: string;
  readonly fileName: string;
  readonly raw: Buffer;
  readonly rows: readonly CoreExtractRow[];
  readonly problems: readonly CoreExtractProblem[];
}): CoreExtract {
  const { core, businessDate, fileName, raw, rows, problems } = input;
  if (problems.length > 0) {
    const first = problems[0];
    const where = first ? ` (first: line ${first.line} field ${first.field}: ${first.message})` : '';
    throw new CoreExtractError(
      'EXTRACT_INVALID',
      core,
      `${fileName}: ${problems.length} problem${problems.length === 1 ? '' : 's'}${where}`,
      { fileName, businessDate, problems },
    );
  }
  return Object.freeze({
    core,
    businessDate,
    fileName,
    sha256: createHash('sha256').update(raw).digest('hex'),
    raw,
    rows: Object.freeze([...rows]),
  });
}
