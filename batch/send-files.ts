import type { BatchFile } from '../store/batch-store-port';
import { BatchError } from './batch-errors';
import { sentArchive, type BatchDeps } from './batch-deps';
import { ensureLocalFile } from './build-files';
import { uploadVerified, withAgent, withRetries } from './mainframe-transfer';
import { REQUEST_LRECL } from './request-file-reader';

// Sending a built (or failed) file: the verified upload protocol on a fresh connection per attempt,
// retried with backoff and jitter; then SENT, or FAILED with the reason (the next run sends it again).

export type SendOutcome =
  | { readonly kind: 'sent'; readonly file: BatchFile; readonly attempts: number; readonly seconds: number }
  | { readonly kind: 'failed'; readonly file: BatchFile; readonly error: string };

export async function sendFile(deps: BatchDeps, given: BatchFile): Promise<SendOutcome> {
  const connector = deps.connector;
  if (!connector) {
    throw new BatchError(
      'SFTP_CONFIG',
      'no SFTP server is configured: set LOANHUB_MAINFRAME_SFTP_URL (or run loanhub start)',
    );
  }
  if (given.state !== 'BUILT' && given.state !== 'FAILED') {
    throw new BatchError('FILE_STATE', `${given.name} is ${given.state}; only BUILT or FAILED files are sent`, {
      file: given.name,
    });
  }
  if (given.supersededBy !== null) {
    throw new BatchError('FILE_STATE', `${given.name} was resent under a later sequence; it is not sent again`, {
      file: given.name,
    });
  }
  const file = await ensureLocalFile(deps, given);
  const log = deps.logger.child({ file: file.name, core: file.core, businessDate: file.businessDate });
  const started = process.hrtime.bigint();
  let attempts = 0;
  try {
    const how = await withRetries(
      deps.retry,
      async (attempt) => {
        attempts = attempt;
        // Records of the file as they leave (header and trailer included), of all its records.
        const sent = (bytes: number): void =>
          deps.progress?.(
            `send ${file.name}`,
            Math.floor(bytes / REQUEST_LRECL),
            Math.floor((file.sizeBytes ?? 0) / REQUEST_LRECL),
            REQUEST_LRECL,
          );
        sent(0);
        return withAgent(connector, (agent) =>
          uploadVerified(
            agent,
            connector.basePath,
            {
              name: file.name,
              localPath: sentArchive(deps.dataDir, file.name),
              sha256: file.sha256 ?? '',
              size: file.sizeBytes ?? 0,
            },
            sent,
          ),
        );
      },
      (attempt, err, delayMs) =>
        log.warn({ attempt, delayMs, err: describe(err) }, 'mainframe upload failed; retrying'),
    );
    const at = deps.now();
    await deps.store.batch.recordSent(file.id, at.toISOString());
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics?.sendDuration.observe({ core: file.core }, seconds);
    deps.metrics?.paymentsSent.inc({ core: file.core }, file.recordCount);
    log.info(
      { records: file.recordCount, bytes: file.sizeBytes, sha256: file.sha256, attempts, how, seconds },
      'mainframe request file sent and verified',
    );
    return { kind: 'sent', file: { ...file, state: 'SENT', sentAt: at.toISOString() }, attempts, seconds };
  } catch (err) {
    const error = describe(err);
    await deps.store.batch.recordSendFailure(file.id, error, deps.now().toISOString());
    deps.metrics?.sendFailures.inc({ core: file.core });
    log.error({ attempts, err: error }, 'mainframe upload gave up; the file stays FAILED until the next run');
    return { kind: 'failed', file: { ...file, state: 'FAILED', lastError: error }, error };
  }
}

export function describe(err: unknown): string {
  if (err instanceof BatchError) return err.describe();
  return err instanceof Error ? err.message : String(err);
}
