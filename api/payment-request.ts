import type { z } from 'zod';
import { HubError } from '../domain/errors';
import { isCurrency, parseAmount } from '../domain/money';
import type { PaymentRequest } from '../payments/accept-payment';
import { paymentRequestSchema, reversalRequestSchema } from './schemas';

// Turns a parsed JSON body into a PaymentRequest, or a problem whose code says exactly what to fix. The
// shape comes from the same zod schema /openapi.json is generated from; the codes come from here.

const FIELD_ORDER = ['loanNumber', 'amount', 'currency', 'channelReference'] as const;

export function parsePaymentRequest(body: unknown, maxAmountMinor: bigint): PaymentRequest {
  requireObject(body);
  const parsed = paymentRequestSchema.safeParse(body);
  if (!parsed.success) throw problemFor(parsed.error, body as Record<string, unknown>, maxAmountMinor);
  const amount = parseAmount(parsed.data.amount, maxAmountMinor);
  if (!amount.ok) throw new HubError(amount.code, amount.detail, { field: 'amount' });
  return { ...parsed.data, amount: amount.value };
}

export function parseReversalRequest(body: unknown): { reason?: string } {
  if (body === undefined) return {};
  requireObject(body);
  const parsed = reversalRequestSchema.safeParse(body);
  if (!parsed.success) {
    const unknown = unknownKeys(parsed.error);
    if (unknown.length > 0) throw unknownFields(unknown);
    throw new HubError('invalid_field_type', 'reason must be 1-80 letters, digits, spaces or . _ : -', {
      field: 'reason',
    });
  }
  return parsed.data;
}

function requireObject(body: unknown): asserts body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HubError('body_not_object', 'the body must be a JSON object');
  }
}

function problemFor(error: z.ZodError, body: Record<string, unknown>, maxAmountMinor: bigint): HubError {
  const unknown = unknownKeys(error);
  if (unknown.length > 0) return unknownFields(unknown);
  const failed = new Set(error.issues.map((i) => String(i.path[0])));
  for (const field of FIELD_ORDER) {
    if (!failed.has(field)) continue;
    const value = body[field];
    if (value === undefined) return new HubError('missing_field', `${field} is required`, { field });
    switch (field) {
      case 'amount': {
        const r = parseAmount(value, maxAmountMinor);
        return r.ok
          ? new HubError('amount_malformed', 'amount is not a decimal number', { field })
          : new HubError(r.code, r.detail, { field });
      }
      case 'loanNumber':
        return typeof value === 'string'
          ? new HubError('invalid_loan_number', 'loanNumber must be exactly 12 digits', { field })
          : typeError(field);
      case 'currency':
        return typeof value === 'string' && !isCurrency(value)
          ? new HubError('currency_unsupported', 'currency must be PEN or USD', { field })
          : typeError(field);
      case 'channelReference':
        return typeof value === 'string'
          ? new HubError(
              'invalid_channel_reference',
              'channelReference must be 1-64 characters: letters, digits and . _ : / - (starting with a letter or digit)',
              { field },
            )
          : typeError(field);
      default: {
        const never: never = field;
        return typeError(String(never));
      }
    }
  }
  return new HubError('body_not_object', 'the body does not match the payment schema');
}

function unknownKeys(error: z.ZodError): string[] {
  return error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []));
}

function unknownFields(keys: readonly string[]): HubError {
  const names = keys.slice(0, 5).map((k) => k.replace(/[^\x20-\x7e]/g, '?').slice(0, 40));
  return new HubError('unknown_field', `fields not accepted here: ${names.join(', ')}`, { fields: names });
}

function typeError(field: string): HubError {
  return new HubError('invalid_field_type', `${field} must be a JSON string`, { field });
}
