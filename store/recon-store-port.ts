import type { Channel, Core } from '../domain/channel';
import type { Currency } from '../domain/money';

// Reconciliation's persistence port: the channels' settlement files and lines, the cores' daily extracts,
// the runs, the breaks and their resolutions. Owned tables: recon_settlement_files, recon_settlement_lines,
// recon_core_extracts, recon_core_rows, recon_runs, recon_breaks, recon_totals. It reads (never writes)
// payments, payment_events, batch_files and batch_file_payments: the matching is SQL joins in the
// database, so memory stays flat however many rows a day holds.

export const BREAK_TYPES = [
  'CHANNEL_UNKNOWN_TO_HUB',
  'ACCEPTED_NOT_APPLIED',
  'MISSING_AT_CORE',
  'CORE_APPLIED_NOT_AT_HUB',
  'APPLIED_TWICE_AT_CORE',
  'AMOUNT_MISMATCH',
  'REVERSED_STILL_PRESENT',
  'APPLIED_NOT_POSTED',
  'MAINFRAME_REJECTED',
  'OTHER_BUSINESS_DATE',
  'DUPLICATE_SETTLEMENT_LINE',
  'MISSING_IN_SETTLEMENT',
  'SOURCE_MISSING',
] as const;
export type BreakType = (typeof BREAK_TYPES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const BREAK_STATUSES = ['open', 'resolved', 'closed'] as const;
export type BreakStatus = (typeof BREAK_STATUSES)[number];

export const RECON_SOURCES = ['hub', 'core', 'mainframe', 'channel'] as const;
export type ReconSource = (typeof RECON_SOURCES)[number];

export type DayStatus = 'BALANCED' | 'UNBALANCED';

export interface SettlementFileRecord {
  readonly id: number;
  readonly channel: Channel;
  readonly businessDate: string;
  readonly fileName: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly lines: number;
  readonly goodLines: number;
  readonly badLines: number;
  /** Every problem of the file as the reader described it, in line order. */
  readonly problems: readonly string[];
  readonly importedAt: string;
  /** Set when a later file of the same channel and date replaced this one. */
  readonly supersededBy: number | null;
}

export interface NewSettlementLine {
  readonly line: number;
  readonly businessDate: string;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
  readonly raw: string;
}

export interface CoreExtractLine {
  readonly paymentId: string;
  readonly kind: 'APPLIED' | 'REVERSED';
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
  readonly coreReference: string;
  readonly at: string;
}

/** A payment as its channel collected it (what the channel's settlement file lists). */
export interface CollectedPaymentRow {
  readonly paymentId: string;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
}

export interface Totals {
  readonly source: ReconSource;
  readonly channel: Channel | 'unknown';
  readonly core: Core | 'unknown';
  readonly currency: Currency;
  readonly count: number;
  readonly amount: bigint;
}

export interface ReconBreak {
  readonly id: string;
  readonly businessDate: string;
  readonly type: BreakType;
  readonly severity: Severity;
  readonly status: BreakStatus;
  readonly paymentId: string | null;
  readonly channel: Channel | null;
  readonly channelReference: string | null;
  readonly core: Core | null;
  /** What each source that has a row says (amounts as decimal strings). */
  readonly evidence: Partial<Record<ReconSource, unknown>>;
  readonly firstSeenRun: number;
  readonly lastSeenRun: number;
  readonly resolution: { readonly note: string; readonly by: string; readonly at: string } | null;
  readonly closedReason: string | null;
  readonly closedAt: string | null;
}

export interface ReconRun {
  readonly id: number;
  readonly businessDate: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: DayStatus;
  readonly openBreaks: number;
  readonly newBreaks: number;
  readonly closedBreaks: number;
  /** Which sources had data: the core extracts and settlement files loaded for the date. */
  readonly sources: { readonly cores: readonly Core[]; readonly channels: readonly Channel[] };
}

export interface BreakFilter {
  readonly businessDate?: string;
  readonly status?: BreakStatus;
  readonly type?: BreakType;
}

export interface RunOptions {
  readonly businessDate: string;
  readonly at: string;
  /** The channels whose settlement file the day needs (a missing one is a SOURCE_MISSING break). */
  readonly expectedChannels: readonly Channel[];
  /** The cores whose extract the day needs. */
  readonly expectedCores: readonly Core[];
}

export type ResolveOutcome = { readonly kind: 'resolved'; readonly break: ReconBreak } | { readonly kind: 'not_found' };

export interface ReconStore {
  findSettlementFile(channel: Channel, sha256: string): Promise<SettlementFileRecord | null>;
  /** Starts a file in the loading state: its lines count for nothing until `finishSettlementFile`. */
  beginSettlementFile(input: {
    channel: Channel;
    businessDate: string;
    fileName: string;
    sha256: string;
    sizeBytes: number;
    at: string;
  }): Promise<number>;
  addSettlementLines(fileId: number, lines: readonly NewSettlementLine[]): Promise<void>;
  /** Marks the file imported; an earlier imported file of the same channel and date is superseded by it. */
  finishSettlementFile(
    fileId: number,
    counts: { lines: number; goodLines: number; badLines: number; problems: readonly string[] },
  ): Promise<SettlementFileRecord>;
  /** Drops a file that was not finished (a --strict refusal, a crash) with its lines. */
  discardSettlementFile(fileId: number): Promise<void>;
  listSettlementFiles(businessDate: string): Promise<SettlementFileRecord[]>;
  /**
   * The channel's payments of the date that stand (not rejected, not reversed or being reversed), in
   * creation order, `batchSize` at a time: what a simulated channel lists in its settlement file.
   */
  collectedPayments(channel: Channel, businessDate: string, batchSize: number): AsyncIterable<CollectedPaymentRow[]>;

  /** Replaces the extract of a core and date with these rows (evidence kept as `evidence`, e.g. the core's text). */
  beginCoreExtract(input: {
    core: Core;
    businessDate: string;
    at: string;
    format: string;
    evidence: string;
  }): Promise<number>;
  addCoreExtractLines(extractId: number, lines: readonly CoreExtractLine[]): Promise<void>;
  finishCoreExtract(extractId: number, rows: number): Promise<void>;

  /** Matches the sources of the date in SQL, merges the breaks found with the stored ones, writes totals. */
  run(options: RunOptions): Promise<ReconRun>;
  latestRun(businessDate: string): Promise<ReconRun | null>;
  /** The last run of each date in [from, to], oldest first (for the trend). */
  runsBetween(from: string, to: string): Promise<ReconRun[]>;
  totals(businessDate: string): Promise<Totals[]>;
  /** Breaks in id order, `batchSize` at a time (keyset pages: constant memory). */
  breaks(filter: BreakFilter, batchSize: number): AsyncIterable<ReconBreak[]>;
  getBreak(id: string): Promise<ReconBreak | null>;
  breakCounts(businessDate: string): Promise<{ type: BreakType; status: BreakStatus; count: number }[]>;
  resolveBreak(id: string, resolution: { note: string; by: string; at: string }): Promise<ResolveOutcome>;
}
