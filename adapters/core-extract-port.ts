import type { Core } from '../domain/channel';
import type { Currency } from '../domain/money';

// The port of a loan core's daily extract: each core's own record of the payments it applied and the
// reversals it did on a business date, fetched in the core's own format (cash CSV, mortgage JSON,
// vehicle XML) and kept as evidence for reconciliation. Implementations live beside each adapter
// (`adapters/<core>/<core>-extract.ts`); the reconciliation codes against this file only.

export interface CoreExtractRow {
  readonly core: Core;
  readonly kind: 'applied' | 'reversed';
  /** The hub's payment id: the core's external reference. */
  readonly paymentId: string;
  /** The core's own reference (of the payment for `applied`, of the reversal for `reversed`). */
  readonly coreReference: string;
  /** 12 digits. */
  readonly loanNumber: string;
  readonly currency: Currency;
  /** Minor units; never a float. */
  readonly amount: bigint;
  /** ISO instant of the application / reversal at the core. */
  readonly at: string;
  /** Record / line / element number in the extract (evidence), 1-based. */
  readonly line: number;
}

export interface CoreExtract {
  readonly core: Core;
  /** YYYY-MM-DD. */
  readonly businessDate: string;
  readonly fileName: string;
  /** SHA-256 of `raw`, lower-case hex. */
  readonly sha256: string;
  /** The bytes exactly as the core sent them. */
  readonly raw: Buffer;
  readonly rows: readonly CoreExtractRow[];
}

export interface CoreExtractSource {
  /** Throws CoreExtractError (core-extract-errors.ts) when the extract cannot be fetched or does not parse. */
  fetchDailyExtract(businessDate: string): Promise<CoreExtract>;
}
