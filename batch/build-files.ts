import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../domain/channel';
import type { BatchFile, BatchPaymentRow } from '../store/batch-store-port';
import { BatchError } from './batch-errors';
import { bankTimestamp } from './bank-time';
import { sentArchive, type BatchDeps } from './batch-deps';
import { datasetName } from './dataset-name';
import type { RequestDetail } from './request-detail-record';
import { REQUEST_LRECL } from './request-file-reader';
import { writeRequestFile } from './request-file-writer';

// Building request files: the store takes the waiting payments into a new file row in one transaction
// (sequence, counts and totals included); the bytes are then written from the store in payment-id
// order, totals recomputed from the records and compared with the row. The same payments always give
// the same bytes: CREATED-AT is kept on the row, so a file lost before sending is rebuilt identically.

const PAGE = 2_000;

/** A new file for what is waiting (null when nothing is), written locally and ready to send. */
export async function buildNextFile(deps: BatchDeps, core: Core, businessDate: string): Promise<BatchFile | null> {
  const now = deps.now();
  const file = await deps.store.batch.createFile({
    core,
    businessDate,
    createdStamp: bankTimestamp(now, deps.timeZone),
    at: now.toISOString(),
    nameFor: (sequence) => datasetName({ kind: 'PAY', core, businessDate, sequence }),
  });
  if (!file) return null;
  deps.logger.info(
    { file: file.name, core, businessDate, records: file.recordCount, sequence: file.sequence },
    'mainframe request file built',
  );
  return ensureLocalFile(deps, file);
}

/** The file's bytes under the data dir, (re)written from the store when missing or not as recorded. */
export async function ensureLocalFile(deps: BatchDeps, file: BatchFile): Promise<BatchFile> {
  const target = sentArchive(deps.dataDir, file.name);
  if (file.sha256 && fs.existsSync(target) && (await sha256Of(target)) === file.sha256) return file;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const written = await writeRequestFile({
    target,
    header: {
      fileName: file.name,
      core: file.core,
      businessDate: file.businessDate,
      sequence: file.sequence,
      createdAt: file.createdStamp,
    },
    details: detailsOf(deps, deps.store.batch.filePayments(file.id, PAGE)),
    page: deps.page,
    expected: {
      recordCount: file.recordCount,
      totalPen: file.totalPen,
      totalUsd: file.totalUsd,
      hashTotal: file.hashTotal,
    },
    onProgress: (n) => deps.progress?.(`build ${file.name}`, n, file.recordCount, REQUEST_LRECL),
  });
  if (file.sha256 && file.sha256 !== written.sha256) {
    throw new BatchError('TOTAL_MISMATCH', 'the rebuilt file differs from the one recorded', {
      file: file.name,
      stated: file.sha256,
      computed: written.sha256,
    });
  }
  await deps.store.batch.recordWritten(file.id, written.sha256, written.size);
  return { ...file, sha256: written.sha256, sizeBytes: written.size };
}

export async function* detailsOf(
  deps: Pick<BatchDeps, 'timeZone'>,
  pages: AsyncIterable<readonly BatchPaymentRow[]>,
): AsyncGenerator<RequestDetail[]> {
  for await (const rows of pages) {
    yield rows.map((r) => ({
      paymentId: r.paymentId,
      receiptNumber: r.receiptNumber,
      channel: r.channel,
      channelReference: r.channelReference,
      loanNumber: r.loanNumber,
      currency: r.currency,
      amount: r.amount,
      appliedAt: bankTimestamp(new Date(r.appliedAt), deps.timeZone),
      coreReference: r.coreReference,
    }));
  }
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
