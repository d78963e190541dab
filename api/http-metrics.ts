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

/**
 * Starts the clock of a request; the answer is counted when its last byte is handed to the socket. One
 * shared 'finish' listener (the response is `this`) and the start on the response: no closure per request.
 */
export function httpMetricsRecorder(metrics: HubMetrics): (req: Request, res: Response) => void {
  // One child per label set, found by a string key: prom-client hashes the label object otherwise.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  function onFinish(this: Response): void {
    const seconds = Number(process.hrtime.bigint() - (this.locals.httpStart as bigint)) / 1e9;
    const req = this.req;
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    const route = routeTemplateOf(req, this);
    const status = this.statusCode;
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
  }
  return (_req, res) => {
    res.locals.httpStart = process.hrtime.bigint();
    res.on('finish', onFinish);
  };
}
