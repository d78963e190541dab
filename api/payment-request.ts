import { isLoanNumber } from '../domain/core-routing';
import { HubError } from '../domain/errors';
import { isCurrency, parseAmount } from '../domain/money';
import type { PaymentRequest } from '../payments/accept-payment';

// Turns a parsed JSON body into a PaymentRequest, or a problem with the code that says exactly what to
// fix. Unknown fields are refused (a typo must not be silently ignored on a money endpoint).

export const PAYMENT_FIELDS = ['loanNumber', 'amount', 'currency', 'channelReference'] as const;
export const CHANNEL_REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function parsePaymentRequest(body: unknown, maxAmountMinor: bigint): PaymentRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HubError(
      'body_not_object',
      'the body must be a JSON object with loanNumber, amount, currency and channelReference',
    );
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !(PAYMENT_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new HubError('unknown_field', `fields not accepted here: ${unknown.slice(0, 5).map(safeName).join(', ')}`, {
      fields: unknown.slice(0, 5).map(safeName),
    });
  }
  for (const field of PAYMENT_FIELDS) {
    if (record[field] === undefined) throw new HubError('missing_field', `${field} is required`, { field });
  }
  const { loanNumber, amount, currency, channelReference } = record;
  if (typeof loanNumber !== 'string') throw typeError('loanNumber', 'string');
  if (!isLoanNumber(loanNumber)) throw new HubError('invalid_loan_number', 'loanNumber must be exactly 12 digits');
  const parsed = parseAmount(amount, maxAmountMinor);
  if (!parsed.ok) throw new HubError(parsed.code, parsed.detail, { field: 'amount' });
  if (typeof currency !== 'string') throw typeError('currency', 'string');
  if (!isCurrency(currency))
    throw new HubError('currency_unsupported', 'currency must be PEN or USD', { field: 'currency' });
  if (typeof channelReference !== 'string') throw typeError('channelReference', 'string');
  if (!CHANNEL_REFERENCE_PATTERN.test(channelReference)) {
    throw new HubError(
      'invalid_channel_reference',
      'channelReference must be 1-64 characters: letters, digits and . _ : / - (starting with a letter or digit)',
    );
  }
  return { loanNumber, amount: parsed.value, currency, channelReference };
}

function typeError(field: string, expected: string): HubError {
  return new HubError('invalid_field_type', `${field} must be a JSON ${expected}`, { field });
}

/** Field names are echoed back, so keep them short and printable. */
function safeName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
