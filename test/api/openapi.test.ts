import { buildOpenApi } from '../../api/openapi';
import { parsePaymentRequest } from '../../api/payment-request';
import { AMOUNT_PATTERN, CHANNEL_REFERENCE_PATTERN, paymentRequestSchema } from '../../api/schemas';
import { LOAN_NUMBER_PATTERN } from '../../domain/core-routing';
import { ERROR_CATALOGUE } from '../../domain/errors';
import { api, startTestHub, type TestHub } from '../integration/hub-fixture';

// /openapi.json is generated from the schemas the code validates with; these tests fail when the
// document and the running API drift apart.

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

describe('/openapi.json', () => {
  it('is served as OpenAPI 3.1 and lists every channel route the API really has, and no other', async () => {
    const doc = (await api(`${t.url}/openapi.json`)).json as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace('/v1/{channel}', '')}`))
      .sort();
    const probes: Array<[string, string]> = documented.map((d) => {
      const [method, p] = d.split(' ');
      return [
        method ?? '',
        (p ?? '')
          .replace('{loanNumber}', '100000000001')
          .replace('{paymentId}', '01a20000-0000-7000-8000-000000000000'),
      ];
    });
    // Every documented operation exists: without a token it is 401, never 404/405.
    for (const [method, p] of probes) {
      const r = await api(`${t.url}/v1/app${p}`, { method });
      expect([method, p, r.status]).toEqual([method, p, 401]);
    }
    // And an undocumented one does not exist.
    const r = await api(`${t.url}/v1/app/payments/01a20000-0000-7000-8000-000000000000`, { method: 'DELETE' });
    expect(r.status).toBe(404);
  });

  it('carries the request schema with the patterns and fields the validator uses', () => {
    const doc = buildOpenApi() as {
      components: {
        schemas: Record<
          string,
          { properties: Record<string, { pattern?: string }>; required: string[]; additionalProperties: boolean }
        >;
      };
    };
    const schema = doc.components.schemas.PaymentRequest;
    if (!schema) throw new Error('no PaymentRequest schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required.sort()).toEqual(Object.keys(paymentRequestSchema.shape).sort());
    expect(schema.properties.loanNumber?.pattern).toBe(LOAN_NUMBER_PATTERN.source);
    expect(schema.properties.amount?.pattern).toBe(AMOUNT_PATTERN.source);
    expect(schema.properties.channelReference?.pattern).toBe(CHANNEL_REFERENCE_PATTERN.source);
    // A body the document allows is one the validator takes, and the other way round.
    const ok = { loanNumber: '100000000001', amount: '10.50', currency: 'PEN', channelReference: 'APP-1' };
    expect(() => parsePaymentRequest(ok, 10n ** 10n)).not.toThrow();
    expect(() => parsePaymentRequest({ ...ok, extra: 1 }, 10n ** 10n)).toThrow(
      expect.objectContaining({ code: 'unknown_field' }),
    );
  });

  it('lists every problem code of the catalogue with its status, and names only real codes in responses', () => {
    const doc = buildOpenApi() as {
      'x-problem-codes': Record<string, { status: number }>;
      paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>>;
    };
    expect(Object.keys(doc['x-problem-codes']).sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          for (const m of (response.description ?? '').matchAll(/`([a-z_]+)`/g)) {
            const code = m[1] as keyof typeof ERROR_CATALOGUE;
            expect([code, ERROR_CATALOGUE[code]?.status]).toEqual([code, Number(status)]);
          }
        }
      }
    }
  });

  it('has a readable docs page', async () => {
    const r = await api(`${t.url}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.text).toContain('POST /v1/{channel}/payments/{paymentId}/reversal');
    expect(r.text).toContain('idempotency_key_reused');
  });
});
