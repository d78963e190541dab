import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { LoanInquiry } from '../adapters/core-port';
import { CoreUnavailableError } from '../adapters/core-port';
import type { ChannelCatalogue } from '../channels/channel-catalogue';
import { isChannel, type Core } from '../domain/channel';
import { coreForLoan, isLoanNumber } from '../domain/core-routing';
import { HubError } from '../domain/errors';
import { PAYMENT_ID_PATTERN } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { Logger } from '../logging/logger';
import { acceptPayment } from '../payments/accept-payment';
import { toPaymentView } from '../payments/payment-view';
import type { PaymentStore } from '../store/store-port';
import { requireChannelToken, type Caller } from './auth/auth-middleware';
import type { EmbeddedIssuer } from './auth/embedded-issuer';
import { embeddedIssuerRoutes } from './auth/token-route';
import type { TokenVerifier } from './auth/token-verifier';
import { IDEMPOTENCY_KEY_PATTERN, parsePaymentRequest } from './payment-request';
import { problem, sendProblem } from './problem';

// The channel-facing HTTP API. Routes live under /v1/{channel}/…; every error leaves as problem+json.

export interface ApiDeps {
  readonly store: PaymentStore;
  readonly verifier: TokenVerifier;
  readonly catalogue: ChannelCatalogue;
  readonly issuer?: EmbeddedIssuer;
  readonly inquire: (core: Core, loanNumber: string) => Promise<LoanInquiry | null>;
  readonly logger: Logger;
  readonly timeZone: string;
  readonly maxAmountMinor: bigint;
  readonly idempotencyTtlMs: number;
  readonly readiness: () => Promise<Record<string, boolean>>;
  readonly onAccepted: () => void;
  readonly now?: () => Date;
}

export function createApiApp(deps: ApiDeps): express.Express {
  const app = express();
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(helmet());
  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    res.locals.requestId = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.set('X-Request-Id', res.locals.requestId as string);
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  if (deps.issuer) app.use(embeddedIssuerRoutes({ issuer: deps.issuer, logger: log }));

  const auth = requireChannelToken({ verifier: deps.verifier, catalogue: deps.catalogue, logger: log });
  const v1 = express.Router({ mergeParams: true });
  v1.use((req, res, next) => {
    const channel = req.params.channel;
    if (!isChannel(channel)) return next(problem('unknown_channel', 'channels are app, web, agents, atm and stores'));
    res.locals.channel = channel;
    next();
  });

  v1.get('/loans/:loanNumber', auth('loans:read'), async (req, res, next) => {
    try {
      const loanNumber = String(req.params.loanNumber);
      if (!isLoanNumber(loanNumber)) throw problem('invalid_loan_number', 'loanNumber must be exactly 12 digits');
      const core = coreForLoan(loanNumber);
      const loan = core ? await deps.inquire(core, loanNumber) : null;
      if (!loan) throw problem('loan_not_found', `no loan ${loanNumber}`);
      res.set('Cache-Control', 'no-store').json({
        loanNumber: loan.loanNumber,
        core: loan.core,
        currency: loan.currency,
        amountDue: formatAmount(loan.amountDue),
        status: loan.status,
      });
    } catch (err) {
      next(err);
    }
  });

  const json = express.json({ limit: '16kb', strict: false, type: () => true });
  const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.is('application/json'))
      return next(problem('unsupported_media_type', 'send the body with Content-Type: application/json'));
    next();
  };

  v1.post('/payments', auth('payments:write'), requireJson, json, async (req, res, next) => {
    try {
      const caller = res.locals.caller as Caller;
      const key = req.get('idempotency-key');
      if (key === undefined || key === '')
        throw problem(
          'idempotency_key_missing',
          'send an Idempotency-Key header (for example a UUID) with every payment',
        );
      if (!IDEMPOTENCY_KEY_PATTERN.test(key))
        throw problem('idempotency_key_invalid', 'the Idempotency-Key must be 1-255 printable ASCII characters');
      if (req.get('content-length') === '0')
        throw problem('body_not_object', 'the body is empty; send the payment as a JSON object');
      const request = parsePaymentRequest(req.body, deps.maxAmountMinor);
      const traceparent = req.get('traceparent');
      const stored = await acceptPayment(
        {
          store: deps.store,
          timeZone: deps.timeZone,
          idempotencyTtlMs: deps.idempotencyTtlMs,
          now,
          logger: log,
          onAccepted: deps.onAccepted,
        },
        {
          channel: caller.channel,
          clientId: caller.clientId,
          idempotencyKey: key,
          rawBody: req.body,
          request,
          requestId: res.locals.requestId as string,
          ...(traceparent && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(traceparent)
            ? { traceparent }
            : {}),
        },
      );
      if (stored.replayed) res.set('Idempotent-Replayed', 'true');
      res
        .status(stored.status)
        .set({
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
          Location: `/v1/${caller.channel}/payments/${stored.paymentId}`,
        })
        .send(stored.body);
    } catch (err) {
      next(err);
    }
  });

  v1.get('/payments/:paymentId', auth('loans:read'), async (req, res, next) => {
    try {
      const caller = res.locals.caller as Caller;
      const id = String(req.params.paymentId);
      if (!PAYMENT_ID_PATTERN.test(id))
        throw problem('invalid_payment_id', 'a payment id is the UUID returned as paymentId');
      const payment = await deps.store.getPayment(id);
      // Another channel's payment is "not found", never "forbidden": its existence is not revealed.
      if (!payment || payment.channel !== caller.channel)
        throw problem('payment_not_found', `no payment ${id} for channel ${caller.channel}`);
      res.set('Cache-Control', 'no-store').json(toPaymentView(payment));
    } catch (err) {
      next(err);
    }
  });

  app.use('/v1/:channel', v1);
  app.use((_req, _res, next) => next(problem('not_found', 'no such endpoint; see the README for the API')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const hubError = toHubError(err);
    if (hubError.status >= 500) {
      log.error({ requestId, method: req.method, path: req.path, err }, 'request failed');
    } else {
      log.info(
        { requestId, method: req.method, path: req.path, code: hubError.code, paymentId: hubError.extras.paymentId },
        'request refused',
      );
    }
    if (res.headersSent) return;
    sendProblem(
      res,
      hubError,
      requestId,
      hubError.code === 'invalid_token' ? { 'WWW-Authenticate': 'Bearer error="invalid_token"' } : {},
    );
  });
  return app;
}

function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof CoreUnavailableError)
    return new HubError('core_unavailable', `the ${err.core} core did not answer; try again shortly`);
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new HubError('malformed_json', 'the body is not valid JSON');
  if (type === 'entity.too.large') return new HubError('payload_too_large', 'the body is larger than 16 KiB');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HubError('unsupported_media_type', 'send the body as UTF-8 JSON');
  }
  const status = (err as { status?: number } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HubError('malformed_json', 'the request could not be read');
  return new HubError('internal_error', 'the hub failed on this request', {}, { cause: err });
}
