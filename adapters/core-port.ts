import type { Core } from '../domain/channel';
import type { LoanInquiry } from '../domain/loan-inquiry';
import type { Currency, MinorUnits } from '../domain/money';

// The loan as the hub sees it and the "core did not answer" error are the hub's words (domain/), used
// by api/ and the broker's inquiry RPC too; re-exported here as part of the adapters' contract.
export { CoreUnavailableError, type LoanInquiry, type LoanStatus } from '../domain/loan-inquiry';

// The port every loan-core adapter implements. An adapter only translates the hub's language into
// its core's contract and back; retries, breakers, timeouts and metrics wrap it from outside
// (STYLE habit 8).

export interface CorePaymentCommand {
  /** The hub's payment id; the core keeps it as its external reference and answers a repeat with the original result. */
  readonly paymentId: string;
  readonly receiptNumber: string;
  readonly loanNumber: string;
  readonly amount: MinorUnits;
  readonly currency: Currency;
  readonly channel: string;
  readonly businessDate: string;
}

export interface CoreReversalCommand {
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

export interface CoreAdapter {
  readonly core: Core;
  /** The loan as its core sees it now, or null when the core does not know the loan. */
  inquire(loanNumber: string): Promise<LoanInquiry | null>;
  applyPayment(command: CorePaymentCommand): Promise<CoreOutcome>;
  reversePayment(command: CoreReversalCommand): Promise<CoreOutcome>;
}
