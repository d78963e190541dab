import { formatAmount } from '../domain/money';
import type { Payment } from '../domain/payment';

/** The JSON a channel sees for a payment. Amounts leave the hub as decimal strings. */
export interface PaymentView {
  readonly paymentId: string;
  readonly receiptNumber: string;
  readonly status: string;
  readonly reason?: string;
  readonly channel: string;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly core: string;
  readonly amount: string;
  readonly currency: string;
  readonly businessDate: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toPaymentView(p: Payment): PaymentView {
  return {
    paymentId: p.id,
    receiptNumber: p.receiptNumber,
    status: p.status,
    ...(p.reason !== null ? { reason: p.reason } : {}),
    channel: p.channel,
    channelReference: p.channelReference,
    loanNumber: p.loanNumber,
    core: p.core,
    amount: formatAmount(p.amount),
    currency: p.currency,
    businessDate: p.businessDate,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
