import { createHash } from 'node:crypto';
import type { ChannelPolicy } from '../channels/channel-policy';
import { EVERY_DAY, type BusinessCalendar } from '../domain/business-calendar';
import { businessDateWithCutoff } from '../domain/business-date';
import type { Channel, Core } from '../domain/channel';
import { coreForLoan } from '../domain/core-routing';
import { HubError } from '../domain/errors';
import { newPaymentId, newReceiptNumber } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { Payment } from '../domain/payment';
import type { Logger } from '../logging/logger';
import type { PaymentStore } from '../store/store-port';
import { checkPaymentRequest } from './channel-rules';
import { coreCommandRow } from './core-command';
import type { PaymentRequest } from './payment-request';
import { paymentEventRow } from './payment-event';
import { toPaymentView } from './payment-view';

export interface AcceptPaymentCommand {
  readonly channel: Channel;
  readonly policy: ChannelPolicy;
  readonly clientId: string;
  readonly idempotencyKey: string;
  /** The request body exactly as parsed from JSON, before any normalisation: it is what the key is bound to. */
  readonly rawBody: unknown;
  readonly request: PaymentRequest;
  readonly requestId: string;
  readonly traceparent?: string;
}

export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  readonly replayed: boolean;
  readonly paymentId: string;
  /** Set when this request created the payment. */
  readonly core?: Core;
}

export interface AcceptPaymentDeps {
  readonly store: PaymentStore;
  readonly timeZone: string;
  /** Weekends and holidays: a payment taken on a non-business day carries the next business date. */
  readonly calendar?: BusinessCalendar;
  readonly idempotencyTtlMs: number;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Called after the transaction commits, so the relay wakes now instead of at its next poll. */
  readonly onAccepted: () => void;
}

/**
 * Takes a payment exactly once. The key is scoped to the client; the fingerprint of the body decides
 * replay (same body: the stored response again) or conflict (another body: 422). The payment row, its
 * idempotency record and its outbox row are one transaction.
 */
export async function acceptPayment(deps: AcceptPaymentDeps, cmd: AcceptPaymentCommand): Promise<StoredResponse> {
  const fingerprint = fingerprintOf({ operation: 'payment', body: cmd.rawBody });
  const now = deps.now();
  // The store looks the key up again inside its transaction (an unexpired key answers 'existing' before
  // any limit is counted), so the lookup here is needed only when a check refuses the request: a retry
  // of an accepted payment gets its 201 again even after the cutoff, or once the loan is paid off.
  let core: Core;
  try {
    const owner = coreForLoan(cmd.request.loanNumber);
    if (!owner) throw new HubError('loan_not_found', `no loan core owns loan ${cmd.request.loanNumber}`);
    core = owner;
    checkPaymentRequest(cmd.policy, cmd.request, now, deps.timeZone);
  } catch (refused) {
    const earlier = await deps.store.findIdempotency(cmd.clientId, cmd.idempotencyKey, now);
    if (earlier) return replayOrConflict(earlier, fingerprint);
    throw refused;
  }
  // checkPaymentRequest refused a currency without limits; the daily limit is that currency's own.
  const limits = cmd.policy.limits[cmd.request.currency];
  if (!limits) throw new Error(`channel ${cmd.channel} has no limits for ${cmd.request.currency}`);
  const at = now.toISOString();
  const businessDate = (deps.calendar ?? EVERY_DAY).onOrAfter(
    businessDateWithCutoff(now, deps.timeZone, cmd.policy.paymentCutoff),
  );
  const paymentId = newPaymentId();
  // A receipt number is random; on the rare clash the store writes nothing and we draw another.
  for (let draw = 0; draw < 5; draw += 1) {
    const payment: Payment = {
      id: paymentId,
      receiptNumber: newReceiptNumber(cmd.channel, businessDate),
      channel: cmd.channel,
      clientId: cmd.clientId,
      channelReference: cmd.request.channelReference,
      loanNumber: cmd.request.loanNumber,
      core,
      amount: cmd.request.amount,
      currency: cmd.request.currency,
      businessDate,
      status: 'ACCEPTED',
      reason: null,
      coreReference: null,
      createdAt: at,
      updatedAt: at,
    };
    const body = JSON.stringify(toPaymentView(payment));
    const outcome = await deps.store.acceptPayment({
      payment,
      idempotency: {
        clientId: cmd.clientId,
        key: cmd.idempotencyKey,
        fingerprint,
        paymentId: payment.id,
        responseStatus: 201,
        responseBody: body,
        createdAt: at,
        expiresAt: new Date(now.getTime() + deps.idempotencyTtlMs).toISOString(),
      },
      outbox: [
        coreCommandRow(payment, 'apply_payment', cmd.requestId, cmd.traceparent),
        paymentEventRow(payment, 'status', body),
      ],
      maxPerLoanPerDay: limits.maxPerLoanPerDay,
    });
    if (outcome.kind === 'daily_limit_exceeded') {
      throw new HubError(
        'daily_limit_exceeded',
        `channel ${cmd.channel} takes at most ${formatAmount(limits.maxPerLoanPerDay)} ${cmd.request.currency} per loan per business day; ${formatAmount(outcome.alreadyTaken)} ${cmd.request.currency} taken so far`,
        {
          field: 'amount',
          limit: formatAmount(limits.maxPerLoanPerDay),
          taken: formatAmount(outcome.alreadyTaken),
          currency: cmd.request.currency,
        },
      );
    }
    if (outcome.kind === 'receipt_taken') continue;
    if (outcome.kind === 'existing') return replayOrConflict(outcome.idempotency, fingerprint);
    deps.logger.info(
      { paymentId: payment.id, channel: payment.channel, core, requestId: cmd.requestId },
      'payment accepted',
    );
    deps.onAccepted();
    return { status: 201, body, replayed: false, paymentId: payment.id, core };
  }
  throw new Error(`payment ${paymentId}: no free receipt number after 5 draws`);
}

export function replayOrConflict(
  earlier: { fingerprint: string; responseStatus: number; responseBody: string; paymentId: string },
  fingerprint: string,
): StoredResponse {
  if (earlier.fingerprint !== fingerprint) {
    throw new HubError('idempotency_key_reused', 'this Idempotency-Key was used with a different request body', {
      paymentId: earlier.paymentId,
    });
  }
  return { status: earlier.responseStatus, body: earlier.responseBody, replayed: true, paymentId: earlier.paymentId };
}

/** SHA-256 of the body with object keys sorted, so key order does not make a different request. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
