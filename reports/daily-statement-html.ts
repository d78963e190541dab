import { CURRENCIES, formatAmount, type Currency } from '../domain/money';
import { escapeHtml } from './html-text';
import {
  MEASURE_LABELS,
  STATEMENT_MEASURES,
  type DailyStatement,
  type StatementLine,
  type StatementMeasure,
} from './daily-statement';
import { renderBarChart, SERIES_COLOURS } from './svg-bar-chart';

// The statement as one self-contained HTML file (no script, no network: styles inline in <head>, charts
// as inline SVG), and the same tables and charts as fragments for the ops page.

const CHART_MEASURES: readonly StatementMeasure[] = ['accepted', 'applied', 'posted', 'rejected', 'reversed'];

export function renderStatementHtml(statement: DailyStatement): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LoanHub daily statement ${escapeHtml(statement.businessDate)}</title>
<style>${REPORT_CSS}</style></head>
<body>
<h1>Daily consolidated statement — business date ${escapeHtml(statement.businessDate)}</h1>
<p class="meta">Generated ${escapeHtml(statement.generatedAt)}. Amounts in each currency; net = accepted − rejected − reversed.</p>
${renderStatementCharts(statement)}
${renderStatementTables(statement)}
</body></html>
`;
}

/** The per-core charts (amounts per currency) as inline SVG. */
export function renderStatementCharts(statement: DailyStatement): string {
  return CURRENCIES.map((currency) => {
    const lines = statement.byCore.filter((l) => l.currency === currency);
    if (lines.length === 0) return '';
    return `<figure class="chart">${renderBarChart({
      title: `Per core, ${currency}: ${CHART_MEASURES.map((m) => MEASURE_LABELS[m]).join(', ')}`,
      series: CHART_MEASURES.map((m, i) => ({ label: MEASURE_LABELS[m], colour: SERIES_COLOURS[i] ?? '#999' })),
      groups: lines.map((l) => ({
        label: l.core,
        values: CHART_MEASURES.map((m) => l.figures[m].sum),
        titles: CHART_MEASURES.map(
          (m) =>
            `${l.core} ${MEASURE_LABELS[m]}: ${formatAmount(l.figures[m].sum)} ${currency} (${l.figures[m].count})`,
        ),
      })),
    })}</figure>`;
  }).join('\n');
}

/** The totals, per-core and per-channel-and-core tables. */
export function renderStatementTables(statement: DailyStatement): string {
  return [
    section('Day totals', 'totals', statement.totals),
    section('Per core', 'by-core', statement.byCore),
    section('Per channel and core', 'lines', statement.lines),
  ].join('\n');
}

function section(title: string, id: string, lines: readonly StatementLine[]): string {
  const head = ['channel', 'core', 'currency', ...STATEMENT_MEASURES.map((m) => MEASURE_LABELS[m]), 'net']
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join('');
  const body =
    lines.length === 0
      ? `<tr><td colspan="${STATEMENT_MEASURES.length + 4}">no payments</td></tr>`
      : lines
          .map(
            (l) =>
              `<tr data-channel="${l.channel}" data-core="${l.core}" data-currency="${l.currency}">` +
              `<td>${l.channel}</td><td>${l.core}</td><td>${l.currency}</td>` +
              STATEMENT_MEASURES.map((m) => cell(l.figures[m].count, l.figures[m].sum, l.currency, m)).join('') +
              cell(l.netCount, l.net, l.currency, 'net') +
              '</tr>',
          )
          .join('\n');
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>
<table class="statement"><thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table></section>`;
}

function cell(count: number, sum: bigint, currency: Currency, measure: string): string {
  return `<td class="num" data-measure="${measure}"><span class="amount">${formatAmount(sum)}</span> <span class="count">(${count})</span><span class="ccy"> ${currency}</span></td>`;
}

export const REPORT_CSS = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.5rem}
.meta{color:#555;font-size:.9rem}
table.statement{border-collapse:collapse;font-size:.85rem}
table.statement th,table.statement td{border:1px solid #ccc;padding:.25rem .45rem}
table.statement th{background:#f0f3f6;text-align:left}
td.num{text-align:right;white-space:nowrap}
td .count{color:#666}td .ccy{display:none}
figure.chart{display:inline-block;margin:.5rem 1rem .5rem 0}`;
