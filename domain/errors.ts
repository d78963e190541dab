import type { AmountErrorCode } from './money';

// The one catalogue of problem codes the hub answers with (RFC 9457 problem+json, `code` member).
// docs/errors.md is checked against this table by a test, so a code cannot drift from its docs.

interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
}

const amountEntry = (title: string): CatalogueEntry => ({ status: 400, title });

export const ERROR_CATALOGUE = {
  // request shape
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  body_not_object: { status: 400, title: 'The body must be a JSON object' },
  unknown_field: { status: 400, title: 'The body has a field this endpoint does not accept' },
  missing_field: { status: 400, title: 'A required field is missing' },
  invalid_field_type: { status: 400, title: 'A field has the wrong JSON type' },
  invalid_loan_number: { status: 400, title: 'The loan number must be 12 digits' },
  invalid_channel_reference: {
    status: 400,
    title: 'The channel reference has a length or character that is not allowed',
  },
  invalid_payment_id: { status: 400, title: 'The payment id is not a LoanHub payment id' },
  unsupported_media_type: { status: 415, title: 'The body must be sent as application/json' },
  payload_too_large: { status: 413, title: 'The body is larger than this endpoint accepts' },
  // money
  amount_not_a_string: amountEntry('The amount must be a decimal string, not a JSON number'),
  amount_empty: amountEntry('The amount is empty'),
  amount_whitespace: amountEntry('The amount contains spaces'),
  amount_sign: amountEntry('The amount carries a sign'),
  amount_exponent: amountEntry('The amount uses exponent notation'),
  amount_grouping: amountEntry('The amount contains grouping separators'),
  amount_too_precise: amountEntry('The amount has more than two decimal places'),
  amount_malformed: amountEntry('The amount is not a decimal number'),
  amount_zero: amountEntry('The amount must be greater than zero'),
  amount_too_large: amountEntry('The amount exceeds the maximum per payment'),
  currency_unsupported: { status: 400, title: 'The currency is not PEN or USD' },
  // channel policy
  currency_not_allowed_for_channel: { status: 422, title: 'This channel may not take payments in this currency' },
  amount_below_channel_minimum: { status: 422, title: 'The amount is below the channel minimum per payment' },
  amount_above_channel_maximum: { status: 422, title: 'The amount is above the channel maximum per payment' },
  daily_limit_exceeded: { status: 422, title: 'The payment would exceed the channel limit per loan per business day' },
  channel_reference_format: { status: 400, title: "The channel reference does not follow this channel's format" },
  outside_operating_hours: { status: 409, title: 'The channel is outside its operating hours' },
  source_network_not_allowed: { status: 403, title: 'Requests for this channel are not accepted from this network' },
  // reversal
  reversal_not_allowed: { status: 403, title: 'This channel may not reverse payments' },
  reversal_window_closed: {
    status: 409,
    title: 'The payment can no longer be reversed (another business day, or past the reversal cutoff)',
  },
  payment_not_reversible: { status: 409, title: 'The payment is not in a state that can be reversed' },
  payment_in_batch: { status: 409, title: 'The payment is already in a mainframe batch' },
  // idempotency
  idempotency_key_missing: { status: 400, title: 'The Idempotency-Key header is required' },
  idempotency_key_invalid: {
    status: 400,
    title: 'The Idempotency-Key header has a length or character that is not allowed',
  },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was already used with a different request' },
  idempotency_key_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  // in-app WAF
  json_too_deep: { status: 400, title: 'The JSON body is nested too deeply' },
  json_too_many_keys: { status: 400, title: 'The JSON body has too many keys' },
  unknown_query_parameter: { status: 400, title: 'The query has a parameter this endpoint does not accept' },
  suspicious_input: { status: 400, title: 'The request carries characters or patterns that are not accepted' },
  // ops and reports
  invalid_business_date: { status: 400, title: 'The date must be a business date as YYYY-MM-DD' },
  rate_limited: { status: 429, title: 'Too many requests; retry after the time in Retry-After' },
  // resources
  not_found: { status: 404, title: 'No such endpoint' },
  unknown_channel: { status: 404, title: 'No such channel' },
  loan_not_found: { status: 404, title: 'No such loan' },
  payment_not_found: { status: 404, title: 'No such payment' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this endpoint' },
  // identity
  invalid_token: { status: 401, title: 'The access token is missing or not valid' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  invalid_grant_request: { status: 400, title: 'The token request is not a valid client-credentials request' },
  unsupported_grant_type: { status: 400, title: 'Only the client_credentials grant is supported' },
  forbidden_channel: { status: 403, title: 'The token does not belong to this channel' },
  insufficient_scope: { status: 403, title: 'The token lacks the scope this endpoint needs' },
  // the hub itself
  core_unavailable: { status: 503, title: 'The loan core did not answer; try again later' },
  service_unavailable: { status: 503, title: 'The hub is not ready' },
  metrics_failed: { status: 500, title: 'The metrics could not be collected' },
  internal_error: { status: 500, title: 'The hub failed; the error is logged with this request id' },
} as const satisfies Record<string, CatalogueEntry> & Record<AmountErrorCode, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * The hub's other codes: errors that are not an answer to a request but reach an operator (a process
 * that refuses to start, a CLI command that fails, a log line). Every Error subclass of the hub carries
 * a code from ERROR_CATALOGUE or from here, documented in docs/errors.md ("Operator codes"); a test
 * scans the code for any other. The file formats keep their own documented catalogues (copybooks/,
 * batch/, the core extracts in adapters/core-extract-errors.ts), and so does the bank's side (bank/).
 */
export const OPERATOR_ERROR_CATALOGUE = {
  // settings and the files they name
  config_invalid: 'A LOANHUB_* setting is missing or has a wrong value',
  core_config_invalid: "A core's URL, timeout or credentials setting is wrong",
  channel_policy_invalid: "A channel's policy file breaks its schema or rules",
  calendar_invalid: 'The business calendar file cannot be read or has a wrong date',
  webhook_secret_invalid: "A channel's webhook secret list is not whsec_ secrets",
  settlement_mapping_invalid: "A channel's settlement file mapping breaks its schema",
  // stores
  schema_too_new: 'The database holds a migration this code does not know: run the newer code',
  dead_letter_store_missing: 'The dead-letter store was not opened for this process',
  dead_letter_store_closed: 'The dead-letter store is closed',
  dead_letter_unreadable: 'A dead letter in the store cannot be read back',
  recon_not_run: 'No reconciliation run for that business date yet',
  // the broker
  transport_not_ready: 'The transport is not connected: publish again later',
  transport_closed: 'The transport was closed while a message still waited',
  publish_nacked: 'The broker refused a message',
  publish_unroutable: 'No queue is bound for a message',
  publish_timeout: 'No publisher confirm in time',
  topology_mismatch: 'A queue exists with other arguments than this code declares',
  // the cores and the identity provider
  vehicle_field_invalid: "A field of the vehicle core's XML does not follow its contract",
  ERR_JWKS_UNAVAILABLE:
    "The identity provider's JWKS could not be fetched and no keys are cached (named like jose's ERR_JWKS_* codes)",
} as const;

export type OperatorErrorCode = keyof typeof OPERATOR_ERROR_CATALOGUE;

/** An error the API answers as problem+json. `detail` is shown to the client; `context` goes to the log only. */
export class HubError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
    this.name = 'HubError';
    this.status = ERROR_CATALOGUE[code].status;
  }
}
