import fs from 'node:fs';
import type { Core } from '../domain/channel';
import type { Currency } from '../domain/money';
import type { PaymentEvent } from '../domain/payment-state';
import { paymentEventRow } from '../payments/payment-event';
import type { BatchFile } from '../store/batch-store-port';
import { BatchError } from './batch-errors';
import { receivedArchive, type BatchDeps } from './batch-deps';
import { responseNameFor } from './dataset-name';
import { listReadyResponses, outboundPath, withAgent, withRetries } from './mainframe-transfer';
import type { ResponseDetail } from './response-detail-record';
import { readResponseFile, RESPONSE_LRECL } from './response-file-reader';
import { describe } from './send-files';

// Fetching and applying the mainframe's responses. A response is downloaded (only once its `.OK`
// trigger is there), archived, read and validated in a first pass; only a valid one is acted on, in a
// second pass: each result moves its payment APPLIED -> POSTED or POST_REJECTED through the state
// machine, with the channel's event in the outbox. A refused file changes no payment. Reapplying is
// harmless (a repeated result is "unchanged"), so a crash half-way is finished by the next fetch.

export interface FetchSummary {
  readonly awaiting: number;
  readonly applied: { name: string; posted: number; rejected: number }[];
  readonly refused: { name: string; reason: string }[];
  readonly invalid: { name: string; problems: string[] }[];
  readonly stillWaiting: string[];
}

const CHUNK = 500;

export async function fetchResponses(
  deps: BatchDeps,
  filter: { businessDate?: string; core?: Core } = {},
): Promise<FetchSummary> {
  const awaiting = await deps.store.batch.listFiles({ ...filter, states: ['SENT', 'ACCEPTED'] });
  const summary: FetchSummary = { awaiting: awaiting.length, applied: [], refused: [], invalid: [], stillWaiting: [] };
  if (awaiting.length === 0) return summary;
  // Responses already downloaded (a crash after download) are applied from the archive.
  const local = awaiting.filter((f) => fs.existsSync(receivedArchive(deps.dataDir, responseNameFor(f.name))));
  const remote = awaiting.filter((f) => !local.includes(f));
  const ready: BatchFile[] = [...local];
  if (remote.length > 0) {
    const connector = deps.connector;
    if (!connector) throw new BatchError('SFTP_CONFIG', 'no SFTP server is configured: set LOANHUB_MAINFRAME_SFTP_URL');
    const downloaded = await withRetries(
      deps.retry,
      () =>
        withAgent(connector, async (agent) => {
          const names = new Set(await listReadyResponses(agent, connector.basePath));
          const got: BatchFile[] = [];
          for (const f of remote) {
            const rsp = responseNameFor(f.name);
            if (!names.has(rsp)) continue;
            await agent.download(outboundPath(connector.basePath, rsp), receivedArchive(deps.dataDir, rsp));
            got.push(f);
          }
          return got;
        }),
      (attempt, err, delayMs) =>
        deps.logger.warn({ attempt, delayMs, err: describe(err) }, 'response poll failed; retrying'),
    );
    ready.push(...downloaded);
  }
  for (const f of awaiting) if (!ready.includes(f)) summary.stillWaiting.push(f.name);
  for (const file of ready) {
    const outcome = await applyResponse(deps, file);
    if (outcome.kind === 'applied')
      summary.applied.push({ name: file.name, posted: outcome.posted, rejected: outcome.rejected });
    else if (outcome.kind === 'refused') summary.refused.push({ name: file.name, reason: outcome.reason });
    else summary.invalid.push({ name: responseNameFor(file.name), problems: outcome.problems });
  }
  return summary;
}

export type ApplyOutcome =
  | { readonly kind: 'applied'; readonly posted: number; readonly rejected: number }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly problems: string[] };

export async function applyResponse(deps: BatchDeps, file: BatchFile): Promise<ApplyOutcome> {
  const rspName = responseNameFor(file.name);
  const localPath = receivedArchive(deps.dataDir, rspName);
  const log = deps.logger.child({
    file: file.name,
    response: rspName,
    core: file.core,
    businessDate: file.businessDate,
  });
  const amounts = new Map<string, { currency: Currency; amount: bigint }>();
  for await (const rows of deps.store.batch.filePayments(file.id, 5_000)) {
    for (const r of rows) amounts.set(r.paymentId, { currency: r.currency, amount: r.amount });
  }
  const report = await readResponseFile({
    path: localPath,
    name: rspName,
    page: deps.page,
    amountOf: (id) => amounts.get(id),
  });
  const problems = report.problems.map((p) => p.describe());
  if (report.header && report.header.requestName !== file.name) {
    problems.push(
      `NAME_MISMATCH: the response answers ${report.header.requestName}, not ${file.name} (${rspName}, record 1, field FILE-NAME)`,
    );
  }
  if (report.header?.status === 'A') {
    const answered = report.computed.postedCount + report.computed.rejectedCount;
    if (answered !== file.recordCount) {
      problems.push(
        `MISSING_PAYMENT: the response answers ${answered} payments, the request holds ${file.recordCount} (${rspName})`,
      );
    }
  }
  if (problems.length > 0 || !report.header) {
    // Moved aside (the latest bad copy kept for the operator) so that the next fetch downloads the
    // response again: a corrected one written under the same name is then applied.
    fs.renameSync(localPath, `${localPath}.invalid`);
    log.error({ problems }, 'mainframe response does not verify; nothing applied');
    await alertOnce(deps, file, 'response does not verify');
    return { kind: 'invalid', problems };
  }
  const at = deps.now();
  if (report.header.status === 'R') {
    const reason = report.header.reason || 'REFUSED';
    await deps.store.batch.recordRefused(file.id, rspName, reason, at.toISOString());
    log.error({ reason }, 'mainframe refused the request file as a whole; no payment changed (loanhub batch resend)');
    return { kind: 'refused', reason };
  }
  await deps.store.batch.recordAccepted(file.id, rspName, at.toISOString());
  let posted = 0;
  let rejected = 0;
  let chunk: ResponseDetail[] = [];
  const flush = async (): Promise<void> => {
    const batch = chunk;
    chunk = [];
    await Promise.all(batch.map((d) => applyOne(deps, file, d)));
    await deps.store.batch.recordResults(file.id, batch);
    deps.progress?.(`apply ${rspName}`, posted + rejected, file.recordCount, RESPONSE_LRECL);
  };
  await readResponseFile({
    path: localPath,
    name: rspName,
    page: deps.page,
    onDetail: async (d) => {
      if (d.result === 'P') posted += 1;
      else rejected += 1;
      chunk.push(d);
      if (chunk.length >= CHUNK) await flush();
    },
  });
  if (chunk.length > 0) await flush();
  await deps.store.batch.recordComplete(file.id, deps.now().toISOString(), { posted, rejected });
  deps.onEventWritten?.();
  deps.metrics?.paymentsPosted.inc({ core: file.core }, posted);
  deps.metrics?.paymentsRejected.inc({ core: file.core }, rejected);
  deps.metrics?.lastSuccess.set({ core: file.core }, Math.floor(deps.now().getTime() / 1000));
  if (file.sentAt) {
    deps.metrics?.responseLag.observe({ core: file.core }, (deps.now().getTime() - Date.parse(file.sentAt)) / 1000);
  }
  log.info({ posted, rejected }, 'mainframe response applied');
  return { kind: 'applied', posted, rejected };
}

async function applyOne(deps: BatchDeps, file: BatchFile, d: ResponseDetail): Promise<void> {
  const event: PaymentEvent =
    d.result === 'P' ? { type: 'mainframe_posted' } : { type: 'mainframe_rejected', reason: d.reason || 'REJECTED' };
  const outcome = await deps.store.recordEvent({
    paymentId: d.paymentId,
    event,
    at: deps.now().toISOString(),
    outbox: (after) => [paymentEventRow(after)],
  });
  const log = deps.logger.child({ paymentId: d.paymentId, file: file.name });
  if (outcome.kind !== 'done') {
    log.error({ outcome: outcome.kind }, 'mainframe result for a payment the hub cannot update');
  } else if (outcome.result.kind === 'illegal') {
    log.error(
      { status: outcome.result.status, result: d.result },
      'mainframe result contradicts the payment state; not applied',
    );
  } else if (outcome.result.kind === 'changed') {
    log.info(
      { status: outcome.result.status, reason: outcome.result.reason ?? undefined, postingRef: d.postingReference },
      'payment status changed',
    );
  }
}

/** Deadline alert: a log line and the overdue gauge, once per file. */
export async function alertOnce(deps: BatchDeps, file: BatchFile, why: string): Promise<void> {
  if (file.alertedAt) return;
  await deps.store.batch.recordAlerted(file.id, deps.now().toISOString());
  deps.logger.error(
    { alert: 'mainframe_response', file: file.name, core: file.core, businessDate: file.businessDate, why },
    `ALERT: ${file.name}: ${why}`,
  );
}
