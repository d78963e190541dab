import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HubError } from '../domain/errors';

// The route table of the channel API, `/v1/{channel}/…`, matched segment by segment instead of through
// Express's router: a payment passed about twenty Express layers (each a path-to-regexp match and a
// `next` hop) before its handler ran. Behaviour kept from Express: literals match case-insensitively, a
// trailing slash is ignored, parameters are URI-decoded (a bad escape is a 400), GET routes answer HEAD,
// OPTIONS is answered with the path's Allow list, sync throws and rejected promises reach the error
// handler, and a path no route takes falls through to the app's 404. Each matched request carries its
// route template (`/v1/:channel/payments/:paymentId`) in res.locals.route for the HTTP metrics.

export const CHANNEL_ROUTE_BASE = '/v1/:channel';

/** The part of Express's Router the route modules use. */
export interface RouteTable {
  get(path: string, ...handlers: RequestHandler[]): void;
  post(path: string, ...handlers: RequestHandler[]): void;
}

export interface ChannelRouter extends RouteTable {
  /** Mount with `app.use('/v1', router.handle)`. */
  readonly handle: RequestHandler;
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly template: string;
  /** Lower-cased literals, or null where a parameter stands. */
  readonly literals: ReadonlyArray<string | null>;
  readonly params: ReadonlyArray<string | null>;
  readonly handlers: readonly RequestHandler[];
}

function compile(method: Route['method'], path: string, handlers: RequestHandler[]): Route {
  const segments = path.split('/').slice(1);
  if (segments.length === 0 || segments.some((s) => s === '' || (s.startsWith(':') && s.length === 1)))
    throw new Error(`channel route ${path}: give /segment/:param/... paths`);
  return {
    method,
    template: CHANNEL_ROUTE_BASE + path,
    literals: segments.map((s) => (s.startsWith(':') ? null : s.toLowerCase())),
    params: segments.map((s) => (s.startsWith(':') ? s.slice(1) : null)),
    handlers,
  };
}

/** Runs handlers as Express does: next(err) leaves, a throw or a rejected promise is next(err). */
function runChain(handlers: readonly RequestHandler[], req: Request, res: Response, done: NextFunction): void {
  let i = 0;
  const step = (err?: unknown): void => {
    if (err !== undefined && err !== null && err !== 'route' && err !== 'router') return done(err);
    if (err === 'route' || err === 'router' || i >= handlers.length) return done();
    const handler = handlers[i] as RequestHandler;
    i += 1;
    try {
      const ret = handler(req, res, step) as unknown;
      if (ret instanceof Promise) ret.then(undefined, (e: unknown) => step(e ?? new Error('Rejected promise')));
    } catch (e) {
      step(e);
    }
  };
  step();
}

/**
 * @param channelGate runs for every request with a channel segment, before its route (and for paths no
 *   route takes): the channel check, the network allow list and the per-address rate limit.
 */
export function createChannelRouter(channelGate: RequestHandler): ChannelRouter {
  const routes: Route[] = [];
  const handle: RequestHandler = (req, res, next) => {
    const path = req.path;
    const segments = path.split('/');
    if (segments.length > 2 && segments[segments.length - 1] === '') segments.pop();
    const rawChannel = segments[1];
    if (rawChannel === undefined || rawChannel === '') return next();
    let channel: string;
    try {
      channel = decodeURIComponent(rawChannel);
    } catch {
      return next(new HubError('malformed_json', 'the request could not be read'));
    }
    res.locals.routeBase = CHANNEL_ROUTE_BASE;
    req.params = { channel };
    runChain([channelGate], req, res, (gateErr?: unknown) => {
      if (gateErr) return next(gateErr);
      const rest = segments.length - 2;
      const allowed: string[] = [];
      for (const route of routes) {
        if (route.literals.length !== rest) continue;
        const params: Record<string, string> = { channel };
        let matched = true;
        for (let s = 0; s < rest && matched; s += 1) {
          const seg = segments[s + 2] as string;
          const literal = route.literals[s];
          if (literal !== null && literal !== undefined) {
            matched = seg.toLowerCase() === literal;
          } else if (seg === '') {
            matched = false;
          } else {
            try {
              params[route.params[s] as string] = decodeURIComponent(seg);
            } catch {
              return next(new HubError('malformed_json', 'the request could not be read'));
            }
          }
        }
        if (!matched) continue;
        if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) {
          allowed.push(route.method, ...(route.method === 'GET' ? ['HEAD'] : []));
          continue;
        }
        req.params = params;
        res.locals.route = route.template;
        return runChain(route.handlers, req, res, (err?: unknown) => next(err));
      }
      if (req.method === 'OPTIONS' && allowed.length > 0) {
        // Express's automatic OPTIONS answer: the methods of the routes on this path.
        const allow = [...new Set(allowed)].sort().join(', ');
        res.setHeader('Allow', allow);
        res.setHeader('Content-Length', Buffer.byteLength(allow));
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.end(allow);
        return;
      }
      next();
    });
  };
  return Object.freeze({
    handle,
    get(path: string, ...handlers: RequestHandler[]) {
      routes.push(compile('GET', path, handlers));
    },
    post(path: string, ...handlers: RequestHandler[]) {
      routes.push(compile('POST', path, handlers));
    },
  });
}
