// Charts as inline SVG strings: a horizontal bar chart and a daily trend. No script, no network, so
// the report stays one self-contained file. Values are bigint (money in minor units, or counts);
// only the pixel geometry is a number.

export interface Bar {
  readonly label: string;
  value: bigint;
}

const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The fraction value/max in thousandths, as a pixel-ready number (0..1). */
function ratio(value: bigint, max: bigint): number {
  if (max <= 0n || value <= 0n) return 0;
  return Number((value * 1000n) / max) / 1000;
}

export function barChart(title: string, bars: readonly Bar[], label: (v: bigint) => string): string {
  const rowH = 22;
  const labelW = 200;
  const barW = 320;
  const h = 30 + Math.max(bars.length, 1) * rowH;
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  const rows = bars
    .map((b, i) => {
      const y = 26 + i * rowH;
      const w = Math.max(1, Math.round(ratio(b.value, max) * barW));
      return (
        `<text x="0" y="${y + 14}" font-size="12">${esc(b.label)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${w}" height="${rowH - 6}" fill="#3b6ea8"><title>${esc(b.label)}: ${esc(label(b.value))}</title></rect>` +
        `<text x="${labelW + w + 4}" y="${y + 14}" font-size="11">${esc(label(b.value))}</text>`
      );
    })
    .join('');
  const empty = bars.length === 0 ? '<text x="0" y="40" font-size="12">nothing to show</text>' : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${labelW + barW + 110}" height="${h}" viewBox="0 0 ${labelW + barW + 110} ${h}"><text x="0" y="16" font-size="14" font-weight="bold">${esc(title)}</text>${rows}${empty}</svg>`;
}

export function trendChart(title: string, points: readonly { label: string; value: number }[]): string {
  const w = 640;
  const h = 200;
  const left = 40;
  const bottom = 170;
  const top = 30;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = points.length > 1 ? (w - left - 20) / (points.length - 1) : 0;
  const xy = points.map((p, i) => [left + i * step, bottom - ((bottom - top) * p.value) / max] as const);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const dots = xy
    .map(
      ([x, y], i) =>
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="#b00020"><title>${esc(points[i]?.label ?? '')}: ${points[i]?.value ?? 0}</title></circle>`,
    )
    .join('');
  const first = points[0]?.label ?? '';
  const last = points[points.length - 1]?.label ?? '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
    `<text x="0" y="16" font-size="14" font-weight="bold">${esc(title)}</text>` +
    `<line x1="${left}" y1="${bottom}" x2="${w - 10}" y2="${bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>` +
    `<text x="0" y="${top + 4}" font-size="11">${max}</text><text x="0" y="${bottom}" font-size="11">0</text>` +
    (points.length > 1 ? `<polyline fill="none" stroke="#b00020" stroke-width="2" points="${line}"/>` : '') +
    dots +
    `<text x="${left}" y="${bottom + 18}" font-size="11">${esc(first)}</text><text x="${w - 90}" y="${bottom + 18}" font-size="11">${esc(last)}</text></svg>`
  );
}
