import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { CoreExtract, CoreExtractRow, CoreExtractSource } from '../../adapters/core-extract-port';
import { writeSettlementFile, type CollectedPayment } from '../../bank/channels/settlement-simulator';
import { settlementMapping } from '../../channels/settlement/settlement-mapping';
import { CHANNELS, CORES, type Channel, type Core } from '../../domain/channel';
import { formatAmount, type Currency } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import { createLogger } from '../../logging/logger';
import { importSettlementFile } from '../../recon/import-settlement';
import { writeReconReport } from '../../recon/recon-report';
import { runReconciliation, type ReconDeps } from '../../recon/run-reconciliation';
import type { BreakType, ReconBreak } from '../../store/recon-store-port';
import { breakId } from '../../store/sqlite/recon-sqlite-store';
import { DATABASES } from '../store/contract/test-databases';
import { accept, move, openFixtureOn, type ReconFixture } from './recon-fixture';

// A seeded business day: 300 payments across every channel, core and currency, the night's mainframe
// files and results, each core's extract and the settlement files of agents (Latin-1, no BOM),
// atm (with broken lines) and stores. Every break type is planted once across the four sources; the
// run finds each with the right type and evidence and nothing else, totals to the cent; a corrected
// file closes what it fixed and keeps a resolution; the reports parse back.

const D = '2026-11-23';
const NEXT = '2026-11-24';
const LOAN: Record<Core, string> = { cash: '100000000001', mortgage: '200000000001', vehicle: '300000000001' };
const at = (): Date => new Date('2026-11-24T07:00:00Z');

describe.each(DATABASES)('a seeded day on $name', (database) => {
  let fx: ReconFixture;
  const payments: Payment[] = [];
  const otherDay: Payment[] = [];
  const status = new Map<string, string>();
  const planted: Partial<Record<BreakType, string>> = {};
  let extractRows: Record<Core, CoreExtractRow[]>;
  const channelLines = new Map<string, bigint>(); // "channel|core|currency" -> amount, what files claim for D
  const channelCounts = new Map<string, number>();

  function sources(): Partial<Record<Core, CoreExtractSource>> {
    const out: Partial<Record<Core, CoreExtractSource>> = {};
    for (const core of CORES) {
      out[core] = {
        fetchDailyExtract: async (date: string): Promise<CoreExtract> => {
          const rows = date === D ? extractRows[core] : [];
          const raw = Buffer.from(rows.map((r) => `${r.paymentId},${r.kind},${r.amount}`).join('\n'));
          return {
            core,
            businessDate: date,
            fileName: `${core}-${date}.csv`,
            sha256: crypto.createHash('sha256').update(raw).digest('hex'),
            raw,
            rows,
          };
        },
      };
    }
    return out;
  }

  function deps(): ReconDeps {
    return { recon: fx.recon, extracts: sources(), now: at, logger: createLogger({ level: 'silent' }) };
  }

  async function allBreaks(date = D): Promise<ReconBreak[]> {
    const out: ReconBreak[] = [];
    for await (const page of fx.recon.breaks({ businessDate: date }, 7)) out.push(...page);
    return out;
  }

  async function* listOf(items: readonly CollectedPayment[]): AsyncIterable<readonly CollectedPayment[]> {
    yield items;
  }

  async function collected(channel: Channel): Promise<CollectedPayment[]> {
    const out: CollectedPayment[] = [];
    for await (const page of fx.recon.collectedPayments(channel, D, 50)) out.push(...page);
    return out;
  }

  function claim(channel: Channel, loan: string, currency: Currency, amount: bigint): void {
    const core = CORES.find((c) => LOAN[c].slice(0, 2) === loan.slice(0, 2)) ?? 'unknown';
    const key = `${channel}|${core}|${currency}`;
    channelLines.set(key, (channelLines.get(key) ?? 0n) + amount);
    channelCounts.set(key, (channelCounts.get(key) ?? 0) + 1);
  }

  async function importFile(channel: Channel, file: string): Promise<void> {
    const out = await importSettlementFile({
      store: fx.recon,
      channel,
      mapping: settlementMapping(channel),
      file,
      now: at,
    });
    if (out.kind !== 'imported') throw new Error(`${channel}: ${out.kind}`);
  }

  beforeAll(async () => {
    fx = await openFixtureOn(database, 'recon-day');
    for (let i = 0; i < 300; i++) {
      const channel = CHANNELS[i % 5] as Channel;
      const core = CORES[i % 3] as Core;
      const currency: Currency = i % 7 === 0 ? 'USD' : 'PEN';
      const p = await accept(fx.store, {
        channel,
        loanNumber: LOAN[core],
        amount: 1000n + BigInt(i) * 37n,
        currency,
        businessDate: D,
      });
      payments.push(p);
    }
    const byIndex = (i: number): Payment => payments[i] as Payment;
    // Hub side: one never applied, one rejected by its core, two reversed.
    planted.ACCEPTED_NOT_APPLIED = byIndex(2).id; // agents, vehicle
    const coreRejected = byIndex(8).id;
    const reversedOk = byIndex(10).id;
    planted.REVERSED_STILL_PRESENT = byIndex(15).id; // app: the core never recorded the reversal
    for (const p of payments) {
      if (p.id === planted.ACCEPTED_NOT_APPLIED) continue;
      if (p.id === coreRejected) {
        await move(fx.store, p.id, { type: 'core_rejected', reason: 'LOAN_CLOSED' });
        continue;
      }
      await move(fx.store, p.id, { type: 'core_applied' }, `CR-${p.id.slice(-6)}`);
    }
    for (const id of [reversedOk, planted.REVERSED_STILL_PRESENT]) {
      await move(fx.store, id, { type: 'reversal_requested' });
      await move(fx.store, id, { type: 'reversal_applied' });
    }
    // The night: a file per core; the mainframe posts all but one. One payment applied after the files.
    planted.APPLIED_NOT_POSTED = byIndex(299).id;
    planted.MAINFRAME_REJECTED = byIndex(20).id;
    const late = await fx.store.getPayment(planted.APPLIED_NOT_POSTED);
    if (late?.status !== 'APPLIED') throw new Error('late payment not applied');
    await fx.store.recordEvent({
      paymentId: late.id,
      event: { type: 'reversal_requested' },
      at: 'x',
      outbox: () => [],
    });
    for (const core of CORES) {
      const file = await fx.store.batch.createFile({
        core,
        businessDate: D,
        createdStamp: '20261123233000',
        at: '2026-11-24T04:30:00Z',
        nameFor: (s) => `LHUB.PAY.${core.slice(0, 3).toUpperCase()}.D261123.S0${s}`,
      });
      if (!file) throw new Error(`no file for ${core}`);
      await fx.store.batch.recordWritten(file.id, 'ab'.repeat(32), 200 * (file.recordCount + 2));
      await fx.store.batch.recordSent(file.id, '2026-11-24T04:31:00Z');
      await fx.store.batch.recordAccepted(file.id, `${file.name}.R`, '2026-11-24T05:00:00Z');
      const results: { paymentId: string; result: 'P' | 'R'; reason: string; postingReference: string }[] = [];
      for await (const page of fx.store.batch.filePayments(file.id, 100)) {
        for (const r of page) {
          const rejected = r.paymentId === planted.MAINFRAME_REJECTED;
          results.push({
            paymentId: r.paymentId,
            result: rejected ? 'R' : 'P',
            reason: rejected ? 'ACCT' : '',
            postingReference: `MF${r.paymentId.slice(-8)}`,
          });
        }
      }
      await fx.store.batch.recordResults(file.id, results);
      for (const r of results) {
        await move(
          fx.store,
          r.paymentId,
          r.result === 'P' ? { type: 'mainframe_posted' } : { type: 'mainframe_rejected', reason: 'ACCT' },
        );
      }
      await fx.store.batch.recordComplete(file.id, '2026-11-24T05:01:00Z', { posted: results.length - 1, rejected: 1 });
    }
    // The late payment's reversal was refused by its core: it stays APPLIED, in no file.
    await move(fx.store, planted.APPLIED_NOT_POSTED, { type: 'reversal_rejected', reason: 'TOO_LATE' });
    for (const p of payments) status.set(p.id, (await fx.store.getPayment(p.id))?.status ?? '?');

    // The cores' extracts: what each applied and reversed, with three plants.
    extractRows = { cash: [], mortgage: [], vehicle: [] };
    const row = (p: Payment, kind: 'applied' | 'reversed', line: number): CoreExtractRow => ({
      core: p.core,
      kind,
      paymentId: p.id,
      coreReference: `CR-${p.id.slice(-6)}`,
      loanNumber: p.loanNumber,
      currency: p.currency,
      amount: p.amount,
      at: `${D}T16:00:00.000Z`,
      line,
    });
    planted.MISSING_AT_CORE = byIndex(30).id; // app, cash
    planted.APPLIED_TWICE_AT_CORE = byIndex(32).id; // web? vehicle
    for (const p of payments) {
      const s = status.get(p.id);
      if (s === 'ACCEPTED' || s === 'REJECTED' || p.id === planted.MISSING_AT_CORE) continue;
      const rows = extractRows[p.core];
      rows.push(row(p, 'applied', rows.length + 1));
      if (p.id === planted.APPLIED_TWICE_AT_CORE) rows.push(row(p, 'applied', rows.length + 1));
      if (p.id === reversedOk) rows.push(row(p, 'reversed', rows.length + 1));
    }
    const ghost = { ...byIndex(4), id: '0190b000-dead-7000-8000-000000000001' };
    planted.CORE_APPLIED_NOT_AT_HUB = ghost.id;
    extractRows.mortgage.push(row(ghost, 'applied', extractRows.mortgage.length + 1));

    // The channels' files. agents: Latin-1, one payment left out, one the hub never saw.
    const agents = await collected('agents');
    const omitted = agents.find((c) => c.channelReference === byIndex(7).channelReference);
    if (!omitted) throw new Error('no agents payment 7');
    planted.MISSING_IN_SETTLEMENT = byIndex(7).id;
    const agentsFile = path.join(fx.dir, 'agents-D.csv');
    const written = await writeSettlementFile({
      mapping: settlementMapping('agents'),
      businessDate: D,
      payments: listOf(agents),
      out: agentsFile,
      drills: { omit: [omitted.channelReference], extra: 1 },
    });
    planted.CHANNEL_UNKNOWN_TO_HUB = `agents|${written.extraReferences[0]}`;
    for (const c of agents) if (c !== omitted) claim('agents', c.loanNumber, c.currency, c.amount);
    claim('agents', agents[0]?.loanNumber ?? '', agents[0]?.currency ?? 'PEN', 1234n);
    await importFile('agents', agentsFile);
    // atm: UTF-8 with BOM, one amount changed, two broken lines.
    const atm = await collected('atm');
    const changed = atm.find((c) => c.channelReference === byIndex(3).channelReference);
    if (!changed) throw new Error('no atm payment 3');
    planted.AMOUNT_MISMATCH = byIndex(3).id;
    const atmFile = path.join(fx.dir, 'atm-D.csv');
    await writeSettlementFile({
      mapping: settlementMapping('atm'),
      businessDate: D,
      payments: listOf(atm),
      out: atmFile,
      drills: { changeAmount: new Map([[changed.channelReference, changed.amount + 100n]]), broken: 2 },
    });
    for (const c of atm) claim('atm', c.loanNumber, c.currency, c === changed ? c.amount + 100n : c.amount);
    await importFile('atm', atmFile);
    // stores: one line twice, and a payment the hub booked on the next business date (after cutoff).
    const nextDay = await accept(fx.store, {
      channel: 'stores',
      loanNumber: LOAN.cash,
      amount: 777n,
      businessDate: NEXT,
    });
    await move(fx.store, nextDay.id, { type: 'core_applied' });
    planted.OTHER_BUSINESS_DATE = nextDay.id;
    otherDay.push(nextDay);
    // The cash core applied it before midnight: it is in the core's extract of D (the core's calendar day).
    extractRows.cash.push(row(nextDay, 'applied', extractRows.cash.length + 1));
    const stores = await collected('stores');
    const dup = stores[1];
    if (!dup) throw new Error('no stores payment');
    planted.DUPLICATE_SETTLEMENT_LINE = payments.find((p) => p.channelReference === dup.channelReference)?.id ?? '';
    const storesFile = path.join(fx.dir, 'stores-D.txt');
    const storesLines: CollectedPayment[] = [
      ...stores,
      { channelReference: nextDay.channelReference, loanNumber: nextDay.loanNumber, currency: 'PEN', amount: 777n },
    ];
    await writeSettlementFile({
      mapping: settlementMapping('stores'),
      businessDate: D,
      payments: listOf(storesLines),
      out: storesFile,
      drills: { duplicate: [dup.channelReference] },
    });
    for (const c of storesLines) claim('stores', c.loanNumber, c.currency, c.amount);
    claim('stores', dup.loanNumber, dup.currency, dup.amount);
    await importFile('stores', storesFile);
  }, 120_000);

  afterAll(async () => {
    await fx?.close();
  });

  test('every planted break is found once, with its type and the evidence of each source, and nothing else', async () => {
    const result = await runReconciliation(deps(), D);
    expect(result.extractFailures).toEqual([]);
    expect(result.run).toMatchObject({ businessDate: D, status: 'UNBALANCED', newBreaks: 12, closedBreaks: 0 });
    expect(result.run.sources).toEqual({
      cores: ['cash', 'mortgage', 'vehicle'],
      channels: ['agents', 'atm', 'stores'],
    });
    const breaks = await allBreaks();
    const found = breaks
      .map((b) => [b.type, b.type === 'CHANNEL_UNKNOWN_TO_HUB' ? `${b.channel}|${b.channelReference}` : b.paymentId])
      .sort();
    expect(found).toEqual(Object.entries(planted).sort());
    expect(result.run.openBreaks).toBe(11); // OTHER_BUSINESS_DATE is informational
    const of = (t: BreakType): ReconBreak => breaks.find((b) => b.type === t) as ReconBreak;
    expect(of('CHANNEL_UNKNOWN_TO_HUB')).toMatchObject({
      severity: 'critical',
      core: 'vehicle',
      paymentId: null,
      evidence: { channel: [{ file: 'agents-D.csv', amount: '12.34' }] },
    });
    expect(Object.keys(of('CHANNEL_UNKNOWN_TO_HUB').evidence)).toEqual(['channel']);
    const mismatch = of('AMOUNT_MISMATCH');
    const p3 = payments[3] as Payment;
    expect(mismatch.evidence).toMatchObject({
      hub: { amount: formatAmount(p3.amount), status: 'POSTED' },
      core: [{ kind: 'applied', amount: formatAmount(p3.amount) }].map((r) => ({ ...r, kind: 'APPLIED' })),
      mainframe: { result: 'P' },
      channel: [{ amount: formatAmount(p3.amount + 100n), file: 'atm-D.csv' }],
    });
    expect(of('APPLIED_TWICE_AT_CORE').evidence.core).toHaveLength(2);
    expect(of('MISSING_AT_CORE').evidence).toMatchObject({ hub: { status: 'POSTED' }, mainframe: { result: 'P' } });
    expect(of('MISSING_AT_CORE').evidence.core).toBeUndefined();
    expect(of('REVERSED_STILL_PRESENT').evidence).toMatchObject({
      hub: { status: 'REVERSED' },
      core: [{ kind: 'APPLIED' }],
    });
    expect(of('MAINFRAME_REJECTED').evidence).toMatchObject({
      hub: { status: 'POST_REJECTED' },
      mainframe: { result: 'R', reason: 'ACCT', fileState: 'COMPLETE' },
    });
    expect(of('APPLIED_NOT_POSTED').evidence.mainframe).toBeUndefined();
    expect(of('APPLIED_NOT_POSTED').evidence.hub).toMatchObject({ status: 'APPLIED' });
    expect(of('ACCEPTED_NOT_APPLIED').evidence).toMatchObject({
      hub: { status: 'ACCEPTED' },
      channel: [{ file: 'agents-D.csv' }],
    });
    expect(of('CORE_APPLIED_NOT_AT_HUB')).toMatchObject({
      core: 'mortgage',
      evidence: { core: [{ kind: 'APPLIED' }] },
    });
    expect(of('CORE_APPLIED_NOT_AT_HUB').evidence.hub).toBeUndefined();
    expect(of('DUPLICATE_SETTLEMENT_LINE').evidence.channel).toHaveLength(2);
    expect(of('OTHER_BUSINESS_DATE')).toMatchObject({
      severity: 'info',
      evidence: { hub: { businessDate: NEXT }, channel: [{ businessDate: D }] },
    });
    expect(of('MISSING_IN_SETTLEMENT').evidence).toMatchObject({ hub: { channel: 'agents' } });
    expect(of('MISSING_IN_SETTLEMENT').evidence.channel).toBeUndefined();
    for (const b of breaks) expect(b.id).toMatch(/^BRK-20261123-[0-9A-F]{10}$/);
    // The same id on every database: SHA-256 of the date and the break's key.
    expect(of('CHANNEL_UNKNOWN_TO_HUB').id).toBe(
      breakId(D, `CHANNEL_UNKNOWN_TO_HUB|${planted.CHANNEL_UNKNOWN_TO_HUB}`),
    );
    expect(of('AMOUNT_MISMATCH').id).toBe(breakId(D, `AMOUNT_MISMATCH|${p3.id}`));
  });

  test('totals per source, channel, core and currency are right to the cent', async () => {
    const totals = await fx.recon.totals(D);
    const got = (source: string): Record<string, string> =>
      Object.fromEntries(
        totals
          .filter((t) => t.source === source)
          .map((t) => [`${t.channel}|${t.core}|${t.currency}`, `${t.count}:${formatAmount(t.amount)}`]),
      );
    const expectFrom = (list: { key: string; amount: bigint; n?: number }[]): Record<string, string> => {
      const m = new Map<string, [number, bigint]>();
      for (const x of list) {
        const cur = m.get(x.key) ?? [0, 0n];
        m.set(x.key, [cur[0] + (x.n ?? 1), cur[1] + x.amount]);
      }
      return Object.fromEntries([...m].map(([k, [n, a]]) => [k, `${n}:${formatAmount(a)}`]));
    };
    const key = (p: Payment): string => `${p.channel}|${p.core}|${p.currency}`;
    const standing = payments.filter((p) => !['REJECTED', 'REVERSED'].includes(status.get(p.id) ?? ''));
    expect(got('hub')).toEqual(expectFrom(standing.map((p) => ({ key: key(p), amount: p.amount }))));
    const posted = payments.filter((p) => status.get(p.id) === 'POSTED');
    expect(got('mainframe')).toEqual(expectFrom(posted.map((p) => ({ key: key(p), amount: p.amount }))));
    const coreRows = CORES.flatMap((c) => extractRows[c]).map((r) => {
      const p = [...payments, ...otherDay].find((x) => x.id === r.paymentId);
      const sign = r.kind === 'applied' ? 1n : -1n;
      return { key: `${p?.channel ?? 'unknown'}|${r.core}|${r.currency}`, amount: sign * r.amount, n: Number(sign) };
    });
    expect(got('core')).toEqual(expectFrom(coreRows));
    expect(got('channel')).toEqual(
      Object.fromEntries([...channelLines].map(([k, a]) => [k, `${channelCounts.get(k)}:${formatAmount(a)}`])),
    );
  });

  test('a rerun after a corrected file closes what it fixed, keeps ids and resolutions', async () => {
    const before = await allBreaks();
    const rejected = before.find((b) => b.type === 'MAINFRAME_REJECTED') as ReconBreak;
    const resolved = await fx.recon.resolveBreak(rejected.id, {
      note: 'loan account fixed, reposted 25/11',
      by: 'maria.finance',
      at: '2026-11-24T09:00:00Z',
    });
    expect(resolved).toMatchObject({ kind: 'resolved', break: { status: 'resolved' } });
    // The agents' network sends its file again, corrected: every payment, nothing extra.
    const fixed = path.join(fx.dir, 'agents-D-fixed.csv');
    await writeSettlementFile({
      mapping: settlementMapping('agents'),
      businessDate: D,
      payments: fx.recon.collectedPayments('agents', D, 50),
      out: fixed,
    });
    await importFile('agents', fixed);
    const again = await runReconciliation(deps(), D);
    expect(again.run).toMatchObject({ newBreaks: 0, closedBreaks: 2, openBreaks: 8 });
    const after = await allBreaks();
    expect(after.map((b) => b.id)).toEqual(before.map((b) => b.id));
    const byType = (t: BreakType): ReconBreak => after.find((b) => b.type === t) as ReconBreak;
    for (const t of ['CHANNEL_UNKNOWN_TO_HUB', 'MISSING_IN_SETTLEMENT'] as const) {
      expect(byType(t)).toMatchObject({
        status: 'closed',
        closedReason: `no longer found by run ${again.run.id}: the sources agree now`,
      });
    }
    expect(byType('MAINFRAME_REJECTED')).toMatchObject({
      status: 'resolved',
      resolution: { by: 'maria.finance', note: 'loan account fixed, reposted 25/11' },
    });
    expect(byType('AMOUNT_MISMATCH').status).toBe('open');
    // The next business date: its one payment is in the cash core's extract of D (no MISSING_AT_CORE
    // although the extract of the next date is empty), unposted, and the stores file has not come.
    const next = await runReconciliation(deps(), NEXT);
    expect((await allBreaks(NEXT)).map((b) => `${b.type} ${b.channel ?? b.core}`).sort()).toEqual([
      'APPLIED_NOT_POSTED stores',
      'SOURCE_MISSING stores',
    ]);
    expect((await allBreaks(NEXT)).find((b) => b.type === 'APPLIED_NOT_POSTED')?.evidence.core).toEqual([
      expect.objectContaining({ kind: 'APPLIED', extractDate: D }),
    ]);
    expect(next.run.status).toBe('UNBALANCED');
  });

  test('the reports parse back: CSV (BOM, ;, decimal strings), JSON, and HTML with tables and SVG charts', async () => {
    const csvFile = path.join(fx.dir, 'recon.csv');
    const jsonFile = path.join(fx.dir, 'recon.json');
    const htmlFile = path.join(fx.dir, 'recon.html');
    const common = { recon: fx.recon, businessDate: D, generatedAt: '2026-11-24T10:00:00Z' };
    await writeReconReport({ ...common, format: 'csv', out: csvFile });
    await writeReconReport({ ...common, format: 'json', out: jsonFile });
    await writeReconReport({ ...common, format: 'html', out: htmlFile });
    const csvBytes = fs.readFileSync(csvFile);
    expect(csvBytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = parse(csvBytes, { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
    const breaks = await allBreaks();
    expect(rows.filter((r) => r.section === 'break').map((r) => r.break_id)).toEqual(breaks.map((b) => b.id));
    const totals = await fx.recon.totals(D);
    expect(rows.filter((r) => r.section === 'totals')).toHaveLength(totals.length);
    for (const r of rows.filter((x) => x.section === 'totals')) expect(r.amount).toMatch(/^-?\d+\.\d{2}$/);
    const mm = rows.find((r) => r.type === 'AMOUNT_MISMATCH');
    expect(JSON.parse(mm?.evidence ?? '{}')).toMatchObject({ channel: [{ file: 'atm-D.csv' }] });
    const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as {
      date: string;
      status: string;
      totals: unknown[];
      breaks: { id: string; status: string }[];
    };
    expect(json).toMatchObject({ date: D, status: 'UNBALANCED' });
    expect(json.totals).toHaveLength(totals.length);
    expect(json.breaks.map((b) => [b.id, b.status])).toEqual(breaks.map((b) => [b.id, b.status]));
    const html = fs.readFileSync(htmlFile, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    const totalsRows = /<table id="totals">[\s\S]*?<\/table>/.exec(html)?.[0].match(/<tr>/g) ?? [];
    expect(totalsRows).toHaveLength(totals.length + 1);
    for (const b of breaks) expect(html).toContain(`<tr id="${b.id}">`);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('aria-label="Breaks by type"');
    expect(html).toContain('aria-label="Open breaks, last 30 days"');
  });
});
