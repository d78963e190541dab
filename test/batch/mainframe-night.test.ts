import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startMainframeService, type MainframeService } from '../../bank/mainframe/mainframe-service';
import { fetchResponses } from '../../batch/apply-responses';
import type { BatchDeps } from '../../batch/batch-deps';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import { readRequestFile } from '../../batch/request-file-reader';
import { resendFile, runBatch } from '../../batch/run-batch';
import type { RequestDetail } from '../../batch/request-detail-record';
import { loadConfig } from '../../config/config';
import type { Channel } from '../../domain/channel';
import { createLogger } from '../../logging/logger';
import { createBatchDeps } from '../../runtime/batch-runtime';
import {
  api,
  clockFrom,
  eventually,
  NOON_IN_LIMA,
  sampleReference,
  startTestHub,
  type TestHub,
} from '../integration/hub-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// A whole night against the real OpenSSH server: payments from every channel to the three cores, one
// reversed, one to a loan the mainframe rejects; files built, sent, decoded back, responses applied,
// webhooks sent; a second run sends nothing; a late payment goes out as S02; a refused file changes
// nothing until `resend`.

const DATE = '2026-11-23';
const REJECTED_LOAN = '100000000003';
const LOANS: Record<string, string> = { cash: '100000000001', mortgage: '200000000001', vehicle: '300000000001' };

let sftp: TestSftp;
let hub: TestHub;
let mainframe: MainframeService;
let deps: BatchDeps;
let receiver: http.Server;
const clock = clockFrom(NOON_IN_LIMA);
const webhookTypes: string[] = [];
const page = mainframeCodePage('cp037');

async function pay(channel: Channel, loanNumber: string, amount: string, currency = 'PEN'): Promise<string> {
  const token = await hub.token(channel);
  const res = await api(`${hub.url}/v1/${channel}/payments`, {
    token,
    headers: { 'idempotency-key': `k-${Math.random().toString(36).slice(2)}` },
    body: { loanNumber, amount, currency, channelReference: sampleReference(channel) },
  });
  expect(res.status).toBe(201);
  return String(res.json.paymentId);
}

async function statusOf(channel: Channel, id: string): Promise<string> {
  const res = await api(`${hub.url}/v1/${channel}/payments/${id}`, { token: await hub.token(channel) });
  return String(res.json.status);
}

async function applied(channel: Channel, id: string): Promise<void> {
  await eventually(
    async () => ((await statusOf(channel, id)) === 'APPLIED' ? true : undefined),
    15_000,
    `${id} APPLIED`,
  );
}

beforeAll(async () => {
  sftp = testSftp('night');
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      webhookTypes.push(String((JSON.parse(body) as { type: string }).type));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  hub = await startTestHub(
    {
      ...sftp.env,
      LOANHUB_CHANNEL_APP_CALLBACK_URL: hook,
      LOANHUB_CHANNEL_AGENTS_CALLBACK_URL: hook,
    },
    clock,
  );
  mainframe = await startMainframeService({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-mf-')),
    dir: sftp.dir,
    page,
    rejectLoans: [REJECTED_LOAN],
    pollMs: 100,
  });
  const store = hub.hub.store;
  if (!store) throw new Error('the test hub has no store');
  deps = createBatchDeps({
    env: { ...process.env, ...sftp.env },
    config: loadConfig({ ...sftp.env, LOANHUB_DATA_DIR: hub.dataDir }),
    store,
    logger: createLogger({ level: 'silent' }),
    // The hub's own clock: outbox rows written by the batch are due by the time the relay reads them.
    now: clock,
    onEventWritten: () => undefined,
    // The cores' extracts come from the test hub's own simulators (as runtime/hub.ts wires them).
    reconcile: { coreUrl: (core) => hub.hub.simulators.find((s) => s.core === core)?.url },
  }).deps;
}, 60_000);

afterAll(async () => {
  await mainframe?.close();
  await hub?.stop();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

test('with LOANHUB_MAINFRAME_SFTP_URL set the hub uses that server and starts no mainframe simulator of its own', () => {
  expect(hub.hub.simulators.map((s) => s.core).sort()).toEqual(['cash', 'mortgage', 'vehicle']);
  expect(hub.hub.mainframe).toBeNull();
  expect(fs.existsSync(path.join(hub.dataDir, 'mainframe'))).toBe(false);
});

test('a night for the three cores: files sent and verified, decoded back, responses applied, webhooks sent', async () => {
  const channels: Channel[] = ['app', 'web', 'agents', 'atm', 'stores'];
  const paid: { channel: Channel; id: string; core: string; amount: string }[] = [];
  for (const channel of channels) {
    for (const [core, loan] of Object.entries(LOANS)) {
      const amount = `${10 + paid.length}.25`;
      paid.push({ channel, id: await pay(channel, loan ?? '', amount), core, amount });
    }
  }
  const usd = await pay('app', '200000000002', '7.10', 'USD');
  const rejected = await pay('app', REJECTED_LOAN, '3.33');
  const reversed = await pay('app', LOANS.cash ?? '', '1.01');
  for (const p of paid) await applied(p.channel, p.id);
  for (const id of [usd, rejected, reversed]) await applied('app', id);
  const rev = await api(`${hub.url}/v1/app/payments/${reversed}/reversal`, {
    token: await hub.token('app'),
    headers: { 'idempotency-key': 'rev-1' },
    body: {},
  });
  expect(rev.status).toBe(202);
  await eventually(
    async () => ((await statusOf('app', reversed)) === 'REVERSED' ? true : undefined),
    15_000,
    'reversed',
  );

  const runs = await runBatch(deps, { businessDate: DATE });
  expect(runs.map((r) => r.sent.map((s) => `${s.file.name}:${s.kind}`))).toEqual([
    ['LHUB.PAY.CSH.D261123.S01:sent'],
    ['LHUB.PAY.MTG.D261123.S01:sent'],
    ['LHUB.PAY.VEH.D261123.S01:sent'],
  ]);
  // On the server: final names with their triggers, no temporary file left.
  const inbound = fs.readdirSync(path.join(sftp.dir, 'inbound')).sort();
  expect(inbound).toEqual([
    'LHUB.PAY.CSH.D261123.S01',
    'LHUB.PAY.CSH.D261123.S01.OK',
    'LHUB.PAY.MTG.D261123.S01',
    'LHUB.PAY.MTG.D261123.S01.OK',
    'LHUB.PAY.VEH.D261123.S01',
    'LHUB.PAY.VEH.D261123.S01.OK',
  ]);
  // Decoded back by the copybook engine: every payment once, the reversed one left out, totals right.
  const details: RequestDetail[] = [];
  let penTotal = 0n;
  for (const name of inbound.filter((n) => !n.endsWith('.OK'))) {
    const report = await readRequestFile({
      path: path.join(sftp.dir, 'inbound', name),
      name,
      page,
      onDetail: (d) => details.push(d),
    });
    expect(report.problems.map((p) => p.describe())).toEqual([]);
    expect(report.trailer?.recordCount).toBe(report.computed.recordCount);
    penTotal += report.trailer?.totalPen ?? 0n;
    const bytes = fs.readFileSync(path.join(sftp.dir, 'inbound', name));
    expect(bytes.length % 200).toBe(0);
  }
  const ids = details.map((d) => d.paymentId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual(expect.arrayContaining([...paid.map((p) => p.id), usd, rejected]));
  expect(ids).not.toContain(reversed);
  expect(ids).toHaveLength(paid.length + 2);
  const expectedPen = paid.reduce((s, p) => s + BigInt(p.amount.replace('.', '')), 0n) + 333n;
  expect(penTotal).toBe(expectedPen);
  const usdDetail = details.find((d) => d.paymentId === usd);
  expect(usdDetail).toMatchObject({ currency: 'USD', amount: 710n, channel: 'app', loanNumber: '200000000002' });
  expect(details.find((d) => d.paymentId === paid[0]?.id)?.coreReference).not.toBe('');

  // A payment in a file can no longer be reversed.
  const late = await api(`${hub.url}/v1/app/payments/${paid[0]?.id}/reversal`, {
    token: await hub.token('app'),
    headers: { 'idempotency-key': 'rev-2' },
    body: {},
  });
  expect(late.status).toBe(409);
  expect(late.json.code).toBe('payment_in_batch');

  // The mainframe answers; the hub applies the responses.
  await mainframe.simulator.processOnce();
  const summary = await fetchResponses(deps);
  expect(summary.applied.map((a) => [a.name, a.posted, a.rejected])).toEqual([
    ['LHUB.PAY.CSH.D261123.S01', 5, 1],
    ['LHUB.PAY.MTG.D261123.S01', 6, 0],
    ['LHUB.PAY.VEH.D261123.S01', 5, 0],
  ]);
  for (const p of paid) expect(await statusOf(p.channel, p.id)).toBe('POSTED');
  expect(await statusOf('app', usd)).toBe('POSTED');
  const rejectedView = await api(`${hub.url}/v1/app/payments/${rejected}`, { token: await hub.token('app') });
  expect(rejectedView.json).toMatchObject({ status: 'POST_REJECTED', reason: 'ACCT' });
  expect(await statusOf('app', reversed)).toBe('REVERSED');
  const files = await deps.store.batch.listFiles({ businessDate: DATE });
  expect(files.map((f) => f.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
  // Channels with a callback URL hear about it: app (3 + the USD one) and agents (3) got
  // payment.posted, app got payment.post_rejected; nobody heard twice.
  const count = (type: string): number => webhookTypes.filter((t) => t === type).length;
  await eventually(
    async () => (count('payment.posted') >= 7 && count('payment.post_rejected') >= 1 ? true : undefined),
    15_000,
    `posted webhooks (got ${webhookTypes.join(' ')})`,
  );
  await new Promise((r) => setTimeout(r, 300));
  expect([count('payment.posted'), count('payment.post_rejected')]).toEqual([7, 1]);
  // The mainframe posted each payment once.
  expect(mainframe.simulator.ledger.postings.size).toBe(paid.length + 1);

  // Every file of the date answered: the hub's composition hands the date to reconciliation, which
  // fetches the three cores' extracts from the test hub's simulators and records a run with the breaks
  // it sees (here: the rejected payment, and no settlement files).
  await deps.afterResponses?.(DATE);
  const run = await hub.hub.store?.recon?.latestRun(DATE);
  expect(run).toMatchObject({ businessDate: DATE, sources: { cores: ['cash', 'mortgage', 'vehicle'] } });
  expect((await hub.hub.store?.recon?.breakCounts(DATE))?.some((b) => b.type === 'MAINFRAME_REJECTED')).toBe(true);

  // A second run sends nothing.
  const again = await runBatch(deps, { businessDate: DATE });
  expect(again.every((r) => r.nothingToDo)).toBe(true);
  expect(fs.readdirSync(path.join(sftp.dir, 'inbound'))).toHaveLength(6);

  // A late payment of the same date goes out as sequence 02.
  const latePayment = await pay('web', LOANS.vehicle ?? '', '2.02');
  await applied('web', latePayment);
  const lateRun = await runBatch(deps, { businessDate: DATE, cores: ['vehicle'] });
  expect(lateRun[0]?.sent.map((s) => [s.file.name, s.file.recordCount])).toEqual([['LHUB.PAY.VEH.D261123.S02', 1]]);
  await mainframe.simulator.processOnce();
  await fetchResponses(deps);
  expect(await statusOf('web', latePayment)).toBe('POSTED');
}, 120_000);

test('a refused file changes no payment; resend sends its payments under the next sequence', async () => {
  const id = await pay('agents', LOANS.mortgage ?? '', '4.44');
  await applied('agents', id);
  mainframe.simulator.refuseNextFile('TEST');
  const run = await runBatch(deps, { businessDate: DATE, cores: ['mortgage'] });
  expect(run[0]?.sent.map((s) => s.file.name)).toEqual(['LHUB.PAY.MTG.D261123.S02']);
  await mainframe.simulator.processOnce();
  const summary = await fetchResponses(deps);
  expect(summary.refused).toEqual([{ name: 'LHUB.PAY.MTG.D261123.S02', reason: 'TEST' }]);
  expect(await statusOf('agents', id)).toBe('APPLIED');
  expect((await deps.store.batch.getFileByName('LHUB.PAY.MTG.D261123.S02'))?.state).toBe('REFUSED');
  // The next run does not pick the refused file's payments up by itself: an operator decides.
  expect((await runBatch(deps, { businessDate: DATE, cores: ['mortgage'] }))[0]?.nothingToDo).toBe(true);
  const resent = await resendFile(deps, 'mortgage', DATE);
  expect(resent.kind).toBe('sent');
  expect(resent.file.name).toBe('LHUB.PAY.MTG.D261123.S03');
  await mainframe.simulator.processOnce();
  await fetchResponses(deps);
  expect(await statusOf('agents', id)).toBe('POSTED');
  const s02 = await deps.store.batch.getFileByName('LHUB.PAY.MTG.D261123.S02');
  expect(s02?.supersededBy).toBe((await deps.store.batch.getFileByName('LHUB.PAY.MTG.D261123.S03'))?.id);
}, 60_000);
