import path from 'node:path';
import type { CodePage } from '../copybooks/code-page';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { Logger } from '../logging/logger';
import type { BatchMetrics } from '../metrics/batch-metrics';
import type { PaymentStore } from '../store/store-port';
import type { RetryPolicy } from './mainframe-transfer';
import type { SftpConnector } from './sftp-agent-port';

// What every batch use case takes: passed in by the composition root or the CLI, faked in tests.

export interface BatchProgress {
  /**
   * A phase of long work: `done` of `total` records (total null when unknown), each `recordLength`
   * bytes, so a meter can show both records and megabytes (an upload counts its bytes as records).
   */
  (phase: string, done: number, total: number | null, recordLength: number): void;
}

export interface BatchDeps {
  readonly store: PaymentStore;
  /** Null when no SFTP is configured (dry runs and `batch show` need none). */
  readonly connector: SftpConnector | null;
  readonly page: CodePage;
  readonly dataDir: string;
  readonly timeZone: string;
  readonly calendar: BusinessCalendar;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly metrics?: BatchMetrics;
  /** Called after payment events were written (wakes the webhook dispatcher). */
  readonly onEventWritten?: () => void;
  readonly progress?: BatchProgress;
  /**
   * Called by the night's scheduler once every file of a business date has its response applied (the
   * composition root wires reconciliation here); it must not throw.
   */
  readonly afterResponses?: (businessDate: string) => Promise<void>;
  /**
   * Called by the night's scheduler when a file of the date is still unanswered past its response
   * deadline (once per date and process; `deadline` is when it fell due): the composition root
   * reconciles the date, unless a run started after `deadline` already, so finance sees those payments
   * as applied but not posted without waiting for the response. It must not throw.
   */
  readonly afterDeadline?: (businessDate: string, deadline: Date) => Promise<void>;
}

/** Every sent file is archived here under its dataset name (the bytes that were verified on the server). */
export function sentArchive(dataDir: string, name: string): string {
  return path.join(dataDir, 'batch', 'sent', name);
}

/** Every received response is archived here under its dataset name. */
export function receivedArchive(dataDir: string, name: string): string {
  return path.join(dataDir, 'batch', 'received', name);
}
