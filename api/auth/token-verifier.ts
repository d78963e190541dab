import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { createRemoteJwks } from './remote-jwks';

// Verifies access tokens following RFC 8725: an algorithm allow-list (asymmetric only, so neither
// `none` nor an HS256 token "signed" with a public key gets through), issuer, audience, exp/nbf with a
// small leeway, explicit typing where present, a size limit. Cognito-style access tokens (`client_id`,
// `scope`, `token_use: access`, no `aud`) are accepted when no audience is configured; ID tokens never.
// The reason a token fails goes to the log; the client only ever hears `invalid_token`. An external
// IdP's keys come through remote-jwks.ts (cached through IdP outages, unknown kids fail closed).

export interface VerifiedToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly payload: JWTPayload;
}

export type VerifyResult =
  { readonly ok: true; readonly token: VerifiedToken } | { readonly ok: false; readonly reason: string };

export interface TokenVerifier {
  verify(token: string): Promise<VerifyResult>;
}

export const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
export const MAX_TOKEN_LENGTH = 8192;
const ALLOWED_TYP = new Set(['at+jwt', 'application/at+jwt', 'jwt']);

export type KeySource =
  | { readonly kind: 'local'; readonly jwks: () => JSONWebKeySet; readonly refresh?: () => Promise<void> }
  | {
      readonly kind: 'remote';
      readonly url: URL;
      /** Between refetches an unknown kid may trigger once its burst is spent (see remote-jwks.ts). */
      readonly refetchIntervalMs?: number;
      readonly cacheMaxAgeMs?: number;
      readonly fetch?: typeof fetch;
    };

export function createTokenVerifier(opts: {
  issuer: string;
  /** Unset: Cognito-style access tokens without `aud`, which then must say `token_use: access`. */
  audience?: string;
  keys: KeySource;
  clockToleranceSeconds?: number;
  /** Only scopes with this prefix count, without it (Cognito custom scopes: `<resource-server>/payments:write`). */
  scopePrefix?: string;
}): TokenVerifier {
  let getKey: JWTVerifyGetKey;
  if (opts.keys.kind === 'remote') {
    const k = opts.keys;
    getKey = createRemoteJwks({
      url: k.url,
      ...(k.refetchIntervalMs !== undefined ? { refetchIntervalMs: k.refetchIntervalMs } : {}),
      ...(k.cacheMaxAgeMs !== undefined ? { maxAgeMs: k.cacheMaxAgeMs } : {}),
      ...(k.fetch !== undefined ? { fetch: k.fetch } : {}),
    }).getKey;
  } else {
    const source = opts.keys;
    let cached = source.jwks();
    let local = createLocalJWKSet(cached);
    let lastRefresh = 0;
    getKey = async (header, token) => {
      try {
        return await local(header, token);
      } catch (err) {
        // An unknown kid may be a key rotated in since we loaded: re-read, at most once a second.
        if (
          (err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' ||
          !source.refresh ||
          Date.now() - lastRefresh < 1000
        )
          throw err;
        lastRefresh = Date.now();
        await source.refresh();
        if (source.jwks() !== cached) {
          cached = source.jwks();
          local = createLocalJWKSet(cached);
        }
        return local(header, token);
      }
    };
  }
  const prefix = opts.scopePrefix ?? '';

  const verifyUncached = async (token: string): Promise<VerifyResult> => {
    if (token.length > MAX_TOKEN_LENGTH)
      return { ok: false, reason: `token longer than ${MAX_TOKEN_LENGTH} characters` };
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.typ === 'string' && !ALLOWED_TYP.has(header.typ.toLowerCase())) {
        return { ok: false, reason: `typ ${header.typ} is not an access token type` };
      }
      if (header.crit !== undefined) return { ok: false, reason: 'crit header parameters are not supported' };
      const { payload } = await jwtVerify(token, getKey, {
        issuer: opts.issuer,
        ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: opts.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
      });
      if (payload.token_use !== undefined && payload.token_use !== 'access') {
        return { ok: false, reason: `token_use ${String(payload.token_use)} is not an access token` };
      }
      if (opts.audience === undefined && payload.token_use !== 'access') {
        return { ok: false, reason: 'without a configured audience only tokens with token_use=access are accepted' };
      }
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : payload.sub;
      if (typeof clientId !== 'string' || clientId.length === 0) return { ok: false, reason: 'token names no client' };
      // With a prefix, only the scopes of our resource server count: `other-api/payments:write` from the
      // same user pool is not ours, and neither is a bare `payments:write` (Cognito custom scopes are
      // always prefixed, so a bare one was granted for something else).
      const granted = (typeof payload.scope === 'string' ? payload.scope.split(' ') : []).filter(Boolean);
      const scopes = new Set(
        prefix ? granted.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length)) : granted,
      );
      return { ok: true, token: { clientId, scopes, payload } };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
      return { ok: false, reason: `${code}: ${err instanceof Error ? err.message : String(err)}` };
    }
  };

  // A channel backend sends the same token with many requests: a verified token is kept until it
  // expires, so its signature is checked once rather than on every request. Only successes are kept,
  // keyed by the whole token, in a bounded map.
  const verified = new Map<string, { token: VerifiedToken; expiresAtMs: number }>();
  const MAX_CACHED = 10_000;

  return Object.freeze({
    async verify(token: string): Promise<VerifyResult> {
      const hit = verified.get(token);
      if (hit) {
        if (Date.now() < hit.expiresAtMs) return { ok: true, token: hit.token };
        verified.delete(token);
      }
      const result = await verifyUncached(token);
      if (result.ok && typeof result.token.payload.exp === 'number') {
        if (verified.size >= MAX_CACHED) {
          const oldest = verified.keys().next().value;
          if (oldest !== undefined) verified.delete(oldest);
        }
        verified.set(token, { token: result.token, expiresAtMs: result.token.payload.exp * 1000 });
      }
      return result;
    },
  });
}
