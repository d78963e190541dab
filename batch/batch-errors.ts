// The batch bridge's error catalogue: every problem with a mainframe file or its transfer has a stable
// code, a message and the context an operator needs (file, record number, byte offset, field, the
// stated and the computed figure). docs/batch-errors.md is checked against this table by a test.

export const batchErrorCatalogue = {
  FILE_LENGTH: 'the file size is not a whole number of records',
  RECORD_TYPE: 'a record has an unknown or misplaced REC-TYPE',
  RECORD_INVALID: 'a field of a record does not decode',
  HEADER_MISSING: 'the file does not start with a header record',
  TRAILER_MISSING: 'the file does not end with a trailer record',
  NAME_MISMATCH: 'the header names another file than the one read',
  COUNT_MISMATCH: 'the trailer states another number of records than the file holds',
  TOTAL_MISMATCH: 'a control total in the trailer differs from the sum of the details',
  HASH_MISMATCH: 'the hash total in the trailer differs from the sum of the loan numbers',
  DUPLICATE_PAYMENT: 'a payment appears twice in one file',
  UNKNOWN_PAYMENT: 'a response names a payment that is not in the request it answers',
  MISSING_PAYMENT: 'a response leaves out a payment of the request it answers',
  VALUE_INVALID: 'a value cannot be written into its field',
  CODEPAGE_INVALID: 'the configured code page is not an EBCDIC page of the engine',
  SFTP_CONFIG: 'the SFTP settings are missing or malformed',
  SFTP_HOST_KEY: "the server's host key does not match the pinned fingerprint",
  SFTP_TRANSFER: 'an SFTP transfer failed or did not verify',
  FILE_STATE: 'the file is not in a state that allows the operation',
} as const;

export type BatchErrorCode = keyof typeof batchErrorCatalogue;

export interface BatchErrorContext {
  readonly file?: string;
  /** 1-based record number in the file. */
  readonly record?: number;
  /** Byte offset of the record (or of the field, with `field`) from the start of the file. */
  readonly offset?: number;
  readonly field?: string;
  readonly stated?: string;
  readonly computed?: string;
  readonly paymentId?: string;
}

export class BatchError extends Error {
  override readonly name = 'BatchError';
  readonly code: BatchErrorCode;
  readonly context: BatchErrorContext;

  constructor(
    code: BatchErrorCode,
    message: string,
    context: BatchErrorContext = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = context;
  }

  /** One line with every piece of context: what an operator pastes into a ticket. */
  describe(): string {
    const c = this.context;
    const where: string[] = [];
    if (c.file !== undefined) where.push(c.file);
    if (c.record !== undefined) where.push(`record ${c.record}`);
    if (c.offset !== undefined) where.push(`offset ${c.offset}`);
    if (c.field !== undefined) where.push(`field ${c.field}`);
    if (c.paymentId !== undefined) where.push(`payment ${c.paymentId}`);
    if (c.stated !== undefined || c.computed !== undefined) {
      where.push(`stated ${c.stated ?? '-'}, computed ${c.computed ?? '-'}`);
    }
    return `${this.code}: ${this.message}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.context };
  }
}
