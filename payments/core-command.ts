import { formatAmount } from '../domain/money';
import type { Payment } from '../domain/payment';
import { MESSAGE_SCHEMA_VERSION, type CoreCommandMessage } from '../domain/core-messages';
import type { NewOutboxRow } from '../store/store-port';

/** The outbox row that asks the payment's core to apply (or reverse) it. */
export function coreCommandRow(
  payment: Payment,
  type: CoreCommandMessage['type'],
  correlationId: string,
  traceparent: string | undefined,
): NewOutboxRow {
  const message: CoreCommandMessage = {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    messageId: `${payment.id}:${type}`,
    type,
    paymentId: payment.id,
    core: payment.core,
    correlationId,
    timestamp: new Date().toISOString(),
    ...(traceparent ? { traceparent } : {}),
    body: {
      loanNumber: payment.loanNumber,
      amount: formatAmount(payment.amount),
      currency: payment.currency,
      receiptNumber: payment.receiptNumber,
      channel: payment.channel,
      businessDate: payment.businessDate,
    },
  };
  return { topic: 'core.command', messageId: message.messageId, payload: JSON.stringify(message) };
}
