import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import { HubError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';
import type { EmbeddedIssuer, IssuerScope } from './embedded-issuer';

// POST /oauth/token (client credentials, RFC 6749 §4.4) and GET /.well-known/jwks.json for the
// embedded issuer. Client authentication by HTTP Basic or by client_id/client_secret in the form.

export function embeddedIssuerRoutes(deps: { issuer: EmbeddedIssuer; logger: Logger }): Router {
  const router = express.Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(deps.issuer.jwks());
  });
  router.post(
    '/oauth/token',
    express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }),
    express.json({ limit: '4kb' }),
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const form = (req.body ?? {}) as Record<string, unknown>;
        if (form.grant_type !== 'client_credentials') {
          throw new HubError('unsupported_grant_type', 'grant_type must be client_credentials', {
            error: 'unsupported_grant_type',
          });
        }
        const creds = clientCredentials(req, form);
        if (!creds || !deps.issuer.authenticateClient(creds.id, creds.secret)) {
          deps.logger.info(
            { requestId: res.locals.requestId, clientId: creds?.id },
            'token request refused: invalid_client',
          );
          throw new HubError('invalid_client', 'client authentication failed', { error: 'invalid_client' });
        }
        const scopes = requestedScopes(form.scope, deps.issuer.scopesOf(creds.id));
        const token = await deps.issuer.issueToken(creds.id, scopes);
        deps.logger.info(
          { requestId: res.locals.requestId, clientId: creds.id, scope: token.scope },
          'access token issued',
        );
        res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(token);
      } catch (err) {
        next(err);
      }
    },
  );
  return router;
}

function clientCredentials(req: Request, form: Record<string, unknown>): { id: string; secret: string } | null {
  const header = req.get('authorization');
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return null;
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  if (typeof form.client_id === 'string' && typeof form.client_secret === 'string') {
    return { id: form.client_id, secret: form.client_secret };
  }
  return null;
}

/** The scopes asked for, each one the client may have (a channel client never gets ops:read, nor the reverse). */
function requestedScopes(raw: unknown, allowed: readonly IssuerScope[]): IssuerScope[] {
  if (raw === undefined || raw === '') return [...allowed];
  if (typeof raw !== 'string')
    throw new HubError('invalid_grant_request', 'scope must be a space-separated string', { error: 'invalid_scope' });
  const asked = raw.split(' ').filter(Boolean);
  const unknown = asked.filter((s) => !(allowed as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new HubError(
      'invalid_grant_request',
      `scope(s) unknown or not granted to this client: ${unknown.join(' ').slice(0, 100)}`,
      {
        error: 'invalid_scope',
      },
    );
  }
  return asked as IssuerScope[];
}
