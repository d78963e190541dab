import { z } from 'zod';
import { CHANNELS } from '../domain/channel';
import { ERROR_CATALOGUE } from '../domain/errors';
import {
  loanSchema,
  paymentRequestSchema,
  paymentSchema,
  problemSchema,
  reversalRequestSchema,
  tokenResponseSchema,
} from './schemas';

// /openapi.json (OpenAPI 3.1), generated from the same zod schemas the request validator runs.

type Json = Record<string, unknown>;

const problemResponse = (description: string, codes: readonly (keyof typeof ERROR_CATALOGUE)[]): Json => ({
  description: `${description}. Codes: ${codes.map((c) => `\`${c}\``).join(', ')}`,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const channelParam: Json = {
  name: 'channel',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: [...CHANNELS] },
};
const paymentIdParam: Json = {
  name: 'paymentId',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
const idempotencyHeader: Json = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description:
    'Unique per request (a UUID). The same key and body replays the original answer (`Idempotent-Replayed: true`); another body gets 422; kept 24 h.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const common = [
  problemResponse('Missing or invalid token', ['invalid_token']),
  problemResponse('Token of another channel, or without the scope', ['forbidden_channel', 'insufficient_scope']),
  problemResponse('Too many requests (see Retry-After)', ['rate_limited']),
] as const;
const commonResponses = { '401': common[0], '403': common[1], '429': common[2] };

/** Tags group the operations in generated clients and docs. */
const TAGS = [
  { name: 'loans', description: 'Debt inquiry (consulta de deuda) of a loan, answered by the core that owns it' },
  { name: 'payments', description: 'Taking payments and reading their status' },
  { name: 'reversals', description: 'Same-day reversal (extorno) of a payment' },
  { name: 'oauth', description: 'Access tokens of the embedded issuer (absent when the hub uses an external IdP)' },
] as const;
type Tag = (typeof TAGS)[number]['name'];

/**
 * The members every operation carries: a stable `operationId` (the method name of a generated client,
 * so never renamed), its tag, a description, and the OAuth scope it needs as a security requirement.
 */
function operation(operationId: string, tag: Tag, summary: string, description: string, scope?: string): Json {
  return {
    operationId,
    tags: [tag],
    summary,
    description,
    ...(scope ? { 'x-scope': scope, security: [{ oauth2: [scope] }, { bearer: [] }] } : {}),
  };
}

export function buildOpenApi(): Json {
  // One generation over the registry the schemas' ids put them in, with refs pointing into components.
  const ids = [
    paymentRequestSchema,
    reversalRequestSchema,
    paymentSchema,
    loanSchema,
    problemSchema,
    tokenResponseSchema,
  ].map((s) => s.meta()?.id);
  const generated = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  const schemas: Json = {};
  for (const id of ids) {
    const json = typeof id === 'string' ? generated.schemas[id] : undefined;
    if (!json || typeof id !== 'string') throw new Error(`API schema ${String(id)} missing from the registry`);
    // No `$id`: zod writes the uri given above as `$id`, and a `$id` with a fragment is forbidden by
    // JSON Schema 2020-12 (§8.2.1), so strict validators refused the whole document. The schemas are
    // found by their place in components; `$ref`s point there.
    const { $schema: _s, $id: _dollarId, id: _id, ...rest } = json;
    schemas[id] = rest;
  }
  const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });
  const jsonBody = (id: string): Json => ({ 'application/json': { schema: ref(id) } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'LoanHub channel API',
      version: '1.0.0',
      description:
        'Loan payments for the bank\'s channels. Amounts are decimal strings ("125.50"), never JSON numbers. Every error is RFC 9457 problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: TAGS.map((t) => ({ ...t })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        oauth2: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: '/oauth/token',
              scopes: {
                'loans:read': 'inquire loans and read payments',
                'payments:write': 'take payments',
                'payments:reverse': 'reverse payments the same day',
              },
            },
          },
        },
      },
      schemas,
    },
    'x-problem-codes': Object.fromEntries(
      Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, { status: e.status, title: e.title }]),
    ),
    paths: {
      '/oauth/token': {
        post: {
          ...operation(
            'issueToken',
            'oauth',
            'Client-credentials token (embedded issuer)',
            'OAuth 2.0 client-credentials grant (RFC 6749 §4.4) of the embedded issuer. Authenticate the client with HTTP Basic or with client_id and client_secret in the form; the token is an ES256 JWT (RFC 9068) valid for the scopes asked (all of them when none).',
          ),
          security: [],
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  properties: { grant_type: { const: 'client_credentials' }, scope: { type: 'string' } },
                  required: ['grant_type'],
                },
              },
            },
          },
          responses: {
            '200': { description: 'an access token', content: jsonBody('TokenResponse') },
            '400': problemResponse('Bad grant', ['unsupported_grant_type', 'invalid_grant_request']),
            '401': problemResponse('Bad client credentials', ['invalid_client']),
          },
        },
      },
      '/v1/{channel}/loans/{loanNumber}': {
        get: {
          ...operation(
            'getLoan',
            'loans',
            'Debt inquiry',
            "The loan's currency, amount due and status, asked of the core that owns it (the first two digits of the loan number).",
            'loans:read',
          ),
          parameters: [
            channelParam,
            { name: 'loanNumber', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{12}$' } },
          ],
          responses: {
            '200': { description: 'the loan and its amount due', content: jsonBody('Loan') },
            '400': problemResponse('Malformed loan number', ['invalid_loan_number']),
            '404': problemResponse('Unknown loan or channel', ['loan_not_found', 'unknown_channel']),
            '503': problemResponse('The core did not answer', ['core_unavailable']),
            ...commonResponses,
          },
        },
      },
      '/v1/{channel}/payments': {
        post: {
          ...operation(
            'createPayment',
            'payments',
            'Take a payment',
            "Takes a payment exactly once: the same Idempotency-Key and body replay the first answer. The request is checked against the schema and the channel's policy (reference format, currency, limits per currency, hours) and every problem is answered at once in `errors`. A 201 means the payment is durable (ACCEPTED); the core applies it asynchronously and a webhook tells the result.",
            'payments:write',
          ),
          parameters: [channelParam, idempotencyHeader],
          requestBody: { required: true, content: jsonBody('PaymentRequest') },
          responses: {
            '201': {
              description: 'accepted (durable); the core applies it asynchronously',
              content: jsonBody('Payment'),
            },
            '400': problemResponse('Invalid request', [
              'malformed_json',
              'body_not_object',
              'unknown_field',
              'missing_field',
              'invalid_field_type',
              'invalid_loan_number',
              'invalid_channel_reference',
              'channel_reference_format',
              'amount_not_a_string',
              'amount_malformed',
              'amount_too_precise',
              'amount_zero',
              'amount_too_large',
              'currency_unsupported',
              'idempotency_key_missing',
              'idempotency_key_invalid',
              'json_too_deep',
              'json_too_many_keys',
              'suspicious_input',
            ]),
            '409': problemResponse('Conflict', ['idempotency_key_in_flight', 'outside_operating_hours']),
            '413': problemResponse('Body too large', ['payload_too_large']),
            '415': problemResponse('Not JSON', ['unsupported_media_type']),
            '422': problemResponse('Refused by policy or idempotency', [
              'idempotency_key_reused',
              'currency_not_allowed_for_channel',
              'amount_below_channel_minimum',
              'amount_above_channel_maximum',
              'daily_limit_exceeded',
            ]),
            ...commonResponses,
          },
        },
        get: {
          ...operation(
            'findPaymentsByReference',
            'payments',
            "Find the channel's payments by its own reference",
            "The payments this channel took with the given channelReference (never another channel's); an empty list when there are none.",
            'loans:read',
          ),
          parameters: [
            channelParam,
            { name: 'channelReference', in: 'query', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'matching payments of this channel (possibly none)',
              content: { 'application/json': { schema: { type: 'array', items: ref('Payment') } } },
            },
            '400': problemResponse('Bad query', [
              'missing_field',
              'invalid_channel_reference',
              'unknown_query_parameter',
            ]),
            ...commonResponses,
          },
        },
      },
      '/v1/{channel}/payments/{paymentId}': {
        get: {
          ...operation(
            'getPayment',
            'payments',
            'Payment status',
            "One of the channel's payments by the paymentId it was answered with: ACCEPTED, APPLIED, REJECTED (with reason), REVERSAL_PENDING, REVERSED, POSTED or POST_REJECTED.",
            'loans:read',
          ),
          parameters: [channelParam, paymentIdParam],
          responses: {
            '200': { description: 'the payment', content: jsonBody('Payment') },
            '400': problemResponse('Malformed id', ['invalid_payment_id']),
            '404': problemResponse('No such payment for this channel', ['payment_not_found']),
            ...commonResponses,
          },
        },
      },
      '/v1/{channel}/payments/{paymentId}/reversal': {
        post: {
          ...operation(
            'reversePayment',
            'reversals',
            'Same-day reversal (extorno)',
            "Asks the payment's core to reverse an APPLIED payment on its own business day, before the channel's reversal cutoff. Idempotent like a payment; the payment is REVERSAL_PENDING until the core confirms (REVERSED) or refuses (APPLIED again, with reason).",
            'payments:reverse',
          ),
          parameters: [channelParam, paymentIdParam, idempotencyHeader],
          requestBody: { required: false, content: jsonBody('ReversalRequest') },
          responses: {
            '202': {
              description:
                'reversal requested; the payment is REVERSAL_PENDING until its core confirms (then REVERSED)',
              content: jsonBody('Payment'),
            },
            '400': problemResponse('Invalid request', [
              'invalid_payment_id',
              'malformed_json',
              'body_not_object',
              'unknown_field',
              'invalid_field_type',
              'idempotency_key_missing',
              'idempotency_key_invalid',
              'json_too_deep',
              'json_too_many_keys',
              'suspicious_input',
            ]),
            '401': common[0],
            '403': problemResponse('Channel may not reverse', [
              'reversal_not_allowed',
              'forbidden_channel',
              'insufficient_scope',
            ]),
            '404': problemResponse('No such payment for this channel', ['payment_not_found']),
            '409': problemResponse('Not reversible now', [
              'reversal_window_closed',
              'payment_not_reversible',
              'payment_in_batch',
              'idempotency_key_in_flight',
            ]),
            '413': problemResponse('Body too large', ['payload_too_large']),
            '415': problemResponse('Not JSON', ['unsupported_media_type']),
            '422': problemResponse('Key reused with another request', ['idempotency_key_reused']),
            '429': common[2],
          },
        },
      },
    },
  };
}

export function renderDocsPage(doc: Json): string {
  const esc = (s: unknown): string => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const sections = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const responses = Object.entries(op.responses as Record<string, Json>)
          .map(([status, r]) => `<li><b>${esc(status)}</b> ${esc(r.description)}</li>`)
          .join('');
        const scope = op['x-scope'] ? ` <span class="scope">scope ${esc(op['x-scope'])}</span>` : '';
        return `<section><h2><code>${esc(method.toUpperCase())} ${esc(path)}</code></h2><p><b>${esc(op.summary)}</b> <code>${esc(op.operationId)}</code>${scope}</p><p>${esc(op.description)}</p><ul>${responses}</ul></section>`;
      }),
    )
    .join('\n');
  const schemas = (doc.components as { schemas: Json }).schemas;
  const schemaBlocks = Object.entries(schemas)
    .map(([name, s]) => `<section><h3>${esc(name)}</h3><pre>${esc(JSON.stringify(s, null, 2))}</pre></section>`)
    .join('\n');
  const codes = Object.entries(doc['x-problem-codes'] as Record<string, { status: number; title: string }>)
    .map(([c, e]) => `<tr><td><code>${esc(c)}</code></td><td>${e.status}</td><td>${esc(e.title)}</td></tr>`)
    .join('');
  const info = doc.info as Json;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1c2330}code,pre{font:13px ui-monospace,monospace}
pre{background:#f4f6f8;padding:.8rem;overflow:auto}h2{font-size:1.05rem;margin-top:2rem}.scope{color:#5b6b7f;font-size:.85rem;margin-left:.5rem}
table{border-collapse:collapse}td{border-top:1px solid #dde3ea;padding:.25rem .6rem}</style></head><body>
<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections}<h2>Schemas</h2>${schemaBlocks}<h2>Problem codes</h2><table>${codes}</table></body></html>`;
}
