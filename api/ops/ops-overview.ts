import type { Registry } from 'prom-client';
import { CORES, type Core } from '../../domain/channel';
import { formatAmount } from '../../domain/money';
import { buildDailyStatement, type DailyStatement } from '../../reports/daily-statement';
import { statementToJson } from '../../reports/daily-statement-json';
import type { BatchFile, WaitingPayments } from '../../store/batch-store-port';
import type {
  DayTotalRow,
  DeadLetterCountRow,
  OutboxBacklogRow,
  WebhookBacklogRow,
} from '../../store/report-store-port';
import type { PaymentStore } from '../../store/store-port';
import type { OpsReconProvider, OpsReconStatus } from './ops-recon-provider';

// Everything the /ops page shows for one business date, gathered from the store's read-only queries,
// the batch tables and this process's metrics (breakers, dead-lettered commands).

export const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number] | 'not in this process';

export interface CoreBatchNight {
  readonly core: Core;
  readonly files: readonly BatchFile[];
  readonly waiting: WaitingPayments;
}

export interface OpsOverview {
  readonly businessDate: string;
  readonly generatedAt: string;
  readonly statement: DailyStatement;
  readonly outbox: readonly OutboxBacklogRow[];
  readonly deadLetters: readonly DeadLetterCountRow[];
  readonly deadLetteredByCore: Readonly<Record<Core, number>>;
  readonly breakers: Readonly<Record<Core, BreakerState>>;
  readonly webhooks: readonly WebhookBacklogRow[];
  readonly batch: readonly CoreBatchNight[];
  readonly recon: OpsReconStatus | null;
  readonly trend: readonly DayTotalRow[];
  readonly trendFrom: string;
}

export async function gatherOverview(deps: {
  store: PaymentStore;
  registry: Registry;
  recon: OpsReconProvider;
  businessDate: string;
  now: Date;
}): Promise<OpsOverview> {
  const reports = deps.store.reports;
  if (!reports) throw new Error(`the ${deps.store.kind} store has no report queries yet`);
  const date = deps.businessDate;
  const trendFrom = addDays(date, -13);
  const [statement, outbox, deadLetters, webhooks, trend, files, recon] = await Promise.all([
    buildDailyStatement(reports, date, deps.now),
    reports.outboxBacklog(),
    reports.deadLetterCounts(),
    reports.webhookBacklog(),
    reports.dayTotals(trendFrom, date),
    deps.store.batch.listFiles({ businessDate: date }),
    deps.recon.status(date),
  ]);
  const batch: CoreBatchNight[] = [];
  for (const core of CORES) {
    batch.push({
      core,
      files: files.filter((f) => f.core === core),
      waiting: await deps.store.batch.waitingPayments(core, date),
    });
  }
  return {
    businessDate: date,
    generatedAt: deps.now.toISOString(),
    statement,
    outbox,
    deadLetters,
    deadLetteredByCore: await perCore(deps.registry, 'loanhub_commands_dead_lettered_total', (v) => v),
    breakers: await perCore(deps.registry, 'loanhub_core_breaker_state', breakerStateOf, 'not in this process'),
    webhooks,
    batch,
    recon,
    trend,
    trendFrom,
  };
}

/** The overview as JSON (GET /ops/api/overview): amounts as decimal strings. */
export function overviewToJson(o: OpsOverview): Record<string, unknown> {
  return {
    businessDate: o.businessDate,
    generatedAt: o.generatedAt,
    statement: statementToJson(o.statement),
    outbox: o.outbox,
    deadLetters: o.deadLetters,
    deadLetteredByCore: o.deadLetteredByCore,
    breakers: o.breakers,
    webhooks: o.webhooks,
    batch: o.batch.map((b) => ({
      core: b.core,
      waiting: {
        count: b.waiting.count,
        PEN: formatAmount(b.waiting.totalPen),
        USD: formatAmount(b.waiting.totalUsd),
      },
      files: b.files.map((f) => ({
        name: f.name,
        sequence: f.sequence,
        state: f.state,
        recordCount: f.recordCount,
        PEN: formatAmount(f.totalPen),
        USD: formatAmount(f.totalUsd),
        postedCount: f.postedCount,
        rejectedCount: f.rejectedCount,
        sentAt: f.sentAt,
        respondedAt: f.respondedAt,
        lastError: f.lastError,
      })),
    })),
    reconciliation: o.recon ?? { status: 'NOT_RUN' },
    trend: o.trend.map((t) => ({
      businessDate: t.businessDate,
      currency: t.currency,
      count: t.count,
      net: formatAmount(t.net),
    })),
  };
}

async function perCore<T>(
  registry: Registry,
  name: string,
  map: (value: number) => T,
  missing?: T,
): Promise<Record<Core, T>> {
  const metric = registry.getSingleMetric(name);
  const values = metric ? (await metric.get()).values : [];
  const out = {} as Record<Core, T>;
  for (const core of CORES) {
    const v = values.find((x) => x.labels.core === core);
    out[core] = v ? map(v.value) : (missing ?? map(0));
  }
  return out;
}

function breakerStateOf(value: number): BreakerState {
  return BREAKER_STATES[value] ?? 'not in this process';
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
