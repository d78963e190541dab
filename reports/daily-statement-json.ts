import { formatAmount } from '../domain/money';
import { STATEMENT_MEASURES, type DailyStatement, type StatementLine } from './daily-statement';

// The statement as JSON (for scripts and GET /ops/api/daily): amounts as decimal strings, counts as numbers.

export function statementToJson(statement: DailyStatement): Record<string, unknown> {
  return {
    kind: statement.kind,
    businessDate: statement.businessDate,
    generatedAt: statement.generatedAt,
    lines: statement.lines.map(lineToJson),
    byCore: statement.byCore.map(lineToJson),
    totals: statement.totals.map(lineToJson),
  };
}

export function renderStatementJson(statement: DailyStatement): string {
  return `${JSON.stringify(statementToJson(statement), null, 2)}\n`;
}

function lineToJson(line: StatementLine): Record<string, unknown> {
  const out: Record<string, unknown> = { channel: line.channel, core: line.core, currency: line.currency };
  for (const m of STATEMENT_MEASURES) {
    out[m] = { count: line.figures[m].count, amount: formatAmount(line.figures[m].sum) };
  }
  out.net = { count: line.netCount, amount: formatAmount(line.net) };
  return out;
}
