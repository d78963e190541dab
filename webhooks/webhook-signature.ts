import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OperatorErrorCode } from '../domain/errors';

// Standard Webhooks signatures (https://www.standardwebhooks.com, spec "Signature scheme"):
//   webhook-signature: v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">
// keyed with the base64-decoded part of a `whsec_…` secret. During a rotation several secrets are
// active and the header carries one space-separated signature per secret, newest first.

/** A channel's signing key: the decoded secret, never logged. */
export interface SigningKey {
  readonly kind: 'whsec';
  readonly key: Buffer;
}

export type SecretProblem = 'not_whsec' | 'not_base64' | 'too_short' | 'too_long';

export class WebhookSecretError extends Error {
  readonly code: OperatorErrorCode = 'webhook_secret_invalid';
  constructor(
    readonly problem: SecretProblem,
    readonly where: string,
  ) {
    // The secret itself never goes into the message.
    super(`${where}: a webhook secret is ${problem.replace(/_/g, ' ')} (expected whsec_ + base64 of 24..64 bytes)`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses one `whsec_…` secret. `where` names its source (an env var name or a file) for the error. */
export function parseSecret(text: string, where: string): SigningKey {
  if (!text.startsWith('whsec_')) throw new WebhookSecretError('not_whsec', where);
  const b64 = text.slice('whsec_'.length);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) throw new WebhookSecretError('not_base64', where);
  const key = Buffer.from(b64, 'base64');
  // The spec asks for 24..64 bytes of key material.
  if (key.length < 24) throw new WebhookSecretError('too_short', where);
  if (key.length > 64) throw new WebhookSecretError('too_long', where);
  return Object.freeze({ kind: 'whsec' as const, key });
}

/** A comma-separated list of secrets, newest first (the form of a channel's secrets variable). */
export function parseSecretList(text: string, where: string): SigningKey[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new WebhookSecretError('not_whsec', where);
  return parts.map((p) => parseSecret(p, where));
}

function hmac(key: SigningKey, id: string, timestamp: number, body: string): Buffer {
  return createHmac('sha256', key.key).update(`${id}.${timestamp}.${body}`, 'utf8').digest();
}

/** The `webhook-signature` value: `v1,<sig>` for each key, space-separated, in the order given. */
export function signatureHeader(keys: readonly SigningKey[], id: string, timestamp: number, body: string): string {
  if (keys.length === 0) throw new Error('signing needs at least one key');
  return keys.map((k) => `v1,${hmac(k, id, timestamp, body).toString('base64')}`).join(' ');
}

// A type alias, not an interface, so it is also a plain header record.
export type SignedHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** The three Standard Webhooks headers for one attempt; `at` is the attempt's time. */
export function signWebhook(keys: readonly SigningKey[], id: string, at: Date, body: string): SignedHeaders {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(keys, id, timestamp, body),
  };
}

export type VerifyFailure =
  'missing_header' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature';

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: VerifyFailure };

export interface VerifyOptions {
  /** Accepted clock difference in seconds (the spec's reference libraries use 5 minutes). */
  readonly toleranceSeconds?: number;
  readonly now?: Date;
}

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(' ') : (v as string | undefined);
}

/**
 * Verifies a received webhook against the receiver's secrets (any one may match: rotation). The
 * timestamp check stops replays of old captures; comparisons are constant-time.
 */
export function verifyWebhook(
  keys: readonly SigningKey[],
  headers: HeaderBag,
  body: string,
  opts: VerifyOptions = {},
): VerifyResult {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sig = header(headers, 'webhook-signature');
  if (!id || !ts || !sig) return { ok: false, reason: 'missing_header' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'invalid_timestamp' };
  const timestamp = Number(ts);
  const nowSec = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (timestamp < nowSec - tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (timestamp > nowSec + tolerance) return { ok: false, reason: 'timestamp_too_new' };
  const offered = sig
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const key of keys) {
    const expected = hmac(key, id, timestamp, body);
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { ok: true };
    }
  }
  return { ok: false, reason: 'no_matching_signature' };
}
