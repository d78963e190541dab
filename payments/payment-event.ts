import type { Payment } from '../domain/payment';
import type { NewOutboxRow } from '../store/store-port';
import { toPaymentView, type PaymentView } from './payment-view';

// Every state change of a payment becomes an event for its channel (the confirmation webhook), written
// to the outbox in the same transaction as the change. The event id is stable per (payment, status), so
// a redelivery carries the same `webhook-id` and the channel can deduplicate.

export interface PaymentEventMessage {
  readonly id: string;
  readonly type: `payment.${Lowercase<Payment['status']>}`;
  readonly timestamp: string;
  readonly channel: Payment['channel'];
  readonly data: PaymentView;
}

export function paymentEventRow(payment: Payment): NewOutboxRow {
  const message: PaymentEventMessage = {
    id: `${payment.id}:${payment.status}`,
    type: `payment.${payment.status.toLowerCase() as Lowercase<Payment['status']>}`,
    timestamp: payment.updatedAt,
    channel: payment.channel,
    data: toPaymentView(payment),
  };
  return { topic: 'payment.event', messageId: message.id, payload: JSON.stringify(message) };
}
