import { transition, type PaymentEvent, type PaymentStatus } from '../../domain/payment-state';

const applied: PaymentEvent = { type: 'core_applied' };
const rejected: PaymentEvent = { type: 'core_rejected', reason: 'loan_closed' };

describe('payment state transitions', () => {
  it('an accepted payment becomes APPLIED when its core applies it', () => {
    expect(transition('ACCEPTED', applied)).toEqual({ kind: 'changed', status: 'APPLIED', reason: null });
  });

  it("an accepted payment becomes REJECTED with the core's reason", () => {
    expect(transition('ACCEPTED', rejected)).toEqual({ kind: 'changed', status: 'REJECTED', reason: 'loan_closed' });
  });

  it('a repeated core answer changes nothing and is not an error (redelivery)', () => {
    expect(transition('APPLIED', applied)).toEqual({ kind: 'unchanged', status: 'APPLIED' });
    expect(transition('REJECTED', rejected)).toEqual({ kind: 'unchanged', status: 'REJECTED' });
  });

  it.each<[PaymentStatus, PaymentEvent]>([
    ['REJECTED', applied],
    ['APPLIED', rejected],
    ['ACCEPTED', { type: 'reversal_applied' }],
    ['REJECTED', { type: 'reversal_applied' }],
    ['ACCEPTED', { type: 'mainframe_posted' }],
    ['REVERSED', { type: 'mainframe_posted' }],
    ['POSTED', { type: 'reversal_applied' }],
  ])('%s cannot take %p', (from, event) => {
    expect(transition(from, event)).toEqual({ kind: 'illegal', status: from, event: event.type });
  });

  it('an applied payment can be reversed, then posted ones no longer', () => {
    expect(transition('APPLIED', { type: 'reversal_applied' })).toMatchObject({ kind: 'changed', status: 'REVERSED' });
    expect(transition('APPLIED', { type: 'mainframe_posted' })).toMatchObject({ kind: 'changed', status: 'POSTED' });
    expect(transition('APPLIED', { type: 'mainframe_rejected', reason: 'R01' })).toEqual({
      kind: 'changed',
      status: 'POST_REJECTED',
      reason: 'R01',
    });
  });
});
