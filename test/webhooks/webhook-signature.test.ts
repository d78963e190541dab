import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { backoffDelayMs, DEFAULT_RETRY_SCHEDULE, parseRetryAfter } from '../../webhooks/retry-schedule';
import {
  parseSecret,
  parseSecretList,
  signatureHeader,
  signWebhook,
  verifyWebhook,
  WebhookSecretError,
} from '../../webhooks/webhook-signature';

// The example vector published with the Standard Webhooks reference libraries
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function works").
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const secretA = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const secretB = 'whsec_' + Buffer.alloc(32, 2).toString('base64');

describe('Standard Webhooks signatures', () => {
  it("signs the spec's published example exactly", () => {
    const key = parseSecret(SPEC.secret, 'test');
    expect(signatureHeader([key], SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it("verifies the spec's published example at its own time", () => {
    const key = parseSecret(SPEC.secret, 'test');
    const headers = {
      'webhook-id': SPEC.id,
      'webhook-timestamp': String(SPEC.timestamp),
      'webhook-signature': SPEC.signature,
    };
    expect(verifyWebhook([key], headers, SPEC.body, { now: new Date(SPEC.timestamp * 1000) })).toEqual({ ok: true });
  });

  it('matches an independent HMAC over id.timestamp.body with the decoded secret', () => {
    const at = new Date('2026-11-23T17:00:00Z');
    const headers = signWebhook([parseSecret(secretA, 'test')], 'pay-1:APPLIED', at, '{"a":"ñ"}');
    const expected = createHmac('sha256', Buffer.alloc(32, 1))
      .update(Buffer.from(`pay-1:APPLIED.${at.getTime() / 1000}.{"a":"ñ"}`, 'utf8'))
      .digest('base64');
    expect(headers).toEqual({
      'webhook-id': 'pay-1:APPLIED',
      'webhook-timestamp': String(at.getTime() / 1000),
      'webhook-signature': `v1,${expected}`,
    });
  });

  it('signs with every active secret during a rotation, newest first, and each one verifies alone', () => {
    const keys = parseSecretList(`${secretB}, ${secretA}`, 'TEST_VAR');
    const now = new Date();
    const headers = signWebhook(keys, 'evt', now, '{}');
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.startsWith('v1,'))).toBe(true);
    expect(verifyWebhook([parseSecret(secretA, 'a')], headers, '{}', { now })).toEqual({ ok: true });
    expect(verifyWebhook([parseSecret(secretB, 'b')], headers, '{}', { now })).toEqual({ ok: true });
  });

  it('refuses a tampered body, a wrong secret, an old or future timestamp, and missing headers', () => {
    const key = parseSecret(secretA, 'a');
    const now = new Date('2026-11-23T17:00:00Z');
    const headers = signWebhook([key], 'evt', now, '{"amount":"10.00"}');
    const verify = (h: Record<string, string>, body = '{"amount":"10.00"}', at = now) =>
      verifyWebhook([key], h, body, { now: at });
    expect(verify({ ...headers }, '{"amount":"99.00"}')).toEqual({ ok: false, reason: 'no_matching_signature' });
    expect(verifyWebhook([parseSecret(secretB, 'b')], headers, '{"amount":"10.00"}', { now })).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    });
    expect(verify({ ...headers }, undefined, new Date(now.getTime() + 301_000))).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
    expect(verify({ ...headers }, undefined, new Date(now.getTime() - 301_000))).toEqual({
      ok: false,
      reason: 'timestamp_too_new',
    });
    expect(verify({ ...headers, 'webhook-timestamp': 'soon' })).toEqual({ ok: false, reason: 'invalid_timestamp' });
    const { 'webhook-id': _id, ...noId } = headers;
    expect(verify(noId)).toEqual({ ok: false, reason: 'missing_header' });
    expect(verify({ ...headers, 'webhook-signature': 'v2,' + headers['webhook-signature'].slice(3) })).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    });
  });

  it('any change to id, timestamp or body breaks the signature (property)', () => {
    const key = parseSecret(secretA, 'a');
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string({ minLength: 1 }), (id, body, extra) => {
        const now = new Date('2026-11-23T17:00:00Z');
        const headers = signWebhook([key], `e${id}`, now, body);
        expect(verifyWebhook([key], headers, body, { now }).ok).toBe(true);
        expect(verifyWebhook([key], headers, body + extra, { now }).ok).toBe(false);
        expect(verifyWebhook([key], { ...headers, 'webhook-id': `e${id}${extra}` }, body, { now }).ok).toBe(false);
      }),
    );
  });

  it('refuses secrets that are not whsec_ + base64 of 24..64 bytes, without echoing them', () => {
    const cases: Array<[string, string]> = [
      ['sk_live_abc', 'not_whsec'],
      ['whsec_not*base64!', 'not_base64'],
      ['whsec_' + Buffer.alloc(16).toString('base64'), 'too_short'],
      ['whsec_' + Buffer.alloc(65).toString('base64'), 'too_long'],
    ];
    for (const [text, problem] of cases) {
      let caught: unknown;
      try {
        parseSecret(text, 'LOANHUB_WEBHOOK_SECRETS_APP');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(WebhookSecretError);
      const e = caught as WebhookSecretError;
      expect(e.problem).toBe(problem);
      expect(e.code).toBe('webhook_secret_invalid');
      expect(e.message).toContain('LOANHUB_WEBHOOK_SECRETS_APP');
      expect(e.message).not.toContain(text);
    }
  });
});

describe('retry schedule', () => {
  it('reads Retry-After as seconds or as an HTTP date, and ignores garbage', () => {
    const now = new Date('2026-11-23T17:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 17:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 16:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('draws each delay from zero up to a doubling ceiling that stops at the cap (full jitter)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const s = DEFAULT_RETRY_SCHEDULE;
        const ceiling = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.min(n - 1, 30));
        const d = backoffDelayMs(s, n, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }),
    );
    expect(backoffDelayMs(DEFAULT_RETRY_SCHEDULE, 1, () => 0.999)).toBe(4995);
    expect(backoffDelayMs(DEFAULT_RETRY_SCHEDULE, 40, () => 0.5)).toBe(30 * 60_000);
  });

  it('keeps retrying for at least 24 hours by default', () => {
    expect(DEFAULT_RETRY_SCHEDULE.giveUpAfterMs).toBeGreaterThanOrEqual(24 * 3600_000);
  });
});
