import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ChannelCatalogue } from '../channels/channel-catalogue';
import type { ChannelPolicy } from '../channels/channel-policy';
import type { Channel } from '../domain/channel';
import { HubError } from '../domain/errors';
import type { Caller } from './auth/auth-middleware';
import type { Scope } from './auth/embedded-issuer';
import { readJsonBody } from './json-body';
import { IDEMPOTENCY_KEY_PATTERN } from './schemas';
import { checkJsonLimits, findSuspicious } from './waf/json-limits';
import { problem } from './problem';

// The middleware every channel route is built from: auth per scope, body parsing with the WAF's limits,
// Idempotency-Key checks, and typed access to what earlier middleware found.

export interface ChannelRouteKit {
  auth(scope: Scope): RequestHandler;
  /** Content-Type check, parse (16 KiB), depth/key limits, injection scan. */
  readonly jsonBody: RequestHandler[];
  /** Refuses any query parameter (routes that take none). */
  readonly noQuery: RequestHandler;
  idempotencyKey(req: Request): string;
  /**
   * What is wrong with the Idempotency-Key header, as a problem of the `Idempotency-Key` header to report
   * with the body's; null when it is fine. An injection pattern in it is thrown at once (a WAF block).
   */
  idempotencyKeyProblem(req: Request): HubError | null;
  caller(res: Response): Caller;
  policy(res: Response): ChannelPolicy;
}

export function createChannelRouteKit(deps: {
  catalogue: ChannelCatalogue;
  auth: (scope: Scope) => RequestHandler;
}): ChannelRouteKit {
  const parse = readJsonBody(16 * 1024);
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json'))
      return next(problem('unsupported_media_type', 'send the body with Content-Type: application/json'));
    next();
  };
  const inspect: RequestHandler = (req, _res, next) => {
    try {
      if (req.body !== undefined) {
        checkJsonLimits(req.body);
        if (findSuspicious(req.body) !== null)
          throw problem('suspicious_input', 'the body carries control characters or an injection pattern');
      }
      next();
    } catch (err) {
      next(err);
    }
  };
  const optionalJson: RequestHandler = (req, res, next) => {
    // An empty body is no body: a reversal may be sent without one.
    if (req.get('content-length') === '0' || (!req.get('content-length') && !req.get('transfer-encoding')))
      return next();
    requireJson(req, res, (err?: unknown) => (err ? next(err) : parse(req, res, next)));
  };
  const idempotencyKeyProblem = (req: Request): HubError | null => {
    const key = req.get('idempotency-key');
    const header = 'Idempotency-Key';
    if (key === undefined || key === '') {
      return new HubError(
        'idempotency_key_missing',
        'send an Idempotency-Key header (for example a UUID) with this request',
        { header },
      );
    }
    if (!IDEMPOTENCY_KEY_PATTERN.test(key))
      return new HubError('idempotency_key_invalid', 'the Idempotency-Key must be 1-255 printable ASCII characters', {
        header,
      });
    if (findSuspicious(key) !== null)
      throw new HubError('suspicious_input', 'the Idempotency-Key carries an injection pattern');
    return null;
  };
  return Object.freeze({
    auth: deps.auth,
    jsonBody: [optionalJson, inspect],
    noQuery: (req: Request, _res: Response, next: NextFunction) => {
      if (Object.keys(req.query).length > 0)
        return next(problem('unknown_query_parameter', 'this endpoint takes no query parameters'));
      next();
    },
    idempotencyKey(req: Request): string {
      const problem = idempotencyKeyProblem(req);
      if (problem) throw problem;
      return req.get('idempotency-key') ?? '';
    },
    idempotencyKeyProblem,
    caller: (res: Response) => res.locals.caller as Caller,
    policy: (res: Response) => deps.catalogue.policy(res.locals.channel as Channel),
  });
}
