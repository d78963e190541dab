import type { Core } from '../../domain/channel';
import type { Currency } from '../../domain/money';

// The seam each loan-core simulator implements. The three simulators share one ledger (core-ledger.ts),
// one HTTP server with fault injection (core-simulator-server.ts, core-faults.ts); a contract speaks its
// core's own wire format over that ledger. These are the bank side's own types: a simulator speaks the
// core's wire contract and needs nothing from the hub's port (adapters/core-port.ts).

export type SimulatedLoanStatus = 'ACTIVE' | 'CLOSED';

export interface SeedBucket {
  readonly name: string;
  readonly due: bigint;
}

export interface SeedLoan {
  readonly loanId: string;
  readonly currency: Currency;
  readonly status: SimulatedLoanStatus;
  /** In allocation order: a payment fills the first bucket, then the next. */
  readonly buckets: readonly SeedBucket[];
}

export interface SimulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface SimulatorAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export type SimulatorHandler = (request: SimulatorRequest) => SimulatorAnswer;

export interface CoreSimulatorContract {
  readonly core: Core;
  readonly seeds: readonly SeedLoan[];
  /** The core's own reference for the n-th payment or reversal it records. */
  reference(kind: 'payment' | 'reversal', sequence: bigint): string;
  createHandler(ledger: SimulatedLedger, env: NodeJS.ProcessEnv): SimulatorHandler;
}

export interface LedgerBucket {
  readonly name: string;
  readonly due: bigint;
}

export interface LedgerLoan {
  readonly loanId: string;
  readonly currency: Currency;
  readonly status: SimulatedLoanStatus;
  readonly buckets: readonly LedgerBucket[];
  readonly totalDue: bigint;
}

export interface BucketAmount {
  readonly name: string;
  readonly amount: bigint;
}

export type PaymentRejection =
  'loan_not_found' | 'loan_closed' | 'currency_mismatch' | 'invalid_amount' | 'overpayment';

export type ApplyResult =
  | {
      readonly kind: 'applied';
      readonly coreReference: string;
      readonly loan: LedgerLoan;
      readonly allocation: readonly BucketAmount[];
    }
  | { readonly kind: 'rejected'; readonly reason: PaymentRejection; readonly loan: LedgerLoan | undefined };

export type ReverseResult =
  | {
      readonly kind: 'reversed';
      readonly reversalReference: string;
      readonly paymentReference: string;
      readonly loan: LedgerLoan;
      readonly restored: readonly BucketAmount[];
    }
  | { readonly kind: 'rejected'; readonly reason: 'payment_not_found' | 'invalid_amount' };

/** What a ledger operation hands back to the contract: the stored answer (original or replayed) or a conflict. */
export type LedgerAnswer =
  { readonly kind: 'fresh' | 'replayed'; readonly answer: SimulatorAnswer } | { readonly kind: 'conflict' };

export interface ApplyInput {
  readonly externalRef: string;
  readonly loanId: string;
  readonly amount: bigint;
  readonly currency: string;
}

export interface ReverseInput {
  readonly externalRef: string;
  readonly loanId: string;
  readonly amount: bigint;
}

export interface SimulatedLedger {
  findLoan(loanId: string): LedgerLoan | undefined;
  /**
   * Applies a payment once per external reference. The rendered answer is stored with the payment in
   * the same transaction; a repeat with the same payload gets that stored answer back, a repeat with
   * another payload is a conflict (STYLE habit 9: key plus fingerprint).
   */
  applyPayment(input: ApplyInput, render: (result: ApplyResult) => SimulatorAnswer): LedgerAnswer;
  /** Restores exactly what the payment took, once; a repeat gets the stored answer. Rejections are not stored. */
  reversePayment(input: ReverseInput, render: (result: ReverseResult) => SimulatorAnswer): SimulatorAnswer;
  listLoans(): LedgerLoan[];
  /**
   * What the core's daily extract lists for `businessDate` (YYYY-MM-DD): the payments it applied and the
   * reversals it did on that calendar date in the bank's time zone, in the order they happened, with the
   * extract faults planted through /_admin/extract-fault applied.
   */
  extractMovements(businessDate: string): LedgerMovement[];
  setExtractFault(fault: ExtractFault): void;
  listExtractFaults(): ExtractFault[];
  clearExtractFaults(): void;
  close(): void;
}

/** One line of a daily extract, before the contract renders it in its own format. */
export interface LedgerMovement {
  readonly kind: 'payment' | 'reversal';
  /** The hub's payment id (for a reversal: of the payment reversed). */
  readonly externalRef: string;
  /** The core's reference of the payment, or of the reversal. */
  readonly coreReference: string;
  readonly loanId: string;
  readonly currency: Currency;
  /** Minor units, positive for both kinds. */
  readonly amount: bigint;
  /** ISO instant. */
  readonly at: string;
}

/**
 * A planted difference between what the core did and what its extract says, for reconciliation drills:
 * `duplicate` lists the payment twice (as a core that applied it twice would: the second line carries
 * the core reference with `-2`), `drop` leaves it out, `amount` lists it with another amount.
 */
export type ExtractFault =
  | { readonly action: 'duplicate' | 'drop'; readonly paymentId: string }
  | { readonly action: 'amount'; readonly paymentId: string; readonly amount: bigint };
