import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

// Verifies access tokens (RFC 8725 practice: an algorithm allow-list, issuer, audience, expiry with a
// small leeway). The reason a token fails goes to the log; the client only ever hears `invalid_token`.

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

export const ALLOWED_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'];
const MAX_TOKEN_LENGTH = 8192;

export function createTokenVerifier(opts: {
  issuer: string;
  audience: string;
  jwks: JSONWebKeySet | URL;
  clockToleranceSeconds?: number;
}): TokenVerifier {
  const keySet = opts.jwks instanceof URL ? createRemoteJWKSet(opts.jwks) : createLocalJWKSet(opts.jwks);
  return Object.freeze({
    async verify(token: string): Promise<VerifyResult> {
      if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'token too long' };
      try {
        const { payload } = await jwtVerify(token, keySet, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: ALLOWED_ALGORITHMS,
          clockTolerance: opts.clockToleranceSeconds ?? 30,
          requiredClaims: ['exp', 'iat'],
        });
        const clientId = typeof payload.client_id === 'string' ? payload.client_id : payload.sub;
        if (typeof clientId !== 'string' || clientId.length === 0)
          return { ok: false, reason: 'token names no client' };
        if (payload.token_use !== undefined && payload.token_use !== 'access') {
          return { ok: false, reason: `token_use ${String(payload.token_use)} is not an access token` };
        }
        const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
        return { ok: true, token: { clientId, scopes, payload } };
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
        return { ok: false, reason: `${code}: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
  });
}
