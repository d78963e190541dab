import fs from 'node:fs';
import { once } from 'node:events';
import { formatAmount } from '../domain/money';
import type { BreakType, ReconBreak, ReconRun, ReconStore, Totals } from '../store/recon-store-port';
import { breakJson, runJson, totalsJson } from './recon-json';
import { barChart, trendChart, type Bar } from './svg-charts';

// Finance's report of a reconciled business date, as CSV (UTF-8 BOM, ';' or ',', decimal strings,
// ISO dates: opens cleanly in Excel), JSON, or one self-contained HTML page (tables and inline SVG
// charts, no network). Breaks are streamed from the store page by page.

export const REPORT_FORMATS = ['csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const CSV_COLUMNS = [
  'section',
  'business_date',
  'source',
  'channel',
  'core',
  'currency',
  'count',
  'amount',
  'break_id',
  'type',
  'severity',
  'status',
  'payment_id',
  'channel_reference',
  'resolution',
  'closed_reason',
  'evidence',
] as const;

export class ReportError extends Error {
  readonly code = 'recon_not_run';
}

interface Writer {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function fileWriter(file: string): Writer {
  const out = fs.createWriteStream(file);
  return {
    async write(text: string) {
      if (!out.write(text)) await once(out, 'drain');
    },
    async close() {
      out.end();
      await once(out, 'finish');
    },
  };
}

function csvField(value: string, delimiter: string): string {
  return /["\r\n]/.test(value) || value.includes(delimiter) ? `"${value.replaceAll('"', '""')}"` : value;
}

async function* allBreaks(recon: ReconStore, date: string): AsyncIterable<ReconBreak> {
  for await (const page of recon.breaks({ businessDate: date }, 500)) yield* page;
}

function daysBefore(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

export async function writeReconReport(opts: {
  readonly recon: ReconStore;
  readonly businessDate: string;
  readonly format: ReportFormat;
  readonly out: string;
  readonly delimiter?: ';' | ',';
  readonly generatedAt: string;
}): Promise<{ breaks: number }> {
  const run = await opts.recon.latestRun(opts.businessDate);
  if (!run)
    throw new ReportError(
      `no reconciliation run for ${opts.businessDate}: run loanhub recon run --date ${opts.businessDate} first`,
    );
  const totals = await opts.recon.totals(opts.businessDate);
  const w = fileWriter(opts.out);
  let breaks = 0;
  try {
    switch (opts.format) {
      case 'csv':
        breaks = await writeCsv(w, opts.recon, run, totals, opts.delimiter ?? ';');
        break;
      case 'json':
        breaks = await writeJson(w, opts.recon, run, totals, opts.generatedAt);
        break;
      case 'html':
        breaks = await writeHtml(w, opts.recon, run, totals, opts.generatedAt);
        break;
      default: {
        const never: never = opts.format;
        throw new Error(`unknown report format ${String(never)}`);
      }
    }
  } finally {
    await w.close();
  }
  return { breaks };
}

async function writeCsv(
  w: Writer,
  recon: ReconStore,
  run: ReconRun,
  totals: readonly Totals[],
  d: string,
): Promise<number> {
  const row = (cells: readonly string[]): string => `${cells.map((c) => csvField(c, d)).join(d)}\r\n`;
  await w.write(`\uFEFF${row(CSV_COLUMNS)}`);
  const blank = (n: number): string[] => new Array<string>(n).fill('');
  await w.write(
    row(['run', run.businessDate, '', '', '', '', String(run.openBreaks), '', '', '', '', run.status, ...blank(5)]),
  );
  for (const t of totals) {
    await w.write(
      row([
        'totals',
        run.businessDate,
        t.source,
        t.channel,
        t.core,
        t.currency,
        String(t.count),
        formatAmount(t.amount),
        ...blank(9),
      ]),
    );
  }
  let n = 0;
  for await (const b of allBreaks(recon, run.businessDate)) {
    n += 1;
    await w.write(
      row([
        'break',
        b.businessDate,
        Object.keys(b.evidence).join('+'),
        b.channel ?? '',
        b.core ?? '',
        '',
        '',
        '',
        b.id,
        b.type,
        b.severity,
        b.status,
        b.paymentId ?? '',
        b.channelReference ?? '',
        b.resolution ? `${b.resolution.by}: ${b.resolution.note} (${b.resolution.at})` : '',
        b.closedReason ?? '',
        JSON.stringify(b.evidence),
      ]),
    );
  }
  return n;
}

async function writeJson(
  w: Writer,
  recon: ReconStore,
  run: ReconRun,
  totals: readonly Totals[],
  at: string,
): Promise<number> {
  const head = { ...runJson(run), generatedAt: at, totals: totals.map(totalsJson) };
  const text = JSON.stringify(head, null, 2);
  await w.write(`${text.slice(0, text.lastIndexOf('}')).trimEnd()},\n  "breaks": [`);
  let n = 0;
  for await (const b of allBreaks(recon, run.businessDate)) {
    await w.write(`${n === 0 ? '\n' : ',\n'}    ${JSON.stringify(breakJson(b))}`);
    n += 1;
  }
  await w.write(`${n === 0 ? '' : '\n  '}]\n}\n`);
  return n;
}

const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}td.n{text-align:right}
.BALANCED{color:#176f2c}.UNBALANCED{color:#b00020}pre{margin:0;font-size:.8em;white-space:pre-wrap}
figure{display:inline-block;margin:0 2rem 1rem 0}`;

async function writeHtml(
  w: Writer,
  recon: ReconStore,
  run: ReconRun,
  totals: readonly Totals[],
  at: string,
): Promise<number> {
  const date = run.businessDate;
  await w.write(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Reconciliation ${esc(date)}</title>`,
  );
  await w.write(
    `<style>${STYLE}</style></head><body>\n<h1>Reconciliation of ${esc(date)}: <span class="${run.status}">${run.status}</span></h1>\n`,
  );
  await w.write(
    `<p>Run ${run.id} finished ${esc(run.finishedAt)}; ${run.openBreaks} open break(s), ${run.newBreaks} new, ${run.closedBreaks} closed by this run. Sources: cores ${esc(run.sources.cores.join(', ') || 'none')}; settlement files ${esc(run.sources.channels.join(', ') || 'none')}. Generated ${esc(at)}.</p>\n`,
  );
  // Charts: PEN and USD are never added together.
  const currencies = [...new Set(totals.map((t) => t.currency))].sort();
  for (const cur of currencies) {
    for (const dim of ['channel', 'core'] as const) {
      const bars: Bar[] = [];
      for (const t of totals.filter((x) => x.currency === cur)) {
        const label = `${t[dim]} · ${t.source}`;
        const found = bars.find((b) => b.label === label);
        if (found) found.value += t.amount;
        else bars.push({ label, value: t.amount });
      }
      bars.sort((a, b) => a.label.localeCompare(b.label));
      await w.write(
        `<figure>${barChart(`Totals per ${dim} and source, ${cur}`, bars, (v) => formatAmount(v))}</figure>\n`,
      );
    }
  }
  const counts = await recon.breakCounts(date);
  const byType = new Map<BreakType, bigint>();
  for (const c of counts) byType.set(c.type, (byType.get(c.type) ?? 0n) + BigInt(c.count));
  await w.write(
    `<figure>${barChart(
      'Breaks by type',
      [...byType].map(([label, value]) => ({ label, value })),
      (v) => v.toString(),
    )}</figure>\n`,
  );
  const trend = await recon.runsBetween(daysBefore(date, 29), date);
  await w.write(
    `<figure>${trendChart(
      'Open breaks, last 30 days',
      trend.map((r) => ({ label: r.businessDate, value: r.openBreaks })),
    )}</figure>\n`,
  );

  await w.write(
    '<h2>Totals</h2>\n<table id="totals"><thead><tr><th>source</th><th>channel</th><th>core</th><th>currency</th><th>count</th><th>amount</th></tr></thead><tbody>\n',
  );
  for (const t of totals) {
    await w.write(
      `<tr><td>${t.source}</td><td>${t.channel}</td><td>${t.core}</td><td>${t.currency}</td><td class="n">${t.count}</td><td class="n">${formatAmount(t.amount)}</td></tr>\n`,
    );
  }
  await w.write(
    '</tbody></table>\n<h2>Breaks</h2>\n<table id="breaks"><thead><tr><th>id</th><th>type</th><th>severity</th><th>status</th><th>channel</th><th>reference</th><th>payment</th><th>core</th><th>evidence</th><th>resolution</th></tr></thead><tbody>\n',
  );
  let n = 0;
  for await (const b of allBreaks(recon, date)) {
    n += 1;
    const evidence = Object.entries(b.evidence)
      .map(([src, ev]) => `<b>${esc(src)}</b><pre>${esc(JSON.stringify(ev, null, 1))}</pre>`)
      .join('');
    const resolution = b.resolution
      ? `${esc(b.resolution.by)}: ${esc(b.resolution.note)} (${esc(b.resolution.at)})`
      : esc(b.closedReason ?? '');
    await w.write(
      `<tr id="${esc(b.id)}"><td>${esc(b.id)}</td><td>${b.type}</td><td>${b.severity}</td><td>${b.status}</td><td>${esc(b.channel ?? '')}</td><td>${esc(b.channelReference ?? '')}</td><td>${esc(b.paymentId ?? '')}</td><td>${esc(b.core ?? '')}</td><td>${evidence}</td><td>${resolution}</td></tr>\n`,
    );
  }
  await w.write('</tbody></table>\n</body></html>\n');
  return n;
}
