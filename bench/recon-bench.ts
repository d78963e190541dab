import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHANNELS, CORES, type Channel, type Core } from '../domain/channel';
import { productPrefixOf } from '../domain/core-routing';
import { minorUnits } from '../domain/money';
import type { Payment } from '../domain/payment';
import { openSqliteStore } from '../store/sqlite/sqlite-store';

// Reconciliation at volume (issue 10): N payments and N rows from each other source (core extracts,
// mainframe results, settlement lines), then one `recon.run` of the date: time and peak RSS (memory
// must stay flat: the database matches). Beside it, in the same run, GNU sort + join of the same
// sources as CSV (hub vs core vs channel), the yardstick of a plain text-file match.
// BENCH_RECON_SIZES=100000,1000000 by default; run alone on the machine (npm run bench -- recon).

const DATE = '2026-11-23';
const sizes = (process.env.BENCH_RECON_SIZES ?? '100000,1000000').split(',').map((s) => Number(s.trim()));
const BATCH = 5000;

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function one(n: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-recon-bench-'));
  const store = openSqliteStore({ file: path.join(dir, 'hub.db'), synchronous: 'NORMAL' });
  const recon = store.recon;
  if (!recon) throw new Error('no recon store');
  const hubCsv = fs.createWriteStream(path.join(dir, 'hub.csv'));
  const coreCsv = fs.createWriteStream(path.join(dir, 'core.csv'));
  const channelCsv = fs.createWriteStream(path.join(dir, 'channel.csv'));
  const t0 = Date.now();
  const extracts = new Map<Core, number>();
  for (const core of CORES) {
    extracts.set(
      core,
      await recon.beginCoreExtract({ core, businessDate: DATE, at: 'now', format: 'bench', evidence: '' }),
    );
  }
  const files = new Map<Channel, number>();
  for (const ch of CHANNELS) {
    files.set(
      ch,
      await recon.beginSettlementFile({
        channel: ch,
        businessDate: DATE,
        fileName: `${ch}.csv`,
        sha256: ch,
        sizeBytes: 0,
        at: 'now',
      }),
    );
  }
  for (let start = 0; start < n; start += BATCH) {
    const coreRows = new Map<Core, Parameters<typeof recon.addCoreExtractLines>[1][number][]>();
    const lines = new Map<Channel, Parameters<typeof recon.addSettlementLines>[1][number][]>();
    const accepts: Promise<unknown>[] = [];
    let hubText = '';
    let coreText = '';
    let channelText = '';
    for (let i = start; i < Math.min(n, start + BATCH); i++) {
      const channel = CHANNELS[i % 5] as Channel;
      const core = CORES[i % 3] as Core;
      const id = `0190c000-0000-7000-8000-${String(i).padStart(12, '0')}`;
      const ref = `BENCH-${String(i).padStart(10, '0')}`;
      const amount = 1000n + BigInt(i % 100_000);
      const loan = `${productPrefixOf(core)}${String(i % 1e10).padStart(10, '0')}`;
      const p: Payment = {
        id,
        receiptNumber: `B-${i}`,
        channel,
        clientId: `${channel}-client`,
        channelReference: ref,
        loanNumber: loan,
        core,
        amount: minorUnits(amount),
        currency: 'PEN',
        businessDate: DATE,
        status: 'APPLIED',
        reason: null,
        coreReference: `C${i}`,
        createdAt: `${DATE}T15:00:00.000Z`,
        updatedAt: `${DATE}T15:00:00.000Z`,
      };
      accepts.push(
        store.acceptPayment({
          payment: p,
          idempotency: {
            clientId: p.clientId,
            key: id,
            fingerprint: 'f',
            paymentId: id,
            responseStatus: 201,
            responseBody: '{}',
            createdAt: p.createdAt,
            expiresAt: '2099-01-01',
          },
          outbox: [],
        }),
      );
      const cr = coreRows.get(core) ?? [];
      cr.push({
        paymentId: id,
        kind: 'APPLIED',
        loanNumber: loan,
        currency: 'PEN',
        amount,
        coreReference: `C${i}`,
        at: p.createdAt,
      });
      coreRows.set(core, cr);
      const ln = lines.get(channel) ?? [];
      ln.push({
        line: i + 2,
        businessDate: DATE,
        channelReference: ref,
        loanNumber: loan,
        currency: 'PEN',
        amount,
        raw: '',
      });
      lines.set(channel, ln);
      hubText += `${id},${channel},${ref},${amount}\n`;
      coreText += `${id},${amount}\n`;
      channelText += `${channel}|${ref},${amount}\n`;
    }
    await Promise.all(accepts);
    for (const [core, rows] of coreRows) await recon.addCoreExtractLines(extracts.get(core) ?? 0, rows);
    for (const [ch, rows] of lines) await recon.addSettlementLines(files.get(ch) ?? 0, rows);
    hubCsv.write(hubText);
    coreCsv.write(coreText);
    channelCsv.write(channelText);
  }
  for (const [, id] of extracts) await recon.finishCoreExtract(id, Math.ceil(n / 3));
  for (const [, id] of files)
    await recon.finishSettlementFile(id, { lines: 0, goodLines: 0, badLines: 0, problems: [] });
  // The mainframe: every APPLIED payment into a file per core, all posted.
  for (const core of CORES) {
    const file = await store.batch.createFile({
      core,
      businessDate: DATE,
      createdStamp: '20261123233000',
      at: 'now',
      nameFor: (s) => `B.${core}.S0${s}`,
    });
    if (!file) continue;
    let results: { paymentId: string; result: 'P'; reason: string; postingReference: string }[] = [];
    for await (const page of store.batch.filePayments(file.id, BATCH)) {
      results = page.map((r) => ({ paymentId: r.paymentId, result: 'P', reason: '', postingReference: 'X' }));
      await store.batch.recordResults(file.id, results);
      await Promise.all(
        page.map((r) =>
          store.recordEvent({
            paymentId: r.paymentId,
            event: { type: 'mainframe_posted' },
            at: 'now',
            outbox: () => [],
          }),
        ),
      );
    }
  }
  await Promise.all([hubCsv, coreCsv, channelCsv].map((s) => new Promise((r) => s.end(r))));
  const seeded = (Date.now() - t0) / 1000;

  const rssBefore = process.memoryUsage().rss;
  const r0 = process.hrtime.bigint();
  const run = await recon.run({
    businessDate: DATE,
    at: new Date().toISOString(),
    expectedChannels: ['agents', 'atm', 'stores'],
    expectedCores: CORES,
  });
  const reconSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
  const peak = process.resourceUsage().maxRSS * 1024;

  // GNU sort + join: hub vs core by payment id, hub vs channel by channel|reference.
  const j0 = process.hrtime.bigint();
  const sh = (script: string): void => {
    execFileSync('bash', ['-c', script], { cwd: dir, env: { ...process.env, LC_ALL: 'C' }, stdio: 'ignore' });
  };
  sh(
    'sort -t, -k1,1 -S 50% hub.csv > hub.byid && sort -t, -k1,1 -S 50% core.csv > core.byid && join -t, -a1 -a2 hub.byid core.byid > hub-core.join',
  );
  sh(
    'awk -F, \'{print $2"|"$3","$4}\' hub.csv | sort -t, -k1,1 -S 50% > hub.byref && sort -t, -k1,1 -S 50% channel.csv > channel.byref && join -t, -a1 -a2 hub.byref channel.byref > hub-channel.join',
  );
  const joinSeconds = Number(process.hrtime.bigint() - j0) / 1e9;

  process.stdout.write(
    `${n.toLocaleString('en-US')} payments (+ ${n.toLocaleString('en-US')} core rows, mainframe results, settlement lines): ` +
      `seeded in ${seeded.toFixed(1)} s; recon.run ${reconSeconds.toFixed(2)} s (${run.status}, ${run.openBreaks} open breaks), ` +
      `RSS before ${mb(rssBefore)}, peak ${mb(peak)}; GNU sort+join of the same CSVs ${joinSeconds.toFixed(2)} s\n`,
  );
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  for (const n of sizes) await one(n);
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
