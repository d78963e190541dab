import type { BusinessCalendar } from '../../domain/business-calendar';
import type { Response } from 'express';
import { HubError } from '../../domain/errors';
import { PAYMENT_ID_PATTERN } from '../../domain/ids';
import type { Logger } from '../../logging/logger';
import type { HubMetrics } from '../../metrics/hub-metrics';
import { acceptPayment, type StoredResponse } from '../../payments/accept-payment';
import { toPaymentView } from '../../payments/payment-view';
import { reversePayment } from '../../payments/reverse-payment';
import type { PaymentStore } from '../../store/store-port';
import type { ChannelRouteKit } from '../channel-route-kit';
import type { RouteTable } from '../channel-router';
import type { IdempotencyLock } from '../idempotency-lock';
import { everyProblem, paymentPolicyProblems } from '../../payments/channel-rules';
import { readPaymentRequest, reversalRequestProblems } from '../payment-request';
import { problem } from '../problem';
import { CHANNEL_REFERENCE_PATTERN } from '../schemas';

// Payments of a channel: take one, read one, find by the channel's reference, reverse one.

export interface PaymentRouteDeps {
  readonly store: PaymentStore;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly lock: IdempotencyLock;
  readonly timeZone: string;
  readonly calendar?: BusinessCalendar;
  readonly maxAmountMinor: bigint;
  readonly idempotencyTtlMs: number;
  readonly now: () => Date;
  readonly onOutboxWritten: () => void;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function mountPaymentRoutes(router: RouteTable, kit: ChannelRouteKit, deps: PaymentRouteDeps): void {
  const useCaseDeps = {
    store: deps.store,
    timeZone: deps.timeZone,
    ...(deps.calendar ? { calendar: deps.calendar } : {}),
    idempotencyTtlMs: deps.idempotencyTtlMs,
    now: deps.now,
    logger: deps.logger,
  };

  router.post('/payments', kit.auth('payments:write'), kit.noQuery, ...kit.jsonBody, async (req, res, next) => {
    try {
      const caller = kit.caller(res);
      // Every problem of the request at once: the header's, the body's, and the channel policy's for
      // the fields that are valid (a valid request meets the policy inside acceptPayment, after replay).
      const keyProblem = kit.idempotencyKeyProblem(req);
      const reading =
        req.body === undefined
          ? ({
              ok: false,
              fields: {},
              problems: [problem('body_not_object', 'the body is empty; send the payment as a JSON object')],
            } as const)
          : readPaymentRequest(req.body, deps.maxAmountMinor);
      if (keyProblem || !reading.ok) {
        const problems = [...(keyProblem ? [keyProblem] : [])];
        if (!reading.ok) problems.push(...reading.problems);
        problems.push(...paymentPolicyProblems(kit.policy(res), reading.ok ? reading.request : reading.fields));
        throw everyProblem(problems);
      }
      const key = kit.idempotencyKey(req);
      const request = reading.request;
      const traceparent = req.get('traceparent');
      const stored = await deps.lock.run(caller.clientId, key, () =>
        acceptPayment(
          { ...useCaseDeps, onAccepted: deps.onOutboxWritten },
          {
            channel: caller.channel,
            policy: kit.policy(res),
            clientId: caller.clientId,
            idempotencyKey: key,
            rawBody: req.body,
            request,
            requestId: res.locals.requestId as string,
            ...(traceparent && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
          },
        ),
      );
      if (!stored.replayed && stored.core)
        deps.metrics.paymentsAccepted.inc({ channel: caller.channel, core: stored.core });
      send(res, stored, `/v1/${caller.channel}/payments/${stored.paymentId}`);
    } catch (err) {
      next(err);
    }
  });

  router.get('/payments', kit.auth('loans:read'), async (req, res, next) => {
    try {
      const caller = kit.caller(res);
      const extra = Object.keys(req.query).filter((k) => k !== 'channelReference');
      if (extra.length > 0) throw problem('unknown_query_parameter', 'the only query parameter is channelReference');
      const reference = req.query.channelReference;
      if (typeof reference !== 'string')
        throw problem('missing_field', 'give ?channelReference=… to find payments by your reference', {
          field: 'channelReference',
        });
      if (!CHANNEL_REFERENCE_PATTERN.test(reference))
        throw problem('invalid_channel_reference', 'channelReference has a length or character that is not allowed');
      const found = await deps.store.findPaymentsByReference(caller.channel, reference);
      res.set('Cache-Control', 'no-store').json(found.map(toPaymentView));
    } catch (err) {
      next(err);
    }
  });

  router.get('/payments/:paymentId', kit.auth('loans:read'), kit.noQuery, async (req, res, next) => {
    try {
      const caller = kit.caller(res);
      const id = paymentIdOf(req.params.paymentId);
      const payment = await deps.store.getPayment(id);
      // Another channel's payment is "not found", never "forbidden": its existence is not revealed.
      if (!payment || payment.channel !== caller.channel)
        throw problem('payment_not_found', `no payment ${id} for channel ${caller.channel}`);
      res.set('Cache-Control', 'no-store').json(toPaymentView(payment));
    } catch (err) {
      next(err);
    }
  });

  router.post(
    '/payments/:paymentId/reversal',
    kit.auth('payments:reverse'),
    kit.noQuery,
    ...kit.jsonBody,
    async (req, res, next) => {
      try {
        const caller = kit.caller(res);
        const id = paymentIdOf(req.params.paymentId);
        const keyProblem = kit.idempotencyKeyProblem(req);
        const problems = [...(keyProblem ? [keyProblem] : []), ...reversalRequestProblems(req.body)];
        if (problems.length > 0) throw everyProblem(problems);
        const key = kit.idempotencyKey(req);
        const traceparent = req.get('traceparent');
        const stored = await deps.lock.run(caller.clientId, key, () =>
          reversePayment(
            { ...useCaseDeps, onChanged: deps.onOutboxWritten },
            {
              channel: caller.channel,
              policy: kit.policy(res),
              clientId: caller.clientId,
              paymentId: id,
              idempotencyKey: key,
              rawBody: req.body,
              requestId: res.locals.requestId as string,
              ...(traceparent && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
            },
          ),
        );
        send(res, stored, `/v1/${caller.channel}/payments/${id}`);
      } catch (err) {
        next(err);
      }
    },
  );
}

function paymentIdOf(raw: unknown): string {
  const id = String(raw);
  if (!PAYMENT_ID_PATTERN.test(id))
    throw new HubError('invalid_payment_id', 'a payment id is the UUID returned as paymentId');
  return id;
}

function send(res: Response, stored: StoredResponse, location: string): void {
  if (stored.replayed) res.set('Idempotent-Replayed', 'true');
  res
    .status(stored.status)
    .set({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Location: location })
    .send(stored.body);
}
