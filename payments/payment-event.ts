import type { Payment } from '../domain/payment';
import type { NewOutboxRow } from '../store/store-port';
import { toPaymentView, type PaymentView } from './payment-view';

// Every state change of a payment becomes an event for its channel (the confirmation webhook), written
// to the outbox in the same transaction as the change. The event id is stable across redeliveries (the
// same `webhook-id`, so the channel can deduplicate) and distinct for every change: `<paymentId>:<STATUS>`
// for the statuses a payment reaches once, with the moment of the change added for the reversal steps,
// which can repeat (a refused reversal brings the payment back to APPLIED and it may be reversed again).

export type PaymentEventType = `payment.${Lowercase<Payment['status']>}` | 'payment.reversal_refused';

export interface PaymentEventMessage {
  readonly id: string;
  readonly type: PaymentEventType;
  readonly timestamp: string;
  readonly channel: Payment['channel'];
  readonly data: PaymentView;
}

/**
 * @param viewJson `JSON.stringify(toPaymentView(payment))` when the caller already has it (the 201's body):
 *   the payload is then put together around it, the same bytes without a second view and stringify.
 */
export function paymentEventRow(
  payment: Payment,
  change: 'status' | 'reversal_refused' = 'status',
  viewJson?: string,
): NewOutboxRow {
  const at = Date.parse(payment.updatedAt);
  const repeatable = payment.status === 'REVERSAL_PENDING' || payment.status === 'REVERSED';
  const id =
    change === 'reversal_refused'
      ? `${payment.id}:REVERSAL_REFUSED:${at}`
      : `${payment.id}:${payment.status}${repeatable ? `:${at}` : ''}`;
  const type: PaymentEventType =
    change === 'reversal_refused'
      ? 'payment.reversal_refused'
      : `payment.${payment.status.toLowerCase() as Lowercase<Payment['status']>}`;
  if (viewJson !== undefined) {
    // The members in PaymentEventMessage's order, as JSON.stringify of the message writes them.
    const payload = `{"id":${JSON.stringify(id)},"type":"${type}","timestamp":${JSON.stringify(payment.updatedAt)},"channel":"${payment.channel}","data":${viewJson}}`;
    return { topic: 'payment.event', messageId: id, payload };
  }
  const message: PaymentEventMessage = {
    id,
    type,
    timestamp: payment.updatedAt,
    channel: payment.channel,
    data: toPaymentView(payment),
  };
  return { topic: 'payment.event', messageId: message.id, payload: JSON.stringify(message) };
}
