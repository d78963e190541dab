// The cash-loan core's wire contract (crédito efectivo): JSON, amounts as integer cents, an API key
// header, and errors as 4xx `{ result: "ERROR", errorCode, message }`. Shared by the simulator and
// the adapter so both sides read one definition.

export const CASH_API_KEY_HEADER = 'x-api-key';
export const CASH_API_KEY_ENV = 'LOANHUB_CORE_CASH_API_KEY';
/** Development default; the simulator and the adapter both fall back to it when the variable is unset. */
export const DEFAULT_CASH_API_KEY = 'loanhub-dev-cash-key';

export const CASH_LOAN_PATH = /^\/cash\/v1\/loans\/([^/]+)$/;
export const CASH_PAYMENTS_PATH = '/cash/v1/payments';
export const CASH_REVERSAL_PATH = /^\/cash\/v1\/payments\/([^/]+)\/reversal$/;

/** The daily extract (CSV) of the payments applied and reversals done on a business date. */
export const CASH_EXTRACT_PATH = /^\/cash\/v1\/extracts\/([^/]+)$/;
export const cashExtractPath = (businessDate: string): string =>
  `/cash/v1/extracts/${encodeURIComponent(businessDate)}`;
/** The header line of the extract; one line per movement follows, comma-separated, no quoting. */
export const CASH_EXTRACT_COLUMNS = [
  'record_type',
  'external_ref',
  'txn_id',
  'loan_id',
  'currency',
  'amount_cents',
  'booked_at',
] as const;
export type CashExtractRecordType = 'PAYMENT' | 'REVERSAL';

export const cashLoanPath = (loanId: string): string => `/cash/v1/loans/${encodeURIComponent(loanId)}`;
export const cashReversalPath = (externalRef: string): string =>
  `/cash/v1/payments/${encodeURIComponent(externalRef)}/reversal`;

/** Every error the cash core answers, with its HTTP status. */
export const CASH_ERROR_STATUS = Object.freeze({
  BAD_REQUEST: 400,
  INVALID_AMOUNT: 400,
  UNAUTHORIZED: 401,
  LOAN_NOT_FOUND: 404,
  PAYMENT_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  LOAN_CLOSED: 409,
  DUPLICATE_REFERENCE: 409,
  OVERPAYMENT: 422,
  CURRENCY_MISMATCH: 422,
} as const);
export type CashErrorCode = keyof typeof CASH_ERROR_STATUS;

export type CashLoanState = 'OPEN' | 'CLOSED';

export function cashApiKeyFromEnv(env: NodeJS.ProcessEnv): string {
  return env[CASH_API_KEY_ENV] ?? DEFAULT_CASH_API_KEY;
}
