import { escapeHtml } from './html-text';

// A grouped bar chart as an inline SVG string, for the report files and the ops page: no script, no
// external font or stylesheet, colours as presentation attributes (allowed under a CSP without
// 'unsafe-inline' styles). Heights are computed in bigint from the values, so money never becomes a float.

export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
}

export interface ChartGroup {
  readonly label: string;
  /** One value per series, in series order (minor units or counts). */
  readonly values: readonly bigint[];
  /** The text of each bar's tooltip, e.g. "applied: 1250.50 PEN (12)". */
  readonly titles: readonly string[];
}

export interface BarChart {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly groups: readonly ChartGroup[];
  readonly width?: number;
  readonly height?: number;
}

export const SERIES_COLOURS = ['#2f6fb0', '#3a9b5c', '#d08a1e', '#b8433a', '#7a55b0', '#5f6b76'] as const;

export function renderBarChart(chart: BarChart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 260;
  const top = 28;
  const bottom = 46;
  const left = 12;
  const plotHeight = height - top - bottom;
  const plotWidth = width - left * 2;
  const max = chart.groups.reduce((m, g) => g.values.reduce((mm, v) => (v > mm ? v : mm), m), 0n);
  const groupWidth = chart.groups.length > 0 ? Math.floor(plotWidth / chart.groups.length) : plotWidth;
  const barWidth = Math.max(2, Math.floor((groupWidth - 8) / Math.max(1, chart.series.length)));
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" aria-label="${escapeHtml(chart.title)}">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<text x="${left}" y="16" font-family="sans-serif" font-size="13" font-weight="bold" fill="#222">${escapeHtml(chart.title)}</text>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - left}" y2="${top + plotHeight}" stroke="#888" stroke-width="1"/>`,
  );
  if (chart.groups.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${top + plotHeight / 2}" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#666">no data</text>`,
    );
  }
  chart.groups.forEach((g, gi) => {
    const gx = left + gi * groupWidth + 4;
    g.values.forEach((v, si) => {
      const h = max > 0n ? Number((v * BigInt(plotHeight)) / max) : 0;
      const x = gx + si * barWidth;
      const y = top + plotHeight - h;
      const colour = chart.series[si]?.colour ?? '#999';
      parts.push(
        `<rect x="${x}" y="${y}" width="${Math.max(1, barWidth - 2)}" height="${h}" fill="${colour}">` +
          `<title>${escapeHtml(g.titles[si] ?? '')}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${gx + (groupWidth - 8) / 2}" y="${top + plotHeight + 14}" text-anchor="middle" font-family="sans-serif" ` +
        `font-size="11" fill="#333">${escapeHtml(g.label)}</text>`,
    );
  });
  let lx = left;
  for (const s of chart.series) {
    parts.push(
      `<rect x="${lx}" y="${height - 14}" width="10" height="10" fill="${s.colour}"/>`,
      `<text x="${lx + 14}" y="${height - 5}" font-family="sans-serif" font-size="11" fill="#333">${escapeHtml(s.label)}</text>`,
    );
    lx += 24 + s.label.length * 7;
  }
  parts.push('</svg>');
  return parts.join('');
}
