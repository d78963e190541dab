import type { Request, RequestHandler, Response } from 'express';
import type { HubMetrics } from '../metrics/hub-metrics';

// loanhub_http_requests_total and loanhub_http_request_duration_seconds, recorded when the answer's last
// byte is handed to the socket. The route label is the route's template (`/v1/:channel/payments/:paymentId`),
// never the raw path, so ids and loan numbers neither leak into metrics nor grow the series without
// bound; a request that no route took is `unmatched`, or `<mount>/*` when a mounted router refused it
// before its routes (an unknown channel, a WAF block).

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Marks the template of a mounted router, so its routes are labelled with the whole template. */
export function routeBase(template: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.routeBase = template;
    next();
  };
}

export function routeTemplateOf(req: Request, res: Response): string {
  const base = typeof res.locals.routeBase === 'string' ? res.locals.routeBase : '';
  const own = typeof res.locals.route === 'string' ? res.locals.route : undefined;
  if (own !== undefined) return own;
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return base + (path === '/' && base !== '' ? '' : path);
  return base === '' ? 'unmatched' : `${base}/*`;
}

export function recordHttpMetrics(metrics: HubMetrics): RequestHandler {
  // One child per label set, found by a string key: prom-client hashes the label object otherwise.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const method = METHODS.has(req.method) ? req.method : 'OTHER';
      const route = routeTemplateOf(req, res);
      const status = res.statusCode;
      const timerKey = `${method} ${route}`;
      const counterKey = `${timerKey} ${status}`;
      let counter = counters.get(counterKey);
      if (!counter) {
        counter = metrics.httpRequests.labels({ method, route, status: String(status) });
        counters.set(counterKey, counter);
      }
      let timer = timers.get(timerKey);
      if (!timer) {
        timer = metrics.httpDuration.labels({ method, route });
        timers.set(timerKey, timer);
      }
      counter.inc();
      timer.observe(seconds);
    });
    next();
  };
}
