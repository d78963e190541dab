import { isChannel, isCore } from '../domain/channel';
import { isCurrency } from '../domain/money';
import {
  BREAK_STATUSES,
  BREAK_TYPES,
  RECON_SOURCES,
  type BreakStatus,
  type BreakType,
  type ReconBreak,
  type ReconRun,
  type ReconSource,
  type SettlementFileRecord,
  type Totals,
} from './recon-store-port';
import { SEVERITY_OF } from './recon-matching-sql';

// The reconciliation tables' rows as the ports' values, for every database (SQLite hands integers as
// bigint, PostgreSQL BIGINT as strings: both go through Number/BigInt here).

export interface SettlementFileRow {
  id: bigint | string;
  channel: string;
  business_date: string;
  file_name: string;
  sha256: string;
  size_bytes: bigint | string;
  lines: bigint | string;
  good_lines: bigint | string;
  bad_lines: bigint | string;
  problems: string;
  imported_at: string;
  superseded_by: bigint | string | null;
}

export interface RunRow {
  id: bigint | string;
  business_date: string;
  started_at: string;
  finished_at: string;
  status: string;
  open_breaks: bigint | string;
  new_breaks: bigint | string;
  closed_breaks: bigint | string;
  sources: string;
}

export interface BreakRow {
  id: string;
  business_date: string;
  type: string;
  severity: string;
  status: string;
  payment_id: string | null;
  channel: string | null;
  channel_reference: string | null;
  core: string | null;
  evidence: string;
  first_seen_run: bigint | string;
  last_seen_run: bigint | string;
  resolved_note: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  closed_reason: string | null;
  closed_at: string | null;
}

export interface TotalsRow {
  source: string;
  channel: string;
  core: string;
  currency: string;
  count: bigint | string;
  amount_minor: bigint | string;
}

export function toFile(r: SettlementFileRow): SettlementFileRecord {
  if (!isChannel(r.channel)) throw new Error(`settlement file ${r.id} has an unknown channel ${r.channel}`);
  return {
    id: Number(r.id),
    channel: r.channel,
    businessDate: r.business_date,
    fileName: r.file_name,
    sha256: r.sha256,
    sizeBytes: Number(r.size_bytes),
    lines: Number(r.lines),
    goodLines: Number(r.good_lines),
    badLines: Number(r.bad_lines),
    problems: JSON.parse(r.problems) as string[],
    importedAt: r.imported_at,
    supersededBy: r.superseded_by === null ? null : Number(r.superseded_by),
  };
}

export function toRun(r: RunRow): ReconRun {
  const sources = JSON.parse(r.sources) as { cores?: string[]; channels?: string[] };
  return {
    id: Number(r.id),
    businessDate: r.business_date,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status === 'BALANCED' ? 'BALANCED' : 'UNBALANCED',
    openBreaks: Number(r.open_breaks),
    newBreaks: Number(r.new_breaks),
    closedBreaks: Number(r.closed_breaks),
    sources: { cores: (sources.cores ?? []).filter(isCore), channels: (sources.channels ?? []).filter(isChannel) },
  };
}

export function toTotals(r: TotalsRow): Totals {
  if (!(RECON_SOURCES as readonly string[]).includes(r.source) || !isCurrency(r.currency)) {
    throw new Error(`recon totals row has an unknown source or currency: ${r.source} ${r.currency}`);
  }
  return {
    source: r.source as ReconSource,
    channel: isChannel(r.channel) ? r.channel : 'unknown',
    core: isCore(r.core) ? r.core : 'unknown',
    currency: r.currency,
    count: Number(r.count),
    amount: BigInt(r.amount_minor),
  };
}

export function asBreakType(t: string): BreakType {
  if (!(BREAK_TYPES as readonly string[]).includes(t)) throw new Error(`unknown break type ${t}`);
  return t as BreakType;
}

export function asBreakStatus(s: string): BreakStatus {
  if (!(BREAK_STATUSES as readonly string[]).includes(s)) throw new Error(`unknown break status ${s}`);
  return s as BreakStatus;
}

export function toBreak(r: BreakRow): ReconBreak {
  const raw = JSON.parse(r.evidence) as Record<string, unknown>;
  const evidence: Partial<Record<ReconSource, unknown>> = {};
  for (const s of RECON_SOURCES) if (raw[s] !== null && raw[s] !== undefined) evidence[s] = raw[s];
  const type = asBreakType(r.type);
  return {
    id: r.id,
    businessDate: r.business_date,
    type,
    severity: SEVERITY_OF[type],
    status: asBreakStatus(r.status),
    paymentId: r.payment_id,
    channel: isChannel(r.channel) ? r.channel : null,
    channelReference: r.channel_reference,
    core: isCore(r.core) ? r.core : null,
    evidence,
    firstSeenRun: Number(r.first_seen_run),
    lastSeenRun: Number(r.last_seen_run),
    resolution:
      r.resolved_at !== null ? { note: r.resolved_note ?? '', by: r.resolved_by ?? '', at: r.resolved_at } : null,
    closedReason: r.closed_reason,
    closedAt: r.closed_at,
  };
}
