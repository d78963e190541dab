import { CopybookError, toHex, withContext } from './copybook-errors';
import type { DecodedRecord, RecordDecoder } from './record-decoder';

export type RecordFormat = 'fb' | 'vb';

export interface SplitOptions {
  readonly recfm: RecordFormat;
  /** FB record length; defaults to the layout size. */
  readonly lrecl?: number;
  /**
   * VB only. 'ibm' (default): the RDW's length counts the 4 RDW bytes, as z/OS writes it.
   * 'data': the length counts only the data bytes (some transfer tools and Cobrix test files).
   */
  readonly rdw?: 'ibm' | 'data';
  readonly file?: string;
}

export interface RawRecord {
  /** 1-based record number. */
  readonly index: number;
  /** Byte offset of the record (of its data, after any RDW) in the file. */
  readonly offset: number;
  /** The record's bytes; a view that stays valid only until the next record is requested. */
  readonly bytes: Buffer;
}

export type SplitResult =
  | { readonly ok: true; readonly record: RawRecord }
  | { readonly ok: false; readonly error: CopybookError; readonly fatal: boolean };

/**
 * Splits a byte stream into records with constant memory: it holds at most one chunk plus one
 * partial record. A file that ends inside a record yields RECORD_TRUNCATED; a bad RDW is fatal.
 */
export async function* splitRecords(
  source: AsyncIterable<Uint8Array>,
  options: SplitOptions,
): AsyncGenerator<SplitResult> {
  const vb = options.recfm === 'vb';
  const lrecl = options.lrecl ?? 0;
  if (!vb && lrecl <= 0) throw new Error('splitRecords: FB needs lrecl > 0');
  const rdwIncludesItself = (options.rdw ?? 'ibm') === 'ibm';
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  let fileOffset = 0; // file offset of buf[0]
  let index = 0;
  for await (const chunk of source) {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (pos < buf.length) {
      fileOffset += pos;
      buf = Buffer.concat([buf.subarray(pos), c]);
    } else {
      fileOffset += buf.length;
      buf = c;
    }
    pos = 0;
    for (;;) {
      if (!vb) {
        if (pos + lrecl > buf.length) break;
        index++;
        yield { ok: true, record: { index, offset: fileOffset + pos, bytes: buf.subarray(pos, pos + lrecl) } };
        pos += lrecl;
        continue;
      }
      if (pos + 4 > buf.length) break;
      const ll = ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
      const len = rdwIncludesItself ? ll - 4 : ll;
      if (len < 0 || buf[pos + 2] !== 0 || buf[pos + 3] !== 0) {
        yield {
          ok: false,
          fatal: true,
          error: new CopybookError(
            'RDW_INVALID',
            len < 0
              ? `RDW length ${ll} is below 4`
              : 'RDW bytes 3-4 are not zero (spanned records and BDWs are not supported)',
            { file: options.file, record: index + 1, offset: fileOffset + pos, hex: toHex(buf, pos, pos + 4) },
          ),
        };
        return;
      }
      if (pos + 4 + len > buf.length) break;
      index++;
      yield { ok: true, record: { index, offset: fileOffset + pos + 4, bytes: buf.subarray(pos + 4, pos + 4 + len) } };
      pos += 4 + len;
    }
  }
  if (pos < buf.length) {
    const rest = buf.length - pos;
    yield {
      ok: false,
      fatal: true,
      error: new CopybookError(
        'RECORD_TRUNCATED',
        vb && rest < 4
          ? `the file ends inside an RDW (${rest} bytes left)`
          : `the file ends ${rest} bytes into a record`,
        {
          file: options.file,
          record: index + 1,
          offset: fileOffset + pos,
          hex: toHex(buf, pos, Math.min(buf.length, pos + 32)),
        },
      ),
    };
  }
}

export type DecodeResult =
  | {
      readonly ok: true;
      readonly index: number;
      readonly offset: number;
      readonly length: number;
      readonly value: DecodedRecord;
    }
  | {
      readonly ok: false;
      readonly index: number;
      readonly offset: number;
      readonly length: number;
      readonly error: CopybookError;
      readonly fatal: boolean;
    };

/** Splits and decodes; a bad record becomes an error result carrying file, record, offset, field and hex. */
export async function* decodeRecords(
  source: AsyncIterable<Uint8Array>,
  decoder: RecordDecoder,
  options: SplitOptions,
): AsyncGenerator<DecodeResult> {
  const lrecl = options.lrecl ?? decoder.size;
  for await (const r of splitRecords(source, { ...options, lrecl })) {
    if (!r.ok) {
      yield {
        ok: false,
        index: r.error.context.record ?? 0,
        offset: r.error.context.offset ?? 0,
        length: 0,
        error: r.error,
        fatal: r.fatal,
      };
      continue;
    }
    const { index, offset, bytes } = r.record;
    try {
      const value = decoder.decode(bytes, 0, bytes.length);
      yield { ok: true, index, offset, length: bytes.length, value };
    } catch (err) {
      if (!(err instanceof CopybookError)) throw err;
      yield {
        ok: false,
        index,
        offset,
        length: bytes.length,
        error: locate(err, options.file, index, offset),
        fatal: false,
      };
    }
  }
}

/** Turns record-relative offsets into file offsets, recursively, and adds the file and record number. */
export function locate(
  err: CopybookError,
  file: string | undefined,
  index: number,
  recordOffset: number,
): CopybookError {
  const nested = err.errors.map((e) => locate(e, file, index, recordOffset));
  const located = withContext(err, {
    ...(file !== undefined ? { file } : {}),
    record: index,
    offset: recordOffset + (err.context.offset ?? 0),
  });
  return nested.length === 0
    ? located
    : new CopybookError(located.code, located.message, located.context, { cause: located.cause, errors: nested });
}
