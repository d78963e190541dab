import { SEVERITIES, type ReconStore } from '../../store/recon-store-port';

// What the ops page shows of reconciliation, behind a small provider so the page depends only on the
// read-only methods recon/ keeps stable (/work/briefs/recon-interface.md: latestRun, breaks, breakCounts).
// Null means no run for that date: the page says "reconciliation: not run".

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
  /** Open breaks above severity info (the day is BALANCED when it is 0). */
  readonly openBreaks: number;
  /** Open breaks of every severity, per type. */
  readonly openByType: readonly { readonly type: string; readonly count: number }[];
  /** Open breaks, most severe first, at most MAX_LISTED. */
  readonly breaks: readonly OpsReconBreak[];
}

export interface OpsReconProvider {
  status(businessDate: string): Promise<OpsReconStatus | null>;
}

export const MAX_LISTED = 50;

/** Until a store carries reconciliation runs: every date is "not run". */
export const NO_RECON: OpsReconProvider = Object.freeze({ status: async () => null });

export function reconProviderOf(recon: ReconStore | undefined): OpsReconProvider {
  if (!recon) return NO_RECON;
  return Object.freeze({
    async status(businessDate: string): Promise<OpsReconStatus | null> {
      const run = await recon.latestRun(businessDate);
      if (!run) return null;
      const openByType = (await recon.breakCounts(businessDate))
        .filter((c) => c.status === 'open' && c.count > 0)
        .map((c) => ({ type: c.type, count: c.count }));
      // Keyset pages of open breaks; the page lists the most severe first, so all open ones are read
      // (their number is what finance must work through anyway) and only MAX_LISTED are kept per severity.
      const bySeverity = new Map<string, OpsReconBreak[]>();
      for await (const page of recon.breaks({ businessDate, status: 'open' }, 500)) {
        for (const b of page) {
          const list = bySeverity.get(b.severity) ?? [];
          if (list.length < MAX_LISTED) {
            list.push({
              id: b.id,
              type: b.type,
              severity: b.severity,
              channel: b.channel,
              core: b.core,
              paymentId: b.paymentId,
              channelReference: b.channelReference,
            });
          }
          bySeverity.set(b.severity, list);
        }
      }
      const breaks = SEVERITIES.flatMap((s) => bySeverity.get(s) ?? []).slice(0, MAX_LISTED);
      return {
        businessDate,
        status: run.status,
        ranAt: run.finishedAt,
        openBreaks: run.openBreaks,
        openByType,
        breaks,
      };
    },
  });
}
