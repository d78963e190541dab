import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestHub, type TestHub } from '../integration/hub-fixture';
import { expectedFigures, reconcileSeededDay, seedDay, type SeededDay } from '../reports/seed-day';

// The /ops page in a real headless Chromium (Debian's chromium, installed by scripts/test-servers/start.sh;
// playwright-core drives it and downloads nothing): log in with the ops client's credentials, see the
// seeded day's figures, no console error (a CSP violation would be one), and a screenshot in test-output/.

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(__dirname, '../../test-output/ops-page.png');

let t: TestHub;
let day: SeededDay;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run scripts/test-servers/start.sh as root (it installs Debian's chromium)`,
    );
  }
  t = await startTestHub();
  day = await seedDay(t);
  // --no-sandbox: the test runs as root in a container, where Chromium's sandbox cannot start.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) consoleErrors.push(`${res.status()} ${new URL(res.url()).pathname}`);
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

const amountOf = (line: { amount: string }) => line.amount;

describe('the /ops page in Chromium', () => {
  it('asks for a log-in first, and shows no figure before it', async () => {
    await page.goto(`${t.url}/ops`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#main')).toBe(true);
    expect(await page.locator('#panels').innerHTML()).toBe('');
  });

  it('logs in with the ops client’s credentials and shows the seeded day’s figures', async () => {
    await page.fill('#client-secret', t.hub.issuer.opsClient().secret);
    await page.click('#login-button');
    await page.waitForSelector('#business-date');
    expect(await page.textContent('#business-date')).toBe(day.businessDate);

    for (const currency of ['PEN', 'USD'] as const) {
      const want = expectedFigures(day.payments, { currency });
      const row = `#totals tr[data-channel="ALL"][data-core="ALL"][data-currency="${currency}"]`;
      expect(await page.textContent(`${row} td[data-measure="accepted"] .amount`)).toBe(amountOf(want.accepted));
      expect(await page.textContent(`${row} td[data-measure="posted"] .amount`)).toBe(amountOf(want.posted));
      expect(await page.textContent(`${row} td[data-measure="net"] .amount`)).toBe(amountOf(want.net));
      for (const core of ['cash', 'mortgage', 'vehicle'] as const) {
        const c = expectedFigures(day.payments, { currency, core });
        const cell = `#panel-flow td[data-core="${core}"][data-currency="${currency}"]`;
        expect(await page.textContent(`${cell}[data-measure="accepted"]`)).toBe(
          `${c.accepted.count} · ${c.accepted.amount}`,
        );
        expect(await page.textContent(`${cell}[data-measure="applied"]`)).toBe(
          `${c.applied.count} · ${c.applied.amount}`,
        );
        expect(await page.textContent(`${cell}[data-measure="posted"]`)).toBe(`${c.posted.count} · ${c.posted.amount}`);
      }
    }
    expect(await page.textContent('#panel-recon .recon-status')).toContain('reconciliation: not run');
    expect(await page.locator('#panel-breakers td.breaker-closed').count()).toBe(3);
    expect(await page.locator('#panels svg.chart').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#panel-flow svg rect').count()).toBeGreaterThan(9);
  });

  it('shows the reconciliation of the day once it has run: its status and open breaks', async () => {
    const run = await reconcileSeededDay(t, day);
    expect(run.status).toBe('UNBALANCED');
    await page.reload();
    await page.waitForSelector('#panel-recon .recon-status[data-status="UNBALANCED"]');
    expect(await page.getAttribute('#panel-recon .recon-status', 'data-open-breaks')).toBe(String(run.openBreaks));
    expect(await page.textContent('#panel-recon .recon-status')).toContain(
      `UNBALANCED: ${run.openBreaks} open break(s)`,
    );
  });

  it('keeps the token in sessionStorage only (no cookie), and writes a screenshot', async () => {
    const stored = await page.evaluate(() => sessionStorage.getItem('loanhub.ops.token'));
    expect(stored).toMatch(/^eyJ/);
    expect(await page.context().cookies()).toEqual([]);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = fs.readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('logs out back to the form', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('loanhub.ops.token'))).toBeNull();
  });

  it('had no console error and no page error along the way (CSP violations included)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
