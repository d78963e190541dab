import { formatAmount } from '../domain/money';
import type { CsvDelimiter } from './csv-delimiter';
import { STATEMENT_MEASURES, type DailyStatement, type StatementLine } from './daily-statement';

// The statement as CSV for Excel: UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF line ends
// (RFC 4180 §2), ISO dates, amounts as decimal strings with a point. One row per channel × core ×
// currency, then per core (channel ALL), then the day per currency (channel and core ALL).

export type { CsvDelimiter } from './csv-delimiter';

export const CSV_COLUMNS = [
  'business_date',
  'channel',
  'core',
  'currency',
  ...STATEMENT_MEASURES.flatMap((m) => [`${snake(m)}_count`, `${snake(m)}_amount`]),
  'net_count',
  'net_amount',
] as const;

export function renderStatementCsv(statement: DailyStatement, delimiter: CsvDelimiter = ','): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const line of [...statement.lines, ...statement.byCore, ...statement.totals]) {
    rows.push(rowOf(statement.businessDate, line));
  }
  return `\uFEFF${rows.map((r) => r.map((c) => quote(c, delimiter)).join(delimiter)).join('\r\n')}\r\n`;
}

function rowOf(date: string, line: StatementLine): string[] {
  return [
    date,
    line.channel,
    line.core,
    line.currency,
    ...STATEMENT_MEASURES.flatMap((m) => [String(line.figures[m].count), formatAmount(line.figures[m].sum)]),
    String(line.netCount),
    formatAmount(line.net),
  ];
}

function quote(cell: string, delimiter: CsvDelimiter): string {
  return cell.includes(delimiter) || /["\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
