import { CORES, type Core } from '../../domain/channel';
import { formatAmount, type Currency } from '../../domain/money';
import { coreDatabasePath, readLedgerLoans, totalDueOf } from './core-ledger';
import type { SeedLoan, SimulatedLoanStatus } from './core-simulator-contract';
import { CORE_SIMULATOR_CONTRACTS } from './core-simulator-contracts';

// The loans the core simulators are seeded with, and what each owes now (`loanhub loans sample`).

export interface SampleLoan {
  readonly loanNumber: string;
  readonly core: Core;
  readonly currency: Currency;
  readonly amountDue: string;
  readonly status: SimulatedLoanStatus;
}

function sampleOf(core: Core, seed: SeedLoan): SampleLoan {
  return Object.freeze({
    loanNumber: seed.loanId,
    core,
    currency: seed.currency,
    amountDue: formatAmount(totalDueOf(seed.buckets)),
    status: seed.status,
  });
}

/** Every loan the simulators seed, in core order; amounts as decimal strings. */
export const SAMPLE_LOANS: readonly SampleLoan[] = Object.freeze(
  CORES.flatMap((core) => CORE_SIMULATOR_CONTRACTS[core].seeds.map((seed) => sampleOf(core, seed))),
);

export interface CoreLoanBalance {
  readonly loanNumber: string;
  readonly core: Core;
  readonly currency: Currency;
  /** Minor units. */
  readonly amountDue: bigint;
  readonly status: SimulatedLoanStatus;
}

/**
 * Current balances of every seeded loan as the simulators persisted them; a core with no database yet
 * answers its seeds. Opens the files without creating them, so it is safe while simulators run.
 */
export async function readCoreLoans(dataDir: string): Promise<CoreLoanBalance[]> {
  const loans: CoreLoanBalance[] = [];
  for (const core of CORES) {
    const persisted = readLedgerLoans(coreDatabasePath(dataDir, core));
    for (const seed of CORE_SIMULATOR_CONTRACTS[core].seeds) {
      const loan = persisted.get(seed.loanId);
      loans.push({
        loanNumber: seed.loanId,
        core,
        currency: loan?.currency ?? seed.currency,
        amountDue: loan?.totalDue ?? totalDueOf(seed.buckets),
        status: loan?.status ?? seed.status,
      });
    }
  }
  return loans;
}
