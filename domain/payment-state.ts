// The life of a payment as a pure function of (state, event). Every change the store makes goes
// through `transition`, so an illegal change is an error instead of a silent overwrite.

export const PAYMENT_STATUSES = [
  'ACCEPTED',
  'APPLIED',
  'REJECTED',
  'REVERSAL_PENDING',
  'REVERSED',
  'POSTED',
  'POST_REJECTED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export type PaymentEvent =
  | { readonly type: 'core_applied' }
  | { readonly type: 'core_rejected'; readonly reason: string }
  | { readonly type: 'reversal_requested' }
  | { readonly type: 'reversal_applied' }
  | { readonly type: 'reversal_rejected'; readonly reason: string }
  | { readonly type: 'mainframe_posted' }
  | { readonly type: 'mainframe_rejected'; readonly reason: string };

export type TransitionResult =
  | { readonly kind: 'changed'; readonly status: PaymentStatus; readonly reason: string | null }
  /** The event already happened (a redelivery): nothing to do, and not an error. */
  | { readonly kind: 'unchanged'; readonly status: PaymentStatus }
  | { readonly kind: 'illegal'; readonly status: PaymentStatus; readonly event: PaymentEvent['type'] };

export function transition(status: PaymentStatus, event: PaymentEvent): TransitionResult {
  const to = (next: PaymentStatus, reason: string | null = null): TransitionResult => ({
    kind: 'changed',
    status: next,
    reason,
  });
  const same: TransitionResult = { kind: 'unchanged', status };
  const illegal: TransitionResult = { kind: 'illegal', status, event: event.type };
  switch (event.type) {
    case 'core_applied':
      if (status === 'ACCEPTED') return to('APPLIED');
      return status === 'REJECTED' ? illegal : same;
    case 'core_rejected':
      if (status === 'ACCEPTED') return to('REJECTED', event.reason);
      return status === 'REJECTED' ? same : illegal;
    case 'reversal_requested':
      if (status === 'APPLIED') return to('REVERSAL_PENDING');
      return status === 'REVERSAL_PENDING' ? same : illegal;
    case 'reversal_applied':
      // The core restored the amount due: the payment is void.
      if (status === 'REVERSAL_PENDING') return to('REVERSED');
      return status === 'REVERSED' ? same : illegal;
    case 'reversal_rejected':
      // The core refused to reverse: the payment stays applied, with the core's reason.
      if (status === 'REVERSAL_PENDING') return to('APPLIED', event.reason);
      return status === 'APPLIED' ? same : illegal;
    case 'mainframe_posted':
      if (status === 'APPLIED') return to('POSTED');
      return status === 'POSTED' ? same : illegal;
    case 'mainframe_rejected':
      if (status === 'APPLIED') return to('POST_REJECTED', event.reason);
      return status === 'POST_REJECTED' ? same : illegal;
    default:
      return assertNever(event);
  }
}

export function isFinal(status: PaymentStatus): boolean {
  return status === 'REJECTED' || status === 'REVERSED' || status === 'POSTED' || status === 'POST_REJECTED';
}

function assertNever(value: never): never {
  throw new Error(`unhandled payment event ${JSON.stringify(value)}`);
}
