// The one catalogue of copybook engine errors. docs/copybook-errors.md lists the same codes
// (test/copybooks/error-catalogue.test.ts keeps the two in sync).

export const copybookErrorCatalogue = {
  COPYBOOK_SYNTAX: 'the copybook text does not follow COBOL data-description syntax',
  COPYBOOK_UNSUPPORTED: 'the copybook uses a construct this engine deliberately does not support',
  PICTURE_INVALID: 'a PICTURE string is malformed or inconsistent with its USAGE',
  LAYOUT_INVALID: 'the items parse but cannot be laid out (unknown REDEFINES/DEPENDING ON target, bad level structure)',
  CODE_PAGE_UNKNOWN: 'the requested code page is not one of the supported tables',
  CHAR_NOT_ENCODABLE: 'a character has no byte in the code page',
  BYTE_NOT_DECODABLE: 'a byte has no character in the code page',
  ZONED_INVALID: 'a zoned-decimal field holds a byte that is not a digit or a valid overpunched sign',
  PACKED_INVALID: 'a packed-decimal field holds a nibble that is not a digit or a valid sign',
  BINARY_OUT_OF_RANGE: 'a binary field holds more digits than its PICTURE allows',
  SIGN_INVALID: 'a separate sign byte is neither + nor -, or a negative sign sits in an unsigned field',
  FLOAT_NOT_EXACT: 'a value cannot be held exactly by the COMP-1/COMP-2 hexadecimal float',
  ODO_OUT_OF_RANGE: 'an OCCURS DEPENDING ON counter is outside its declared range',
  FIELD_BEYOND_RECORD: 'a field runs past the end of a (short) variable record',
  REDEFINES_NO_VIEW: 'no view of a REDEFINES group decodes from the bytes',
  RECORD_INVALID: 'a record could not be decoded; the nested errors say why',
  RECORD_TRUNCATED: 'the file ends inside a record',
  RDW_INVALID: 'a record descriptor word is malformed',
  VALUE_MISSING: 'an input record lacks a field and no default was asked for',
  VALUE_TYPE: 'an input value has the wrong JSON type for its field',
  VALUE_NOT_DECIMAL: 'a numeric input is not a plain decimal string',
  VALUE_TOO_MANY_DIGITS: 'a numeric input has more integer digits than its PICTURE',
  VALUE_TOO_MANY_DECIMALS: 'a numeric input has more decimals than the PICTURE scale',
  VALUE_NEGATIVE_UNSIGNED: 'a negative value was given for an unsigned field',
  TEXT_TOO_LONG: 'a text value is longer than its field',
  TEXT_NOT_ALPHABETIC: 'a PIC A value holds something other than letters and spaces',
  OCCURS_COUNT_MISMATCH: 'an array length does not match its OCCURS count or DEPENDING ON counter',
  UNKNOWN_FIELD: 'an input record has a key the copybook does not define',
  REDEFINES_CONFLICT: 'two views of one REDEFINES area were given and encode to different bytes',
  INPUT_INVALID: 'an input line is not a JSON object',
  OUTPUT_FAILED: 'the output file could not be written',
} as const;

export type CopybookErrorCode = keyof typeof copybookErrorCatalogue;

export interface CopybookErrorContext {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly token?: string;
  readonly expected?: string;
  readonly record?: number;
  readonly offset?: number;
  readonly field?: string;
  readonly hex?: string;
  readonly codePage?: string;
}

export class CopybookError extends Error {
  override readonly name = 'CopybookError';
  readonly code: CopybookErrorCode;
  readonly context: CopybookErrorContext;
  readonly errors: readonly CopybookError[];

  constructor(
    code: CopybookErrorCode,
    message: string,
    context: CopybookErrorContext = {},
    options: { cause?: unknown; errors?: readonly CopybookError[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = context;
    this.errors = options.errors ?? [];
  }

  /** A one-line description with every piece of context an operator needs. */
  describe(): string {
    const c = this.context;
    const where: string[] = [];
    if (c.file !== undefined) where.push(c.file);
    if (c.line !== undefined) where.push(`line ${c.line}${c.column !== undefined ? ` col ${c.column}` : ''}`);
    if (c.record !== undefined) where.push(`record ${c.record}`);
    if (c.offset !== undefined) where.push(`offset ${c.offset}`);
    if (c.field !== undefined) where.push(`field ${c.field}`);
    if (c.hex !== undefined) where.push(`bytes ${c.hex}`);
    const head = `${this.code}: ${this.message}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
    return this.errors.length === 0 ? head : `${head}\n${this.errors.map((e) => `  - ${e.describe()}`).join('\n')}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...this.context,
      ...(this.errors.length > 0 ? { errors: this.errors.map((e) => e.toJSON()) } : {}),
    };
  }
}

export function withContext(err: CopybookError, extra: CopybookErrorContext): CopybookError {
  return new CopybookError(
    err.code,
    err.message,
    { ...err.context, ...extra },
    { cause: err.cause, errors: err.errors },
  );
}

export function toHex(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, Math.max(0, end - start))
    .toString('hex')
    .toUpperCase();
}
