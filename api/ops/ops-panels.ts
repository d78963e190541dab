import { CORES } from '../../domain/channel';
import { CURRENCIES, formatAmount } from '../../domain/money';
import { MEASURE_LABELS, type StatementMeasure } from '../../reports/daily-statement';
import { renderStatementTables } from '../../reports/daily-statement-html';
import { escapeHtml } from '../../reports/html-text';
import { renderBarChart, SERIES_COLOURS } from '../../reports/svg-bar-chart';
import type { OpsOverview } from './ops-overview';

// The /ops page's panels as one HTML fragment (GET /ops/panels), rendered on the server with the
// reports' table and chart helpers; the page's script puts it in place. No inline script or style:
// charts are SVG with presentation attributes, so the page's CSP stays 'self' only.

const FLOW: readonly StatementMeasure[] = ['accepted', 'applied', 'posted', 'rejected', 'reversed', 'pending'];

export function renderOpsPanels(o: OpsOverview): string {
  return [
    `<p class="generated">Business date <strong id="business-date">${escapeHtml(o.businessDate)}</strong>, as of ${escapeHtml(o.generatedAt)}</p>`,
    flowPanel(o),
    queuesPanel(o),
    breakersPanel(o),
    webhooksPanel(o),
    batchPanel(o),
    reconPanel(o),
    trendPanel(o),
    `<section class="panel wide" id="panel-statement"><h2>Daily statement</h2>${renderStatementTables(o.statement)}</section>`,
  ].join('\n');
}

function flowPanel(o: OpsOverview): string {
  const rows = CORES.flatMap((core) =>
    CURRENCIES.map((currency) => {
      const line = o.statement.byCore.find((l) => l.core === core && l.currency === currency);
      const cells = FLOW.map((m) => {
        const f = line?.figures[m] ?? { count: 0, sum: 0n };
        return `<td class="num" data-core="${core}" data-currency="${currency}" data-measure="${m}">${f.count} · ${formatAmount(f.sum)}</td>`;
      }).join('');
      return `<tr><td>${core}</td><td>${currency}</td>${cells}</tr>`;
    }),
  ).join('\n');
  const chart = renderBarChart({
    title: 'Payments per core today (count)',
    series: (['accepted', 'applied', 'posted'] as const).map((m, i) => ({
      label: MEASURE_LABELS[m],
      colour: SERIES_COLOURS[i] ?? '#999',
    })),
    groups: CORES.map((core) => {
      const lines = o.statement.byCore.filter((l) => l.core === core);
      const count = (m: StatementMeasure): number => lines.reduce((n, l) => n + l.figures[m].count, 0);
      return {
        label: core,
        values: (['accepted', 'applied', 'posted'] as const).map((m) => BigInt(count(m))),
        titles: (['accepted', 'applied', 'posted'] as const).map((m) => `${core} ${m}: ${count(m)}`),
      };
    }),
    width: 420,
    height: 220,
  });
  return `<section class="panel wide" id="panel-flow"><h2>Today's flow per core</h2>
<div class="row"><figure class="chart">${chart}</figure>
<table><thead><tr><th>core</th><th>currency</th>${FLOW.map((m) => `<th>${MEASURE_LABELS[m]} (n · amount)</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

function queuesPanel(o: OpsOverview): string {
  const outbox =
    o.outbox.length === 0
      ? '<tr><td colspan="4">nothing waiting</td></tr>'
      : o.outbox
          .map(
            (r) =>
              `<tr><td>${escapeHtml(r.topic)}</td><td>${r.core}</td><td class="num">${r.pending}</td><td>${escapeHtml(r.oldestAt ?? '')}</td></tr>`,
          )
          .join('');
  const dead =
    o.deadLetters.length === 0
      ? '<tr><td colspan="3">none</td></tr>'
      : o.deadLetters
          .map(
            (r) =>
              `<tr><td>${escapeHtml(r.lane)}</td><td>${escapeHtml(r.status)}</td><td class="num">${r.count}</td></tr>`,
          )
          .join('');
  const deadRun = CORES.map((c) => `${c} ${o.deadLetteredByCore[c]}`).join(', ');
  return `<section class="panel" id="panel-queues"><h2>Queues and dead letters</h2>
<table><thead><tr><th>outbox topic</th><th>core</th><th>waiting</th><th>oldest</th></tr></thead><tbody>${outbox}</tbody></table>
<table><thead><tr><th>dead-letter lane</th><th>status</th><th>count</th></tr></thead><tbody>${dead}</tbody></table>
<p class="note">Dead-lettered since this process started: ${deadRun}. RabbitMQ queue depths: <code>loanhub queues</code>.</p></section>`;
}

function breakersPanel(o: OpsOverview): string {
  const rows = CORES.map(
    (c) =>
      `<tr><td>${c}</td><td class="breaker breaker-${o.breakers[c].replace(/ /g, '-')}">${o.breakers[c]}</td></tr>`,
  ).join('');
  return `<section class="panel" id="panel-breakers"><h2>Core circuit breakers</h2>
<table><thead><tr><th>core</th><th>state</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function webhooksPanel(o: OpsOverview): string {
  const rows =
    o.webhooks.length === 0
      ? '<tr><td colspan="4">no backlog</td></tr>'
      : o.webhooks
          .map(
            (r) =>
              `<tr><td>${escapeHtml(r.channel)}</td><td>${escapeHtml(r.status)}</td><td class="num">${r.count}</td><td>${escapeHtml(r.oldestAt ?? '')}</td></tr>`,
          )
          .join('');
  return `<section class="panel" id="panel-webhooks"><h2>Webhook backlog</h2>
<table><thead><tr><th>channel</th><th>status</th><th>count</th><th>oldest</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function batchPanel(o: OpsOverview): string {
  const rows = o.batch
    .map((b) => {
      const waiting = `<tr><td>${b.core}</td><td colspan="2">waiting for a file</td><td class="num">${b.waiting.count}</td><td class="num">${formatAmount(b.waiting.totalPen)}</td><td class="num">${formatAmount(b.waiting.totalUsd)}</td><td colspan="2"></td></tr>`;
      const files = b.files
        .map(
          (f) =>
            `<tr data-file="${escapeHtml(f.name)}"><td>${b.core}</td><td>${escapeHtml(f.name)}</td><td>${f.state}</td>` +
            `<td class="num">${f.recordCount}</td><td class="num">${formatAmount(f.totalPen)}</td><td class="num">${formatAmount(f.totalUsd)}</td>` +
            `<td class="num">${f.postedCount}</td><td class="num">${f.rejectedCount}</td></tr>`,
        )
        .join('');
      return files + waiting;
    })
    .join('\n');
  return `<section class="panel wide" id="panel-batch"><h2>Batch night per core</h2>
<table><thead><tr><th>core</th><th>file</th><th>state</th><th>records</th><th>PEN</th><th>USD</th><th>posted</th><th>rejected</th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

function reconPanel(o: OpsOverview): string {
  const r = o.recon;
  if (!r) {
    return `<section class="panel" id="panel-recon"><h2>Reconciliation</h2><p class="recon-status" data-status="NOT_RUN">reconciliation: not run for ${escapeHtml(o.businessDate)}</p></section>`;
  }
  const breaks =
    r.breaks.length === 0
      ? '<tr><td colspan="5">no open breaks</td></tr>'
      : r.breaks
          .slice(0, 50)
          .map(
            (b) =>
              `<tr><td>${escapeHtml(b.id)}</td><td>${escapeHtml(b.type)}</td><td>${escapeHtml(b.severity)}</td>` +
              `<td>${escapeHtml(b.channel ?? '')} ${escapeHtml(b.channelReference ?? '')}</td><td>${escapeHtml(b.paymentId ?? '')}</td></tr>`,
          )
          .join('');
  const chart =
    r.openByType.length === 0
      ? ''
      : `<figure class="chart">${renderBarChart({
          title: 'Open breaks by type',
          series: [{ label: 'open breaks', colour: SERIES_COLOURS[3] }],
          groups: r.openByType.map((c) => ({
            label: c.type.toLowerCase().replace(/_/g, ' ').slice(0, 18),
            values: [BigInt(c.count)],
            titles: [`${c.type}: ${c.count}`],
          })),
          width: Math.max(320, 90 * r.openByType.length),
          height: 200,
        })}</figure>`;
  return `<section class="panel wide" id="panel-recon"><h2>Reconciliation</h2>
<p class="recon-status" data-status="${r.status}" data-open-breaks="${r.openBreaks}">${r.status}: ${r.openBreaks} open break(s), run at ${escapeHtml(r.ranAt)}</p>
${chart}
<table><thead><tr><th>break</th><th>type</th><th>severity</th><th>channel</th><th>payment</th></tr></thead><tbody>${breaks}</tbody></table></section>`;
}

function trendPanel(o: OpsOverview): string {
  const dates = [...new Set(o.trend.map((t) => t.businessDate))];
  const charts = CURRENCIES.map((currency) =>
    renderBarChart({
      title: `Net taken per day, ${currency} (since ${o.trendFrom})`,
      series: [{ label: `net ${currency}`, colour: currency === 'PEN' ? SERIES_COLOURS[0] : SERIES_COLOURS[1] }],
      groups: dates.map((d) => {
        const t = o.trend.find((x) => x.businessDate === d && x.currency === currency);
        return {
          label: d.slice(5),
          values: [t?.net ?? 0n],
          titles: [`${d}: ${formatAmount(t?.net ?? 0n)} ${currency} (${t?.count ?? 0})`],
        };
      }),
      width: 420,
      height: 200,
    }),
  );
  return `<section class="panel wide" id="panel-trend"><h2>Last 14 days</h2><div class="row">${charts
    .map((c) => `<figure class="chart">${c}</figure>`)
    .join('')}</div></section>`;
}
