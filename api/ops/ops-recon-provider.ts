// What the ops page shows of reconciliation, behind a small provider so the page does not depend on how
// recon/ stores its runs. Null means no run for that date: the page says "reconciliation: not run".

export interface OpsReconBreak {
  readonly id: string;
  readonly type: string;
  readonly severity: string;
  readonly channel: string | null;
  readonly core: string | null;
  readonly paymentId: string | null;
  readonly channelReference: string | null;
}

export interface OpsReconStatus {
  readonly businessDate: string;
  readonly status: 'BALANCED' | 'UNBALANCED';
  readonly ranAt: string;
  readonly openBreaks: number;
  /** The open breaks, most severe first (the page shows at most 50). */
  readonly breaks: readonly OpsReconBreak[];
}

export interface OpsReconProvider {
  status(businessDate: string): Promise<OpsReconStatus | null>;
}

/** Until a store carries reconciliation runs: every date is "not run". */
export const NO_RECON: OpsReconProvider = Object.freeze({ status: async () => null });
