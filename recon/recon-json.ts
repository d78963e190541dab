import { formatAmount } from '../domain/money';
import type { ReconBreak, ReconRun, Totals } from '../store/recon-store-port';

// The JSON shapes of `recon run --json`, `recon breaks --json` and the JSON report: amounts as decimal
// strings, dates ISO.

export function totalsJson(t: Totals): Record<string, unknown> {
  return {
    source: t.source,
    channel: t.channel,
    core: t.core,
    currency: t.currency,
    count: t.count,
    amount: formatAmount(t.amount),
  };
}

export function breakJson(b: ReconBreak): Record<string, unknown> {
  return {
    id: b.id,
    businessDate: b.businessDate,
    type: b.type,
    severity: b.severity,
    status: b.status,
    channel: b.channel,
    channelReference: b.channelReference,
    paymentId: b.paymentId,
    core: b.core,
    evidence: b.evidence,
    firstSeenRun: b.firstSeenRun,
    lastSeenRun: b.lastSeenRun,
    resolution: b.resolution,
    closedReason: b.closedReason,
    closedAt: b.closedAt,
  };
}

export function runJson(run: ReconRun): Record<string, unknown> {
  return {
    runId: run.id,
    date: run.businessDate,
    status: run.status,
    finishedAt: run.finishedAt,
    openBreaks: run.openBreaks,
    newBreaks: run.newBreaks,
    closedBreaks: run.closedBreaks,
    sources: run.sources,
  };
}
