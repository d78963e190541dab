import { z } from 'zod';
import { CHANNELS, CORES } from '../domain/channel';
import { LOAN_NUMBER_PATTERN } from '../domain/core-routing';
import { CURRENCIES } from '../domain/money';
import { PAYMENT_STATUSES } from '../domain/payment-state';

// The API's schemas, in one place: the request validator runs them and /openapi.json is generated from
// them, so the documentation cannot drift from what the code accepts.

export const CHANNEL_REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const AMOUNT_PATTERN = /^\d{1,20}(\.\d{1,2})?$/;

export const loanNumberSchema = z
  .string()
  .regex(LOAN_NUMBER_PATTERN)
  .describe('12 digits; the first two name the core: 10 cash, 20 mortgage, 30 vehicle');
export const amountSchema = z
  .string()
  .regex(AMOUNT_PATTERN)
  .describe('decimal string, at most 2 decimals, greater than zero, e.g. "125.50"');

export const paymentRequestSchema = z
  .strictObject({
    loanNumber: loanNumberSchema,
    amount: amountSchema,
    currency: z.enum(CURRENCIES),
    channelReference: z
      .string()
      .regex(CHANNEL_REFERENCE_PATTERN)
      .describe("the channel's own reference; each channel has its format (see the channel policy)"),
  })
  .meta({ id: 'PaymentRequest' });

export const reversalRequestSchema = z
  .strictObject({
    reason: z
      .string()
      .regex(/^[A-Za-z0-9 ._:-]{1,80}$/)
      .optional(),
  })
  .meta({ id: 'ReversalRequest', description: 'optional; an empty body is accepted' });

export const paymentSchema = z
  .strictObject({
    paymentId: z.uuid().describe('UUIDv7, sortable by creation time'),
    receiptNumber: z.string(),
    status: z.enum(PAYMENT_STATUSES),
    reason: z.string().optional().describe('why the core rejected the payment, or refused its reversal'),
    channel: z.enum(CHANNELS),
    channelReference: z.string(),
    loanNumber: loanNumberSchema,
    core: z.enum(CORES),
    amount: amountSchema,
    currency: z.enum(CURRENCIES),
    businessDate: z.iso.date().describe("the bank's business date (fecha contable) the payment belongs to"),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Payment' });

export const loanSchema = z
  .strictObject({
    loanNumber: loanNumberSchema,
    core: z.enum(CORES),
    currency: z.enum(CURRENCIES),
    amountDue: z.string().regex(/^\d+\.\d{2}$/),
    status: z.enum(['ACTIVE', 'CLOSED']),
  })
  .meta({ id: 'Loan' });

export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('stable problem code; see docs/errors.md'),
    detail: z.string(),
    requestId: z.string().optional(),
    errors: z
      .array(
        z.looseObject({
          code: z.string(),
          detail: z.string(),
          pointer: z.string().optional().describe('JSON Pointer (as a URI fragment) of the body field'),
          field: z.string().optional(),
          header: z.string().optional(),
        }),
      )
      .optional()
      .describe('every problem of the request, one per field or header; the first is the problem itself'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; see docs/errors.md' });

export const tokenResponseSchema = z
  .strictObject({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .meta({ id: 'TokenResponse' });
