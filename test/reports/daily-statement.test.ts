import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { main } from '../../cli/main';
import { CHANNELS, CORES } from '../../domain/channel';
import { CURRENCIES } from '../../domain/money';
import { buildDailyStatement, type DailyStatement } from '../../reports/daily-statement';
import { CSV_COLUMNS, renderStatementCsv } from '../../reports/daily-statement-csv';
import { renderStatementHtml } from '../../reports/daily-statement-html';
import { statementToJson } from '../../reports/daily-statement-json';
import { startTestHub, type TestHub } from '../integration/hub-fixture';
import { testStoreEnv } from '../store/contract/test-databases';
import { expectedFigures, seedDay, type SeededDay } from './seed-day';

// The daily consolidated statement of a day played through the API: every figure, per channel × core ×
// currency, per core and per day, right to the cent against the payments made; then the CSV (parsed back
// with csv-parse), the JSON and the HTML (tables and SVG), and `loanhub report daily` writing each.

let t: TestHub;
let day: SeededDay;
let statement: DailyStatement;
const MEASURES = ['accepted', 'applied', 'rejected', 'reversed', 'posted', 'postRejected', 'pending'] as const;

beforeAll(async () => {
  t = await startTestHub();
  day = await seedDay(t);
  const reports = t.hub.store?.reports;
  if (!reports) throw new Error('no report store');
  statement = await buildDailyStatement(reports, day.businessDate);
}, 120_000);
afterAll(async () => {
  await t.stop();
});

type JsonLine = Record<string, { count: number; amount: string }> & { channel: string; core: string; currency: string };
const figuresOf = (line: JsonLine) => Object.fromEntries([...MEASURES, 'net'].map((m) => [m, line[m]]));

describe('the daily statement of a seeded day', () => {
  it('the day was varied: every state the statement counts happened', () => {
    const states = new Set(day.payments.map((p) => p.status));
    expect([...states].sort()).toEqual(['APPLIED', 'POSTED', 'POST_REJECTED', 'REJECTED', 'REVERSED']);
    expect(new Set(day.payments.map((p) => p.currency))).toEqual(new Set(CURRENCIES));
  });

  it('day totals per currency are right to the cent', () => {
    const json = statementToJson(statement) as { totals: JsonLine[] };
    for (const currency of CURRENCIES) {
      const line = json.totals.find((l) => l.currency === currency);
      if (!line) throw new Error(`no ${currency} total`);
      expect(figuresOf(line)).toEqual(expectedFigures(day.payments, { currency }));
    }
  });

  it('every channel × core × currency line and every core line is right to the cent', () => {
    const json = statementToJson(statement) as { lines: JsonLine[]; byCore: JsonLine[] };
    let checked = 0;
    for (const currency of CURRENCIES) {
      for (const core of CORES) {
        const byCore = json.byCore.find((l) => l.core === core && l.currency === currency);
        const want = expectedFigures(day.payments, { currency, core });
        if (want.accepted.count === 0) {
          expect(byCore).toBeUndefined();
          continue;
        }
        expect(byCore && figuresOf(byCore)).toEqual(want);
        for (const channel of CHANNELS) {
          const line = json.lines.find((l) => l.channel === channel && l.core === core && l.currency === currency);
          expect(line && figuresOf(line)).toEqual(expectedFigures(day.payments, { currency, core, channel }));
          checked += 1;
        }
      }
    }
    expect(json.lines).toHaveLength(checked);
  });

  it('the CSV opens in Excel (BOM, CRLF) and parses back with csv-parse to the same figures', () => {
    const csv = renderStatementCsv(statement, ';');
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv.split('\r\n').length).toBe(statement.lines.length + statement.byCore.length + 2 + 2);
    const rows = parse(csv, { bom: true, columns: true, delimiter: ';' }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);
    for (const currency of CURRENCIES) {
      const total = rows.find((r) => r.channel === 'ALL' && r.core === 'ALL' && r.currency === currency);
      const want = expectedFigures(day.payments, { currency });
      expect(total).toMatchObject({
        business_date: day.businessDate,
        accepted_count: String(want.accepted.count),
        accepted_amount: want.accepted.amount,
        applied_amount: want.applied.amount,
        rejected_amount: want.rejected.amount,
        reversed_amount: want.reversed.amount,
        posted_amount: want.posted.amount,
        post_rejected_amount: want.postRejected.amount,
        net_count: String(want.net.count),
        net_amount: want.net.amount,
      });
    }
  });

  it('the HTML is one self-contained file: the tables with the figures, SVG charts, nothing fetched', () => {
    const html = renderStatementHtml(statement);
    expect(html).not.toMatch(/<script|<link|src=|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<svg /g)?.length).toBe(2);
    expect(html.match(/<rect /g)?.length).toBeGreaterThan(10);
    for (const id of ['totals', 'by-core', 'lines']) expect(html).toContain(`<section id="${id}">`);
    const pen = expectedFigures(day.payments, { currency: 'PEN' });
    const row = /<tr data-channel="ALL" data-core="ALL" data-currency="PEN">(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(row).toContain(
      `data-measure="accepted"><span class="amount">${pen.accepted.amount}</span> <span class="count">(${pen.accepted.count})`,
    );
    expect(row).toContain(`data-measure="net"><span class="amount">${pen.net.amount}</span>`);
  });
});

describe('loanhub report daily', () => {
  let out: string;
  const saved = { ...process.env };
  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-report-'));
    process.env.LOANHUB_DATA_DIR = t.dataDir;
    // the hub's own database: its SQLite file, or its PostgreSQL schema under LOANHUB_TEST_STORE=postgres
    Object.assign(process.env, testStoreEnv(t.dataDir).env);
  });
  afterAll(() => {
    process.env = saved;
    fs.rmSync(out, { recursive: true, force: true });
  });

  it.each(['csv', 'json', 'html'] as const)('--format %s --out FILE writes the statement of --date', async (format) => {
    const file = path.join(out, `daily.${format}`);
    const code = await main([
      'node',
      'loanhub',
      'report',
      'daily',
      '--date',
      day.businessDate,
      '--format',
      format,
      '--out',
      file,
    ]);
    expect(code).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    const want = expectedFigures(day.payments, { currency: 'USD' });
    if (format === 'json') {
      const json = JSON.parse(text) as { businessDate: string; totals: JsonLine[] };
      expect(json.businessDate).toBe(day.businessDate);
      expect(figuresOf(json.totals.find((l) => l.currency === 'USD') as JsonLine)).toEqual(want);
    } else if (format === 'csv') {
      const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
      expect(rows.find((r) => r.core === 'ALL' && r.currency === 'USD')?.net_amount).toBe(want.net.amount);
    } else {
      expect(text).toContain(`<h1>Daily consolidated statement — business date ${day.businessDate}</h1>`);
    }
  });

  it('a date that is not a date is a usage error (exit 2)', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'loanhub', 'report', 'daily', '--date', '2026-02-30'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
