import type { BusinessCalendar } from '../domain/business-calendar';
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CoreUnavailableError, type LoanInquiry } from '../domain/loan-inquiry';
import type { ChannelCatalogue } from '../channels/channel-catalogue';
import { CHANNELS, isChannel, type Channel, type Core } from '../domain/channel';
import { HubError } from '../domain/errors';
import type { Logger } from '../logging/logger';
import type { HubMetrics } from '../metrics/hub-metrics';
import type { PaymentStore } from '../store/store-port';
import { requireChannelToken, type Caller } from './auth/auth-middleware';
import type { EmbeddedIssuer } from './auth/embedded-issuer';
import { embeddedIssuerRoutes } from './auth/token-route';
import type { TokenVerifier } from './auth/token-verifier';
import { createChannelRouteKit } from './channel-route-kit';
import { createChannelRouter } from './channel-router';
import { createIdempotencyLock } from './idempotency-lock';
import { createOpsRouter } from './ops/ops-routes';
import { buildOpenApi, renderDocsPage } from './openapi';
import { httpMetricsRecorder, routeBase } from './http-metrics';
import { sendProblem } from './problem';
import { securityHeaderList } from './security-headers';
import { mountLoanRoutes } from './routes/loan-routes';
import { mountPaymentRoutes } from './routes/payment-routes';
import { createNetworkAllowList, type NetworkAllowList } from './waf/network-allow-list';
import { createRateLimiter } from './waf/rate-limiter';
import { wafRuleOf } from './waf/waf-rules';

// The channel-facing HTTP API. Routes live under /v1/{channel}/…; every error leaves as problem+json.

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface ApiDeps {
  readonly store: PaymentStore;
  readonly verifier: TokenVerifier;
  readonly catalogue: ChannelCatalogue;
  readonly issuer?: EmbeddedIssuer;
  readonly inquire: (core: Core, loanNumber: string) => Promise<LoanInquiry | null>;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly timeZone: string;
  /** The bank's business calendar (weekends, holidays); every day is a business day when absent. */
  readonly calendar?: BusinessCalendar;
  readonly maxAmountMinor: bigint;
  readonly idempotencyTtlMs: number;
  /** How long an in-flight mark of a crashed instance holds its key (LOANHUB_IDEMPOTENCY_LEASE_SECONDS). */
  readonly idempotencyLeaseMs?: number;
  readonly readiness: () => Promise<Record<string, boolean>>;
  readonly onOutboxWritten: () => void;
  /** Express `trust proxy` (hops or subnets) when the API sits behind a load balancer. */
  readonly trustProxy?: string | number | boolean;
  readonly now?: () => Date;
}

export function createApiApp(deps: ApiDeps): express.Express {
  const app = express();
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  // What every answer gets, as one layer (each Express layer is a match and a `next` hop): the HTTP
  // metrics' clock, helmet's headers and the request id.
  const startMetrics = httpMetricsRecorder(deps.metrics);
  const headers = securityHeaderList();
  app.use((req, res, next) => {
    startMetrics(req, res);
    for (const [name, value] of headers) res.setHeader(name, value);
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    next();
  });

  // The channel routes first: they carry the traffic, and no other route shares their paths.
  const limiter = createRateLimiter();
  const networks = new Map<Channel, NetworkAllowList | null>(
    CHANNELS.map((c) => [c, createNetworkAllowList(deps.catalogue.policy(c).allowedNetworks)]),
  );
  const auth = requireChannelToken({ verifier: deps.verifier, catalogue: deps.catalogue, logger: log });
  const kit = createChannelRouteKit({
    catalogue: deps.catalogue,
    auth: (scope) => {
      // Built once per route, not per request.
      const check = auth(scope);
      return (req, res, next) => {
        void check(req, res, (err?: unknown) => {
          if (err) return next(err);
          const caller = res.locals.caller as Caller;
          const verdict = limiter.take(
            `client:${caller.clientId}`,
            deps.catalogue.policy(caller.channel).ratePerClientPerMinute,
          );
          if (!verdict.ok) return next(rateLimited(verdict.retryAfterSeconds, 'client'));
          next();
        });
      };
    },
  });

  const v1 = createChannelRouter((req, res, next) => {
    const channel = req.params.channel;
    if (!isChannel(channel))
      return next(new HubError('unknown_channel', 'channels are app, web, agents, atm and stores'));
    res.locals.channel = channel;
    const source = req.ip ?? req.socket.remoteAddress ?? '';
    const allowList = networks.get(channel);
    if (allowList && !allowList.allows(source)) {
      return next(
        new HubError('source_network_not_allowed', `channel ${channel} does not accept requests from this network`),
      );
    }
    const verdict = limiter.take(`ip:${channel}:${source}`, deps.catalogue.policy(channel).ratePerIpPerMinute);
    if (!verdict.ok) return next(rateLimited(verdict.retryAfterSeconds, 'source address'));
    next();
  });
  mountLoanRoutes(v1, kit, deps.inquire);
  mountPaymentRoutes(v1, kit, {
    store: deps.store,
    logger: log,
    metrics: deps.metrics,
    lock: createIdempotencyLock({
      store: deps.store,
      now,
      ...(deps.idempotencyLeaseMs ? { leaseMs: deps.idempotencyLeaseMs } : {}),
    }),
    timeZone: deps.timeZone,
    ...(deps.calendar ? { calendar: deps.calendar } : {}),
    maxAmountMinor: deps.maxAmountMinor,
    idempotencyTtlMs: deps.idempotencyTtlMs,
    now,
    onOutboxWritten: deps.onOutboxWritten,
  });
  app.use('/v1', v1.handle);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const openApi = buildOpenApi();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/docs', (_req, res) => {
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('html')
      .send(renderDocsPage(openApi));
  });
  if (deps.issuer) app.use(embeddedIssuerRoutes({ issuer: deps.issuer, logger: log }));

  app.use('/ops', routeBase('/ops'), createOpsRouter({ ...deps, now }));

  app.use((_req, _res, next) => next(new HubError('not_found', 'no such endpoint; see /docs')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const hubError = toHubError(err);
    const channel = typeof res.locals.channel === 'string' ? res.locals.channel : undefined;
    const clientId = (res.locals.caller as Caller | undefined)?.clientId;
    const rule = wafRuleOf(hubError.code);
    if (hubError.status >= 500) {
      log.error({ requestId, method: req.method, path: req.path, err }, 'request failed');
    } else if (rule) {
      deps.metrics.wafBlocks.inc({ rule, channel: channel ?? 'none' });
      log.warn(
        {
          event: 'waf_block',
          rule,
          code: hubError.code,
          channel,
          clientId,
          sourceIp: req.ip,
          requestId,
          method: req.method,
          path: req.path,
        },
        'request blocked by WAF rule',
      );
    } else {
      const paymentId =
        hubError.extras.paymentId ?? (typeof req.params.paymentId === 'string' ? req.params.paymentId : undefined);
      log.info(
        { requestId, method: req.method, path: req.path, code: hubError.code, channel, clientId, paymentId },
        'request refused',
      );
    }
    if (res.headersSent) return;
    const headers: Record<string, string> = {};
    if (hubError.code === 'invalid_token') headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
    if (hubError.code === 'insufficient_scope') headers['WWW-Authenticate'] = 'Bearer error="insufficient_scope"';
    const retryAfter = hubError.extras.retryAfterSeconds;
    if (typeof retryAfter === 'number') headers['Retry-After'] = String(retryAfter);
    sendProblem(res, hubError, requestId, headers);
  });
  return app;
}

function rateLimited(seconds: number, what: string): HubError {
  return new HubError('rate_limited', `too many requests from this ${what}; retry in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });
}

function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof CoreUnavailableError)
    return new HubError('core_unavailable', `the ${err.core} core did not answer; try again shortly`);
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new HubError('malformed_json', 'the body is not valid JSON');
  if (type === 'entity.too.large') return new HubError('payload_too_large', 'the body is larger than 16 KiB');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new HubError('unsupported_media_type', 'send the body as UTF-8 JSON');
  const status = (err as { status?: number } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HubError('malformed_json', 'the request could not be read');
  return new HubError('internal_error', 'the hub failed on this request', {}, { cause: err });
}
