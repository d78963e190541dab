import type { ChannelPolicy } from '../channels/channel-policy';
import type { Channel } from '../domain/channel';
import { HubError } from '../domain/errors';
import type { Logger } from '../logging/logger';
import type { PaymentStore } from '../store/store-port';
import { fingerprintOf, replayOrConflict, type StoredResponse } from './accept-payment';
import type { BusinessCalendar } from '../domain/business-calendar';
import { reversalRefusal } from './channel-rules';
import { coreCommandRow } from './core-command';
import { paymentEventRow } from './payment-event';
import { toPaymentView } from './payment-view';

// A same-day reversal (extorno) requested by the channel that took the payment. The payment moves to
// REVERSAL_PENDING with the reverse command in the outbox, in one transaction; the core's answer makes it
// REVERSED (amount due restored) or APPLIED again. Window and channel are re-checked inside the
// transaction, so a reversal racing the cutoff or the batch cannot slip through.

export interface ReversePaymentCommand {
  readonly channel: Channel;
  readonly policy: ChannelPolicy;
  readonly clientId: string;
  readonly paymentId: string;
  readonly idempotencyKey: string;
  readonly rawBody: unknown;
  readonly requestId: string;
  readonly traceparent?: string;
}

export async function reversePayment(
  deps: {
    store: PaymentStore;
    timeZone: string;
    calendar?: BusinessCalendar;
    now: () => Date;
    logger: Logger;
    idempotencyTtlMs: number;
    onChanged: () => void;
  },
  cmd: ReversePaymentCommand,
): Promise<StoredResponse> {
  const fingerprint = fingerprintOf({ operation: 'reversal', paymentId: cmd.paymentId, body: cmd.rawBody ?? null });
  const earlier = await deps.store.findIdempotency(cmd.clientId, cmd.idempotencyKey, deps.now());
  if (earlier) return replayOrConflict(earlier, fingerprint);

  const notFound = (): HubError =>
    new HubError('payment_not_found', `no payment ${cmd.paymentId} for channel ${cmd.channel}`);
  const now = deps.now();
  let refusal: HubError | null = null;
  const outcome = await deps.store.recordEvent({
    paymentId: cmd.paymentId,
    event: { type: 'reversal_requested' },
    at: now.toISOString(),
    guard: (before) => {
      // Another channel's payment is "not found": its existence is not revealed.
      refusal =
        before.channel !== cmd.channel
          ? notFound()
          : reversalRefusal(cmd.policy, before, now, deps.timeZone, deps.calendar);
      if (!refusal && before.status === 'REVERSAL_PENDING') {
        refusal = new HubError('payment_not_reversible', 'a reversal of this payment is already in progress', {
          paymentStatus: before.status,
        });
      }
      return refusal ? refusal.code : null;
    },
    idempotency: {
      clientId: cmd.clientId,
      key: cmd.idempotencyKey,
      record: (after) => ({
        clientId: cmd.clientId,
        key: cmd.idempotencyKey,
        fingerprint,
        paymentId: after.id,
        responseStatus: 202,
        responseBody: JSON.stringify(toPaymentView(after)),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + deps.idempotencyTtlMs).toISOString(),
      }),
    },
    outbox: (after) => [
      coreCommandRow(after, 'reverse_payment', cmd.requestId, cmd.traceparent),
      paymentEventRow(after),
    ],
  });
  switch (outcome.kind) {
    case 'not_found':
      throw notFound();
    case 'existing':
      return replayOrConflict(outcome.idempotency, fingerprint);
    case 'refused':
      if (outcome.reason === 'payment_in_batch') {
        throw new HubError(
          'payment_in_batch',
          "the payment is in a file for the mainframe (tonight's posting) and can no longer be reversed",
        );
      }
      throw refusal ?? new HubError('payment_not_reversible', `payment ${cmd.paymentId} cannot be reversed now`);
    case 'done': {
      if (outcome.result.kind !== 'changed') {
        throw new HubError(
          'payment_not_reversible',
          `a payment in status ${outcome.payment.status} cannot be reversed`,
          {
            paymentStatus: outcome.payment.status,
          },
        );
      }
      deps.logger.info(
        { paymentId: cmd.paymentId, channel: cmd.channel, requestId: cmd.requestId },
        'reversal requested',
      );
      deps.onChanged();
      return {
        status: 202,
        body: JSON.stringify(toPaymentView(outcome.payment)),
        replayed: false,
        paymentId: cmd.paymentId,
      };
    }
    default: {
      const never: never = outcome;
      throw new Error(`unexpected outcome ${JSON.stringify(never)}`);
    }
  }
}
