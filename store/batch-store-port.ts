import type { Core } from '../domain/channel';
import type { Channel } from '../domain/channel';
import type { Currency } from '../domain/money';

// The batch bridge's persistence port: the mainframe files, the payments in each, and the leases that
// make one runner do each core and date. Owned tables: batch_files, batch_file_payments, batch_leases.
// Payments' states still change only through PaymentStore.recordEvent.

export const BATCH_FILE_STATES = ['BUILT', 'SENT', 'ACCEPTED', 'REFUSED', 'COMPLETE', 'FAILED'] as const;
export type BatchFileState = (typeof BATCH_FILE_STATES)[number];

export interface BatchFile {
  readonly id: number;
  readonly name: string;
  readonly core: Core;
  readonly businessDate: string;
  readonly sequence: number;
  readonly state: BatchFileState;
  readonly recordCount: number;
  readonly totalPen: bigint;
  readonly totalUsd: bigint;
  readonly hashTotal: bigint;
  /** YYYYMMDDHHMMSS (bank time) written in the header: kept so a rebuilt file has the same bytes. */
  readonly createdStamp: string;
  readonly sha256: string | null;
  readonly sizeBytes: number | null;
  readonly attempts: number;
  readonly lastError: string | null;
  /** The file whose payments this one sends again (a resend), if any. */
  readonly resendOf: number | null;
  /** Set when `batch resend` put this file's payments into a later file; it is never sent again. */
  readonly supersededBy: number | null;
  readonly responseName: string | null;
  readonly responseReason: string | null;
  readonly postedCount: number;
  readonly rejectedCount: number;
  readonly createdAt: string;
  readonly sentAt: string | null;
  readonly respondedAt: string | null;
  readonly completedAt: string | null;
  readonly alertedAt: string | null;
}

/** What a detail record needs, read from the payments of a file in payment-id order. */
export interface BatchPaymentRow {
  readonly paymentId: string;
  readonly receiptNumber: string;
  readonly channel: Channel;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
  /** ISO instant the core applied it. */
  readonly appliedAt: string;
  readonly coreReference: string;
  readonly result: 'P' | 'R' | null;
}

export interface NewFileInput {
  readonly core: Core;
  readonly businessDate: string;
  readonly createdStamp: string;
  readonly at: string;
  /** Dataset name of a sequence. */
  readonly nameFor: (sequence: number) => string;
}

export interface WaitingPayments {
  readonly count: number;
  readonly totalPen: bigint;
  readonly totalUsd: bigint;
}

export interface BatchStore {
  /**
   * Takes every payment of the core and date that is APPLIED and in no file yet into a new file with
   * the next sequence, in one transaction; null when there is none. A payment in a file can no longer
   * be reversed (the payment store refuses it inside its own transaction).
   */
  createFile(input: NewFileInput): Promise<BatchFile | null>;
  /** A new file with the next sequence holding the payments of a REFUSED or FAILED file; that file is superseded. */
  createResendFile(fromFileId: number, input: Omit<NewFileInput, 'core' | 'businessDate'>): Promise<BatchFile>;
  getFile(id: number): Promise<BatchFile | null>;
  getFileByName(name: string): Promise<BatchFile | null>;
  listFiles(filter: { businessDate?: string; core?: Core; states?: readonly BatchFileState[] }): Promise<BatchFile[]>;
  /** The payments of a file in payment-id order, `batchSize` at a time (keyset pages: constant memory). */
  filePayments(fileId: number, batchSize: number): AsyncIterable<BatchPaymentRow[]>;
  recordWritten(fileId: number, sha256: string, sizeBytes: number): Promise<void>;
  recordSent(fileId: number, at: string): Promise<void>;
  recordSendFailure(fileId: number, error: string, at: string): Promise<void>;
  recordRefused(fileId: number, responseName: string, reason: string, at: string): Promise<void>;
  recordAccepted(fileId: number, responseName: string, at: string): Promise<void>;
  /** Results of a response for some payments of a file (idempotent). */
  recordResults(
    fileId: number,
    results: readonly { paymentId: string; result: 'P' | 'R'; reason: string; postingReference: string }[],
  ): Promise<void>;
  recordComplete(fileId: number, at: string, counts: { posted: number; rejected: number }): Promise<void>;
  recordAlerted(fileId: number, at: string): Promise<void>;
  /** The APPLIED payments of the core and date in no file, as a new file would take them (a dry run). */
  waitingPaymentRows(core: Core, businessDate: string, batchSize: number): AsyncIterable<BatchPaymentRow[]>;
  /** The sequence the next file of the core and date would get. */
  nextSequence(core: Core, businessDate: string): Promise<number>;
  /** APPLIED payments of the core and date in no file. */
  waitingPayments(core: Core, businessDate: string): Promise<WaitingPayments>;
  /** Business dates before `before` with APPLIED payments in no file, or files still to send; oldest first. */
  datesToCatchUp(before: string): Promise<{ core: Core; businessDate: string }[]>;
  /** True when this holder has the lease (newly taken, renewed, or the old one expired). */
  acquireLease(name: string, holder: string, until: Date, now: Date): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Counts of files per core and state (for the metrics). */
  fileCounts(): Promise<{ core: Core; state: BatchFileState; count: number }[]>;
}
