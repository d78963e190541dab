import { LOAN_NUMBER_PATTERN } from '../domain/core-routing';
import { HubError } from '../domain/errors';
import { isCurrency, parseAmount } from '../domain/money';
import type { PaymentRequest } from '../payments/payment-request';
import { everyProblem, type PaymentFields } from '../payments/channel-rules';
import { AMOUNT_PATTERN, CHANNEL_REFERENCE_PATTERN, paymentRequestSchema, reversalRequestSchema } from './schemas';

// Turns a parsed JSON body into a PaymentRequest, or into every problem it has, each with a code that
// says exactly what to fix (parse, then validate: STYLE habit 5). The patterns are the ones the zod
// schemas (and so /openapi.json) carry; the codes come from here.

const FIELD_ORDER = ['loanNumber', 'amount', 'currency', 'channelReference'] as const;
const MAX_UNKNOWN_REPORTED = 20;

export type PaymentRequestReading =
  | { readonly ok: true; readonly request: PaymentRequest }
  | { readonly ok: false; readonly fields: PaymentFields; readonly problems: readonly HubError[] };

/** Reads the body field by field: the fields that are valid, and a problem for each one that is not. */
export function readPaymentRequest(body: unknown, maxAmountMinor: bigint): PaymentRequestReading {
  if (!isObject(body)) return { ok: false, fields: {}, problems: [notAnObject()] };
  const problems: HubError[] = unknownFields(body, Object.keys(paymentRequestSchema.shape));
  const fields: { -readonly [K in keyof PaymentRequest]?: PaymentRequest[K] } = {};
  for (const field of FIELD_ORDER) {
    const value = body[field];
    if (value === undefined) {
      problems.push(new HubError('missing_field', `${field} is required`, { field }));
      continue;
    }
    switch (field) {
      case 'loanNumber':
        if (typeof value !== 'string') problems.push(typeError(field));
        else if (!LOAN_NUMBER_PATTERN.test(value))
          problems.push(new HubError('invalid_loan_number', 'loanNumber must be exactly 12 digits', { field }));
        else fields.loanNumber = value;
        break;
      case 'amount': {
        const r = parseAmount(value, maxAmountMinor);
        if (!r.ok) problems.push(new HubError(r.code, r.detail, { field }));
        else if (typeof value !== 'string' || !AMOUNT_PATTERN.test(value))
          problems.push(new HubError('amount_malformed', 'amount is not a decimal number', { field }));
        else fields.amount = r.value;
        break;
      }
      case 'currency':
        if (typeof value !== 'string') problems.push(typeError(field));
        else if (!isCurrency(value))
          problems.push(new HubError('currency_unsupported', 'currency must be PEN or USD', { field }));
        else fields.currency = value;
        break;
      case 'channelReference':
        if (typeof value !== 'string') problems.push(typeError(field));
        else if (!CHANNEL_REFERENCE_PATTERN.test(value))
          problems.push(
            new HubError(
              'invalid_channel_reference',
              'channelReference must be 1-64 characters: letters, digits and . _ : / - (starting with a letter or digit)',
              { field },
            ),
          );
        else fields.channelReference = value;
        break;
      default: {
        const never: never = field;
        problems.push(typeError(String(never)));
      }
    }
  }
  const { loanNumber, amount, currency, channelReference } = fields;
  if (
    problems.length > 0 ||
    loanNumber === undefined ||
    amount === undefined ||
    currency === undefined ||
    channelReference === undefined
  )
    return { ok: false, fields, problems };
  return { ok: true, request: { loanNumber, amount, currency, channelReference } };
}

/** The request, or one error carrying every problem (the first one's code as `code`). */
export function parsePaymentRequest(body: unknown, maxAmountMinor: bigint): PaymentRequest {
  const reading = readPaymentRequest(body, maxAmountMinor);
  if (!reading.ok) throw everyProblem(reading.problems);
  return reading.request;
}

/** Every problem of a reversal body (optional; at most a `reason`), empty when none. */
export function reversalRequestProblems(body: unknown): HubError[] {
  if (body === undefined) return [];
  if (!isObject(body)) return [notAnObject()];
  const problems = unknownFields(body, Object.keys(reversalRequestSchema.shape));
  if (body.reason !== undefined && !reversalRequestSchema.shape.reason.safeParse(body.reason).success) {
    problems.push(
      new HubError('invalid_field_type', 'reason must be 1-80 letters, digits, spaces or . _ : -', {
        field: 'reason',
      }),
    );
  }
  return problems;
}

function isObject(body: unknown): body is Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body);
}

function notAnObject(): HubError {
  return new HubError('body_not_object', 'the body must be a JSON object');
}

/** One problem per field the endpoint does not take; names are cut and made printable before echoing. */
function unknownFields(body: Record<string, unknown>, known: readonly string[]): HubError[] {
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  return unknown.slice(0, MAX_UNKNOWN_REPORTED).map((key) => {
    const name = key.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
    return new HubError('unknown_field', `${name} is not a field of this request`, { field: name });
  });
}

function typeError(field: string): HubError {
  return new HubError('invalid_field_type', `${field} must be a JSON string`, { field });
}
