import type { ChannelPolicy } from '../channels/channel-policy';
import { EVERY_DAY, type BusinessCalendar } from '../domain/business-calendar';
import { businessDateOf, localMinuteOf } from '../domain/business-date';
import { HubError } from '../domain/errors';
import { formatAmount, type Currency, type MinorUnits } from '../domain/money';
import type { Payment } from '../domain/payment';
import type { PaymentRequest } from './payment-request';

// The channel policy's rules for payments and reversals, each refusal with its own code. A request is
// checked for every problem at once (a channel integrator fixes them in one round trip, STYLE habit 5).

/** The fields of a payment request that passed the schema; a field that did not is absent. */
export interface PaymentFields {
  readonly channelReference?: string;
  readonly currency?: Currency;
  readonly amount?: MinorUnits;
}

/** Every way the request breaks the channel's policy, field by field, in field order; empty when none. */
export function paymentPolicyProblems(policy: ChannelPolicy, fields: PaymentFields): HubError[] {
  const problems: HubError[] = [];
  if (fields.channelReference !== undefined && !policy.referencePattern.test(fields.channelReference)) {
    problems.push(
      new HubError(
        'channel_reference_format',
        `channelReference must look like ${policy.referenceExample} for channel ${policy.channel}`,
        { field: 'channelReference', example: policy.referenceExample },
      ),
    );
  }
  if (fields.currency === undefined) return problems;
  const limits = policy.limits[fields.currency];
  if (!limits) {
    problems.push(
      new HubError(
        'currency_not_allowed_for_channel',
        `channel ${policy.channel} takes ${policy.currencies.join(' and ')}`,
        {
          field: 'currency',
          currencies: policy.currencies,
        },
      ),
    );
    return problems;
  }
  if (fields.amount === undefined) return problems;
  const currency = fields.currency;
  if (fields.amount < limits.min) {
    problems.push(
      new HubError(
        'amount_below_channel_minimum',
        `the minimum per payment for ${policy.channel} is ${formatAmount(limits.min)} ${currency}`,
        { field: 'amount', minimum: formatAmount(limits.min), currency },
      ),
    );
  }
  if (fields.amount > limits.max) {
    problems.push(
      new HubError(
        'amount_above_channel_maximum',
        `the maximum per payment for ${policy.channel} is ${formatAmount(limits.max)} ${currency}`,
        { field: 'amount', maximum: formatAmount(limits.max), currency },
      ),
    );
  }
  return problems;
}

export function checkPaymentRequest(policy: ChannelPolicy, request: PaymentRequest, now: Date, timeZone: string): void {
  const problems = paymentPolicyProblems(policy, request);
  if (problems.length > 0) throw everyProblem(problems);
  const minute = localMinuteOf(now, timeZone);
  if (minute < policy.opensAt || minute >= policy.closesAt) {
    throw new HubError(
      'outside_operating_hours',
      `channel ${policy.channel} takes payments from ${hhmm(policy.opensAt)} to ${hhmm(policy.closesAt)} (${timeZone})`,
    );
  }
}

/**
 * One error for several problems: the first one's code, detail and members as before, and all of them
 * (the first included) in `errors`, one entry per field or header (RFC 9457 §3.2 extension member;
 * `pointer` is the JSON Pointer of the field in the body, as in the RFC's own example).
 */
export function everyProblem(problems: readonly HubError[]): HubError {
  const [first] = problems;
  if (!first) throw new Error('everyProblem needs at least one problem');
  const errors = problems.map((p) => {
    const { errors: _nested, ...members } = p.extras;
    const field = typeof members.field === 'string' ? members.field : undefined;
    return {
      ...(field !== undefined ? { pointer: `#/${field.replaceAll('~', '~0').replaceAll('/', '~1')}` } : {}),
      ...members,
      code: p.code,
      detail: p.detail,
    };
  });
  return new HubError(first.code, first.detail, { ...first.extras, errors });
}

/** Why this channel may not reverse this payment now, or null when it may. Checked inside the store's transaction too. */
export function reversalRefusal(
  policy: ChannelPolicy,
  payment: Payment,
  now: Date,
  timeZone: string,
  calendar: BusinessCalendar = EVERY_DAY,
): HubError | null {
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
  // On a weekend or holiday the day's payments carry the next business date: that is "today" for them.
  const today = calendar.onOrAfter(businessDateOf(now, timeZone));
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
