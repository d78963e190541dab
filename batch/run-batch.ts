import fs from 'node:fs';
import path from 'node:path';
import { CORES, type Core } from '../domain/channel';
import type { BatchFile } from '../store/batch-store-port';
import { BatchError } from './batch-errors';
import { bankTimestamp } from './bank-time';
import type { BatchDeps } from './batch-deps';
import { buildNextFile, detailsOf } from './build-files';
import { datasetName } from './dataset-name';
import { REQUEST_LRECL } from './request-file-reader';
import { writeRequestFile } from './request-file-writer';
import { sendFile, type SendOutcome } from './send-files';

// `batch run` and the night's job: for each core, send again what a failed run left (same file, same
// sequence), then build a new file from what is APPLIED and in no file yet, and send it. It returns
// once the files are sent and verified; responses are fetched separately.

export interface CoreRun {
  readonly core: Core;
  readonly businessDate: string;
  readonly sent: SendOutcome[];
  /** Nothing new and nothing left to send. */
  readonly nothingToDo: boolean;
}

export async function runBatch(
  deps: BatchDeps,
  opts: { businessDate: string; cores?: readonly Core[] },
): Promise<CoreRun[]> {
  if (!deps.calendar.isBusinessDay(opts.businessDate)) {
    throw new BatchError(
      'FILE_STATE',
      `${opts.businessDate} is not a business day; files exist for business dates only`,
    );
  }
  const runs: CoreRun[] = [];
  for (const core of opts.cores ?? CORES) runs.push(await runCore(deps, core, opts.businessDate));
  return runs;
}

export async function runCore(deps: BatchDeps, core: Core, businessDate: string): Promise<CoreRun> {
  const sent: SendOutcome[] = [];
  const pending = await deps.store.batch.listFiles({ core, businessDate, states: ['BUILT', 'FAILED'] });
  for (const f of pending.filter((x) => x.supersededBy === null)) sent.push(await sendFile(deps, f));
  const built = await buildNextFile(deps, core, businessDate);
  if (built) sent.push(await sendFile(deps, built));
  return { core, businessDate, sent, nothingToDo: sent.length === 0 };
}

/** `batch resend`: the payments of the date's latest REFUSED or FAILED file under the next sequence. */
export async function resendFile(deps: BatchDeps, core: Core, businessDate: string): Promise<SendOutcome> {
  const files = await deps.store.batch.listFiles({ core, businessDate, states: ['REFUSED', 'FAILED'] });
  const from = files.filter((f) => f.supersededBy === null).at(-1);
  if (!from) {
    throw new BatchError('FILE_STATE', `no REFUSED or FAILED file of ${core} for ${businessDate} waits for a resend`);
  }
  const now = deps.now();
  const file = await deps.store.batch.createResendFile(from.id, {
    createdStamp: bankTimestamp(now, deps.timeZone),
    at: now.toISOString(),
    nameFor: (sequence) => datasetName({ kind: 'PAY', core, businessDate, sequence }),
  });
  deps.logger.info(
    { file: file.name, resendOf: from.name, records: file.recordCount },
    'payments of a refused file go out again',
  );
  return sendFile(deps, file);
}

/** `batch run --dry-run --out DIR`: the files a run would build, written locally; nothing recorded, nothing sent. */
export async function dryRun(
  deps: BatchDeps,
  opts: { businessDate: string; cores?: readonly Core[]; outDir: string },
): Promise<{ core: Core; name: string; path: string; records: number; sha256: string }[]> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const out: { core: Core; name: string; path: string; records: number; sha256: string }[] = [];
  for (const core of opts.cores ?? CORES) {
    const waiting = await deps.store.batch.waitingPayments(core, opts.businessDate);
    if (waiting.count === 0) continue;
    const sequence = await deps.store.batch.nextSequence(core, opts.businessDate);
    const name = datasetName({ kind: 'PAY', core, businessDate: opts.businessDate, sequence });
    const target = path.join(opts.outDir, name);
    const written = await writeRequestFile({
      target,
      header: {
        fileName: name,
        core,
        businessDate: opts.businessDate,
        sequence,
        createdAt: bankTimestamp(deps.now(), deps.timeZone),
      },
      details: detailsOf(deps, deps.store.batch.waitingPaymentRows(core, opts.businessDate, 2_000)),
      page: deps.page,
      onProgress: (n) => deps.progress?.(`build ${name}`, n, waiting.count, REQUEST_LRECL),
    });
    out.push({ core, name, path: target, records: written.trailer.recordCount, sha256: written.sha256 });
  }
  return out;
}

export interface CoreStatus {
  readonly core: Core;
  readonly businessDate: string;
  readonly files: BatchFile[];
  readonly waiting: { count: number; totalPen: bigint; totalUsd: bigint };
}

export async function batchStatus(
  deps: Pick<BatchDeps, 'store'>,
  businessDate: string,
  cores: readonly Core[] = CORES,
): Promise<CoreStatus[]> {
  const out: CoreStatus[] = [];
  for (const core of cores) {
    out.push({
      core,
      businessDate,
      files: await deps.store.batch.listFiles({ core, businessDate }),
      waiting: await deps.store.batch.waitingPayments(core, businessDate),
    });
  }
  return out;
}
