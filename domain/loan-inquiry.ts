import type { Core } from './channel';
import type { Currency, MinorUnits } from './money';

// A loan as its core reports it to the hub (debt inquiry, consulta de deuda), and the error for a core
// that gave no answer. The hub's words: the core adapters produce them (adapters/core-port.ts re-exports
// both), the API answers with them, the broker's inquiry RPC carries them between processes.

export type LoanStatus = 'ACTIVE' | 'CLOSED';

export interface LoanInquiry {
  readonly loanNumber: string;
  readonly core: Core;
  readonly currency: Currency;
  readonly amountDue: MinorUnits;
  readonly status: LoanStatus;
}

/**
 * Thrown when the core could not give an answer (down, timeout, 5xx, garbled reply). `retryable` says
 * whether asking again later may succeed; a non-retryable failure is a contract breach needing a person.
 * The API answers it with the catalogue's core_unavailable (503).
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
