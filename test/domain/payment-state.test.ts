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
    ['APPLIED', { type: 'reversal_applied' }],
    ['REJECTED', { type: 'reversal_applied' }],
    ['ACCEPTED', { type: 'mainframe_posted' }],
    ['REVERSED', { type: 'mainframe_posted' }],
    ['POSTED', { type: 'reversal_applied' }],
  ])('%s cannot take %p', (from, event) => {
    expect(transition(from, event)).toEqual({ kind: 'illegal', status: from, event: event.type });
  });

  it('a reversal goes APPLIED -> REVERSAL_PENDING -> REVERSED, or back to APPLIED when the core refuses', () => {
    expect(transition('APPLIED', { type: 'reversal_requested' })).toMatchObject({
      kind: 'changed',
      status: 'REVERSAL_PENDING',
    });
    expect(transition('REVERSAL_PENDING', { type: 'reversal_applied' })).toMatchObject({
      kind: 'changed',
      status: 'REVERSED',
    });
    expect(transition('REVERSAL_PENDING', { type: 'reversal_rejected', reason: 'already_reversed' })).toEqual({
      kind: 'changed',
      status: 'APPLIED',
      reason: 'already_reversed',
    });
    expect(transition('REVERSED', { type: 'reversal_requested' })).toMatchObject({ kind: 'illegal' });
    expect(transition('REJECTED', { type: 'reversal_requested' })).toMatchObject({ kind: 'illegal' });
  });

  it('an applied payment can be posted by the mainframe', () => {
    expect(transition('APPLIED', { type: 'mainframe_posted' })).toMatchObject({ kind: 'changed', status: 'POSTED' });
    expect(transition('APPLIED', { type: 'mainframe_rejected', reason: 'R01' })).toEqual({
      kind: 'changed',
      status: 'POST_REJECTED',
      reason: 'R01',
    });
  });
});
