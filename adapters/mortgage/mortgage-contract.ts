// The mortgage core's wire contract (crédito hipotecario): JSON with decimal-string amounts, each
// payment allocated to interest, then insurance, then principal; HTTP Basic auth (RFC 7617); errors
// as `{ errorCode: "MTG-1xx", message }` with a 4xx status.

export const MORTGAGE_USERNAME_ENV = 'LOANHUB_CORE_MORTGAGE_USER';
export const MORTGAGE_PASSWORD_ENV = 'LOANHUB_CORE_MORTGAGE_PASSWORD';
/** Development defaults; the simulator and the adapter both fall back to them when the variables are unset. */
export const DEFAULT_MORTGAGE_USERNAME = 'loanhub';
export const DEFAULT_MORTGAGE_PASSWORD = 'loanhub-dev-mortgage-secret';

/** Allocation order of a payment, and the bucket names on the wire. */
export const MORTGAGE_BUCKETS = ['interest', 'insurance', 'principal'] as const;
export type MortgageBucket = (typeof MORTGAGE_BUCKETS)[number];

export const MORTGAGE_LOAN_PATH = /^\/mortgage\/api\/v2\/mortgages\/([^/]+)$/;
export const MORTGAGE_PAYMENTS_PATH = /^\/mortgage\/api\/v2\/mortgages\/([^/]+)\/payments$/;
export const MORTGAGE_REVERSAL_PATH = /^\/mortgage\/api\/v2\/mortgages\/([^/]+)\/payments\/([^/]+)\/reversal$/;

/** The daily extract (JSON) of the payments applied and reversals done on a business date. */
export const MORTGAGE_EXTRACT_PATH = /^\/mortgage\/api\/v2\/extracts\/([^/]+)$/;
export const mortgageExtractPath = (businessDate: string): string =>
  `/mortgage/api/v2/extracts/${encodeURIComponent(businessDate)}`;
export type MortgageMovementType = 'PAYMENT' | 'REVERSAL';

export const mortgageLoanPath = (mortgageId: string): string =>
  `/mortgage/api/v2/mortgages/${encodeURIComponent(mortgageId)}`;
export const mortgagePaymentsPath = (mortgageId: string): string => `${mortgageLoanPath(mortgageId)}/payments`;
export const mortgageReversalPath = (mortgageId: string, clientReference: string): string =>
  `${mortgagePaymentsPath(mortgageId)}/${encodeURIComponent(clientReference)}/reversal`;

/** Every error the mortgage core answers: code -> HTTP status and meaning. */
export const MORTGAGE_ERRORS = Object.freeze({
  'MTG-101': { status: 409, meaning: 'mortgage paid off (closed)' },
  'MTG-102': { status: 422, meaning: 'payment exceeds the outstanding balance' },
  'MTG-103': { status: 422, meaning: 'currency differs from the mortgage currency' },
  'MTG-104': { status: 404, meaning: 'mortgage not found' },
  'MTG-105': { status: 400, meaning: 'invalid amount' },
  'MTG-106': { status: 404, meaning: 'payment to reverse not found' },
  'MTG-109': { status: 409, meaning: 'clientReference already used for a different payment' },
  'MTG-400': { status: 400, meaning: 'malformed request' },
  'MTG-401': { status: 401, meaning: 'authentication required' },
  'MTG-404': { status: 404, meaning: 'no such endpoint' },
} as const);
export type MortgageErrorCode = keyof typeof MORTGAGE_ERRORS;

export type MortgageStatus = 'CURRENT' | 'PAID_OFF';

export function mortgageCredentialsFromEnv(env: NodeJS.ProcessEnv): { username: string; password: string } {
  return {
    username: env[MORTGAGE_USERNAME_ENV] ?? DEFAULT_MORTGAGE_USERNAME,
    password: env[MORTGAGE_PASSWORD_ENV] ?? DEFAULT_MORTGAGE_PASSWORD,
  };
}

/** RFC 7617 Basic credentials (user-id and password joined by a colon, UTF-8, base64). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
