import { minorUnits } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import { paymentEventRow } from '../../payments/payment-event';
import { toPaymentView } from '../../payments/payment-view';

// The accepted event's payload is put together around the 201's body instead of stringifying the view
// again: a channel must get the very same bytes either way.

const base: Payment = {
  id: '019ae0a1-2b3c-7d4e-8f60-123456789abc',
  receiptNumber: 'A-20261202-0042-9917',
  channel: 'app',
  clientId: 'app-client',
  channelReference: 'APP-"quoted"-\\-ñ',
  loanNumber: '100000000001',
  core: 'cash',
  amount: minorUnits(12550n),
  currency: 'PEN',
  businessDate: '2026-12-02',
  status: 'ACCEPTED',
  reason: null,
  coreReference: null,
  createdAt: '2026-12-02T16:00:00.123Z',
  updatedAt: '2026-12-02T16:00:00.123Z',
};

describe('payment event rows', () => {
  it.each<[string, Partial<Payment>, 'status' | 'reversal_refused']>([
    ['accepted', {}, 'status'],
    [
      'applied with a core reference',
      { status: 'APPLIED', coreReference: 'C-1', updatedAt: '2026-12-02T16:00:01.000Z' },
      'status',
    ],
    ['rejected with a reason', { status: 'REJECTED', reason: 'loan_closed' }, 'status'],
    ['reversed (repeatable id)', { status: 'REVERSED', updatedAt: '2026-12-02T17:00:00.000Z' }, 'status'],
    ['reversal refused', { status: 'APPLIED', reason: 'too_late' }, 'reversal_refused'],
  ])('%s: the same row whether or not the view JSON is handed in', (_name, change, kind) => {
    const payment: Payment = { ...base, ...change };
    const built = paymentEventRow(payment, kind);
    const around = paymentEventRow(payment, kind, JSON.stringify(toPaymentView(payment)));
    expect(around).toEqual(built);
    expect(JSON.parse(around.payload)).toMatchObject({
      id: built.messageId,
      channel: 'app',
      data: toPaymentView(payment),
    });
  });
});
