import { CORES, type Channel, type Core } from '../domain/channel';
import { CURRENCIES, type Currency } from '../domain/money';
import type { CountAndSum, ReportStore, StatementRow } from '../store/report-store-port';

// The daily consolidated statement (finance's "cuadre diario"): per business date, per channel and per
// core, how many payments were accepted, applied, rejected, reversed, posted and post-rejected, and for
// how much, in each currency, with the day's net. Built from one aggregate query (store/report-store-port.ts);
// amounts stay bigint minor units here and become decimal strings only in the renderers.

export const STATEMENT_MEASURES = [
  'accepted',
  'applied',
  'rejected',
  'reversed',
  'posted',
  'postRejected',
  'pending',
] as const;
export type StatementMeasure = (typeof STATEMENT_MEASURES)[number];

export interface StatementLine {
  readonly channel: Channel | 'ALL';
  readonly core: Core | 'ALL';
  readonly currency: Currency;
  readonly figures: Readonly<Record<StatementMeasure, CountAndSum>>;
  /** What the day keeps: accepted less rejected and reversed (minor units). */
  readonly net: bigint;
  readonly netCount: number;
}

export interface DailyStatement {
  readonly kind: 'daily-statement';
  readonly businessDate: string;
  readonly generatedAt: string;
  /** One line per channel × core × currency that had payments, in channel, core, currency order. */
  readonly lines: readonly StatementLine[];
  /** Per core × currency, all channels. */
  readonly byCore: readonly StatementLine[];
  /** Per currency, all channels and cores (both currencies always present). */
  readonly totals: readonly StatementLine[];
}

export async function buildDailyStatement(
  reports: ReportStore,
  businessDate: string,
  now: Date = new Date(),
): Promise<DailyStatement> {
  const rows = await reports.statement(businessDate);
  const lines = rows.map((r) => lineOf(r.channel, r.core, r.currency, r));
  const byCore = CORES.flatMap((core) =>
    CURRENCIES.flatMap((currency) => {
      const part = rows.filter((r) => r.core === core && r.currency === currency);
      return part.length > 0 ? [sumLines('ALL', core, currency, part)] : [];
    }),
  );
  const totals = CURRENCIES.map((currency) =>
    sumLines(
      'ALL',
      'ALL',
      currency,
      rows.filter((r) => r.currency === currency),
    ),
  );
  return { kind: 'daily-statement', businessDate, generatedAt: now.toISOString(), lines, byCore, totals };
}

function sumLines(
  channel: Channel | 'ALL',
  core: Core | 'ALL',
  currency: Currency,
  rows: readonly StatementRow[],
): StatementLine {
  const figures = {} as Record<StatementMeasure, CountAndSum>;
  for (const m of STATEMENT_MEASURES) {
    figures[m] = rows.reduce((acc, r) => ({ count: acc.count + r[m].count, sum: acc.sum + r[m].sum }), {
      count: 0,
      sum: 0n,
    });
  }
  return withNet(channel, core, currency, figures);
}

function lineOf(channel: Channel, core: Core, currency: Currency, r: StatementRow): StatementLine {
  const figures = {} as Record<StatementMeasure, CountAndSum>;
  for (const m of STATEMENT_MEASURES) figures[m] = r[m];
  return withNet(channel, core, currency, figures);
}

function withNet(
  channel: Channel | 'ALL',
  core: Core | 'ALL',
  currency: Currency,
  figures: Record<StatementMeasure, CountAndSum>,
): StatementLine {
  return {
    channel,
    core,
    currency,
    figures,
    net: figures.accepted.sum - figures.rejected.sum - figures.reversed.sum,
    netCount: figures.accepted.count - figures.rejected.count - figures.reversed.count,
  };
}

export const MEASURE_LABELS: Readonly<Record<StatementMeasure, string>> = {
  accepted: 'accepted',
  applied: 'applied',
  rejected: 'rejected',
  reversed: 'reversed',
  posted: 'posted',
  postRejected: 'post-rejected',
  pending: 'pending',
};
