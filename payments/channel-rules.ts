import type { ChannelPolicy } from '../channels/channel-policy';
import { businessDateOf, localMinuteOf } from '../domain/business-date';
import { HubError } from '../domain/errors';
import { formatAmount } from '../domain/money';
import type { Payment } from '../domain/payment';
import type { PaymentRequest } from './accept-payment';

// The channel policy's rules for payments and reversals, each refusal with its own code.

export function checkPaymentRequest(policy: ChannelPolicy, request: PaymentRequest, now: Date, timeZone: string): void {
  if (!policy.referencePattern.test(request.channelReference)) {
    throw new HubError(
      'channel_reference_format',
      `channelReference must look like ${policy.referenceExample} for channel ${policy.channel}`,
      {
        field: 'channelReference',
        example: policy.referenceExample,
      },
    );
  }
  if (!policy.currencies.includes(request.currency)) {
    throw new HubError(
      'currency_not_allowed_for_channel',
      `channel ${policy.channel} takes ${policy.currencies.join(' and ')}`,
    );
  }
  if (request.amount < policy.minAmount) {
    throw new HubError(
      'amount_below_channel_minimum',
      `the minimum per payment for ${policy.channel} is ${formatAmount(policy.minAmount)}`,
      {
        minimum: formatAmount(policy.minAmount),
      },
    );
  }
  if (request.amount > policy.maxAmount) {
    throw new HubError(
      'amount_above_channel_maximum',
      `the maximum per payment for ${policy.channel} is ${formatAmount(policy.maxAmount)}`,
      {
        maximum: formatAmount(policy.maxAmount),
      },
    );
  }
  const minute = localMinuteOf(now, timeZone);
  if (minute < policy.opensAt || minute >= policy.closesAt) {
    throw new HubError(
      'outside_operating_hours',
      `channel ${policy.channel} takes payments from ${hhmm(policy.opensAt)} to ${hhmm(policy.closesAt)} (${timeZone})`,
    );
  }
}

/** Why this channel may not reverse this payment now, or null when it may. Checked inside the store's transaction too. */
export function reversalRefusal(policy: ChannelPolicy, payment: Payment, now: Date, timeZone: string): HubError | null {
  if (!policy.reversalAllowed)
    return new HubError('reversal_not_allowed', `channel ${policy.channel} may not reverse payments`);
  if (payment.status === 'POSTED' || payment.status === 'POST_REJECTED') {
    return new HubError('payment_in_batch', 'the payment was already sent to the mainframe');
  }
  if (payment.status !== 'APPLIED' && payment.status !== 'REVERSAL_PENDING') {
    return new HubError('payment_not_reversible', `a payment in status ${payment.status} cannot be reversed`, {
      paymentStatus: payment.status,
    });
  }
  const today = businessDateOf(now, timeZone);
  if (payment.businessDate !== today || localMinuteOf(now, timeZone) >= policy.reversalUntil) {
    return new HubError(
      'reversal_window_closed',
      `a payment can be reversed on its own business day (${payment.businessDate}) until ${hhmm(policy.reversalUntil)} (${timeZone})`,
    );
  }
  return null;
}

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
