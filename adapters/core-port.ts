import type { Core } from '../domain/channel';
import type { Currency, MinorUnits } from '../domain/money';

// The port every loan-core adapter implements. An adapter only translates the hub's language into
// its core's contract and back; retries, breakers, timeouts and metrics wrap it from outside
// (STYLE habit 8).

export type LoanStatus = 'ACTIVE' | 'CLOSED';

export interface LoanInquiry {
  readonly loanNumber: string;
  readonly core: Core;
  readonly currency: Currency;
  readonly amountDue: MinorUnits;
  readonly status: LoanStatus;
}

export interface ApplyPaymentCommand {
  /** The hub's payment id; the core keeps it as its external reference and answers a repeat with the original result. */
  readonly paymentId: string;
  readonly receiptNumber: string;
  readonly loanNumber: string;
  readonly amount: MinorUnits;
  readonly currency: Currency;
  readonly channel: string;
  readonly businessDate: string;
}

export interface ReversePaymentCommand {
  readonly paymentId: string;
  readonly loanNumber: string;
  readonly amount: MinorUnits;
  readonly currency: Currency;
}

/** Why a core refused a payment, in the hub's words. */
export type CoreRejectReason =
  | 'loan_closed'
  | 'loan_not_found'
  | 'overpayment'
  | 'currency_mismatch'
  | 'invalid_amount'
  | 'payment_not_found'
  | 'already_reversed';

export type CoreOutcome =
  | { readonly kind: 'applied'; readonly coreReference: string; readonly amountDueAfter: MinorUnits }
  | { readonly kind: 'rejected'; readonly reason: CoreRejectReason; readonly detail: string };

/**
 * Thrown when the core could not give an answer (down, timeout, 5xx, garbled reply). `retryable` says
 * whether asking again later may succeed; a non-retryable failure is a contract breach needing a person.
 */
export class CoreUnavailableError extends Error {
  readonly code = 'core_unavailable';
  constructor(
    readonly core: Core,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CoreUnavailableError';
  }
}

export interface CoreAdapter {
  readonly core: Core;
  /** The loan as its core sees it now, or null when the core does not know the loan. */
  inquire(loanNumber: string): Promise<LoanInquiry | null>;
  applyPayment(command: ApplyPaymentCommand): Promise<CoreOutcome>;
  reversePayment(command: ReversePaymentCommand): Promise<CoreOutcome>;
}
