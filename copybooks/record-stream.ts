import { CopybookError, toHex, withContext } from './copybook-errors';
import { recordError, type DecodedRecord, type RecordDecoder } from './record-decoder';
import type { RecordJsonWriter } from './record-json-writer';

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

interface ScanState {
  buf: Buffer;
  pos: number;
  /** File offset of buf[0]. */
  fileOffset: number;
  index: number;
}

/** Called for each record; returning false ends the scan after this record. */
type OnRecord = (buf: Buffer, start: number, end: number, index: number, offset: number) => boolean | void;

/**
 * Calls onRecord for every whole record in state.buf from state.pos, at most `limit` of them;
 * returns a fatal error or undefined.
 */
function scan(
  state: ScanState,
  options: SplitOptions,
  lrecl: number,
  onRecord: OnRecord,
  limit = Number.POSITIVE_INFINITY,
): CopybookError | undefined {
  const buf = state.buf;
  let pos = state.pos;
  const last = state.index + limit;
  if (options.recfm === 'fb') {
    while (pos + lrecl <= buf.length && state.index < last) {
      state.index++;
      const more = onRecord(buf, pos, pos + lrecl, state.index, state.fileOffset + pos);
      pos += lrecl;
      if (more === false) break;
    }
    state.pos = pos;
    return undefined;
  }
  const rdwIncludesItself = (options.rdw ?? 'ibm') === 'ibm';
  while (pos + 4 <= buf.length && state.index < last) {
    const ll = ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
    const len = rdwIncludesItself ? ll - 4 : ll;
    if (len < 0 || buf[pos + 2] !== 0 || buf[pos + 3] !== 0) {
      state.pos = pos;
      return new CopybookError(
        'RDW_INVALID',
        len < 0
          ? `RDW length ${ll} is below 4`
          : 'RDW bytes 3-4 are not zero (spanned records and BDWs are not supported)',
        { file: options.file, record: state.index + 1, offset: state.fileOffset + pos, hex: toHex(buf, pos, pos + 4) },
      );
    }
    if (pos + 4 + len > buf.length) break;
    state.index++;
    const more = onRecord(buf, pos + 4, pos + 4 + len, state.index, state.fileOffset + pos + 4);
    pos += 4 + len;
    if (more === false) break;
  }
  state.pos = pos;
  return undefined;
}

/**
 * Makes the next bytes scannable: the chunk, after the tail of a partial record carried over.
 * For FB, only that one record is completed in a small buffer and the rest of the chunk is
 * returned, to be appended (and scanned in place) once that record is scanned: copying every
 * chunk behind its carried tail cost a fresh 1 MB buffer and its copy per chunk (about 9 % of
 * decoding to JSON lines). Returns undefined when the whole chunk was appended.
 */
function append(state: ScanState, chunk: Uint8Array, options: SplitOptions, lrecl: number): Buffer | undefined {
  const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (state.pos < state.buf.length) {
    // Only the tail of one partial record is carried over into the next chunk.
    const rest = state.buf.length - state.pos;
    state.fileOffset += state.pos;
    if (options.recfm === 'fb' && rest < lrecl && c.length > lrecl - rest) {
      const take = lrecl - rest;
      state.buf = Buffer.concat([state.buf.subarray(state.pos), c.subarray(0, take)]);
      state.pos = 0;
      return c.subarray(take);
    }
    state.buf = Buffer.concat([state.buf.subarray(state.pos), c]);
  } else {
    state.fileOffset += state.buf.length;
    state.buf = c;
  }
  state.pos = 0;
  return undefined;
}

function truncation(state: ScanState, options: SplitOptions): CopybookError | undefined {
  const rest = state.buf.length - state.pos;
  if (rest === 0) return undefined;
  return new CopybookError(
    'RECORD_TRUNCATED',
    options.recfm === 'vb' && rest < 4
      ? `the file ends inside an RDW (${rest} bytes left)`
      : `the file ends ${rest} bytes into a record`,
    {
      file: options.file,
      record: state.index + 1,
      offset: state.fileOffset + state.pos,
      hex: toHex(state.buf, state.pos, Math.min(state.buf.length, state.pos + 32)),
    },
  );
}

function lreclOf(options: SplitOptions): number {
  const lrecl = options.lrecl ?? 0;
  if (options.recfm === 'fb' && lrecl <= 0) throw new Error('FB records need lrecl > 0');
  return lrecl;
}

/**
 * Splits a byte stream into records with constant memory: it holds at most one chunk plus one
 * partial record. A file that ends inside a record yields RECORD_TRUNCATED; a bad RDW is fatal.
 */
export async function* splitRecords(
  source: AsyncIterable<Uint8Array>,
  options: SplitOptions,
): AsyncGenerator<SplitResult> {
  const lrecl = lreclOf(options);
  const state: ScanState = { buf: Buffer.alloc(0), pos: 0, fileOffset: 0, index: 0 };
  for await (const chunk of source) {
    for (let next: Uint8Array | undefined = chunk; next !== undefined;) {
      next = append(state, next, options, lrecl);
      const found: SplitResult[] = [];
      const fatal = scan(state, options, lrecl, (buf, start, end, index, offset) => {
        found.push({ ok: true, record: { index, offset, bytes: buf.subarray(start, end) } });
      });
      yield* found;
      if (fatal !== undefined) {
        yield { ok: false, error: fatal, fatal: true };
        return;
      }
    }
  }
  const cut = truncation(state, options);
  if (cut !== undefined) yield { ok: false, error: cut, fatal: true };
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

const BATCH = 256;

/**
 * Splits and decodes, one batch of at most 256 results at a time (one await per batch, not per record).
 * A bad record becomes an error result carrying file, record number, file offset, field and hex.
 */
export async function* decodeRecordBatches(
  source: AsyncIterable<Uint8Array>,
  decoder: RecordDecoder,
  options: SplitOptions,
): AsyncGenerator<DecodeResult[]> {
  const lrecl = options.lrecl ?? decoder.size;
  const opts = { ...options, lrecl };
  const state: ScanState = { buf: Buffer.alloc(0), pos: 0, fileOffset: 0, index: 0 };
  const fatalResult = (error: CopybookError): DecodeResult => ({
    ok: false,
    index: error.context.record ?? 0,
    offset: error.context.offset ?? 0,
    length: 0,
    error,
    fatal: true,
  });
  let batch: DecodeResult[] = [];
  const onRecord: OnRecord = (buf, start, end, index, offset) => {
    const length = end - start;
    const value = decoder.decodeValid(buf, start, end);
    if (value !== undefined) {
      batch.push({ ok: true, index, offset, length, value });
      return;
    }
    const r = decoder.decodeAll(buf, start, end);
    if (r.errors.length === 0) batch.push({ ok: true, index, offset, length, value: r.value });
    else
      batch.push({
        ok: false,
        index,
        offset,
        length,
        error: locate(recordError(r.errors), options.file, index, offset),
        fatal: false,
      });
  };
  for await (const chunk of source) {
    for (let next: Uint8Array | undefined = chunk; next !== undefined;) {
      next = append(state, next, opts, lrecl);
      // Batches of at most BATCH records: the records of a batch are alive together until the
      // caller has handled them, and a smaller live set keeps young-generation GC cheap.
      for (;;) {
        batch = [];
        const before = state.index;
        const fatal = scan(state, opts, lrecl, onRecord, BATCH);
        if (fatal !== undefined) batch.push(fatalResult(fatal));
        if (batch.length > 0) yield batch;
        if (fatal !== undefined) return;
        if (state.index - before < BATCH) break;
      }
    }
  }
  const cut = truncation(state, opts);
  if (cut !== undefined) yield [fatalResult(cut)];
}

export interface JsonLinesBatch {
  /** JSON lines (UTF-8, each ending in '\n') of the good records, in file order. */
  readonly text: Buffer;
  /** Records in `text`. */
  readonly good: number;
  /** The bad record that ended this batch (always the last record of the batch), if any. */
  readonly failed?: Extract<DecodeResult, { ok: false }>;
  /** Records seen so far, and the file offset just past the last one. */
  readonly seen: number;
  readonly bytes: number;
}

const JSON_CHUNK = 256 * 1024;

type Failure = Extract<DecodeResult, { ok: false }>;

function fatalFailure(error: CopybookError): Failure {
  return {
    ok: false,
    index: error.context.record ?? 0,
    offset: error.context.offset ?? 0,
    length: 0,
    error,
    fatal: true,
  };
}

/**
 * `copybook decode --format jsonl` without objects: each record's JSON line is written straight
 * from its bytes by `writer` (record-json-writer.ts) into one output buffer per batch; a record
 * the writer declines is decoded by the decoder and written with JSON.stringify, and a bad one
 * ends its batch as `failed` (so a caller stopping at the first error writes nothing after it).
 * The bytes are those of JSON.stringify(record) + '\n' for every good record, in order.
 */
export async function* decodeJsonLines(
  source: AsyncIterable<Uint8Array>,
  decoder: RecordDecoder,
  writer: RecordJsonWriter | undefined,
  options: SplitOptions,
): AsyncGenerator<JsonLinesBatch> {
  const lrecl = options.lrecl ?? decoder.size;
  const opts = { ...options, lrecl };
  const state: ScanState = { buf: Buffer.alloc(0), pos: 0, fileOffset: 0, index: 0 };
  const reserve = writer?.maxLineBytes ?? 0;
  const capacity = Math.max(JSON_CHUNK, 2 * reserve);
  let out = Buffer.allocUnsafe(capacity);
  let q = 0;
  let good = 0;
  let bytes = 0;
  let failed: Failure | undefined;
  const onRecord: OnRecord = (buf, start, end, index, offset) => {
    bytes = offset + (end - start);
    if (writer !== undefined) {
      const w = writer.write(buf, start, end, out, q);
      if (w >= 0) {
        q = w;
        good++;
        return out.length - q >= reserve;
      }
    }
    const r = decoder.decodeAll(buf, start, end);
    if (r.errors.length > 0) {
      failed = {
        ok: false,
        index,
        offset,
        length: end - start,
        error: locate(recordError(r.errors), options.file, index, offset),
        fatal: false,
      };
      return false;
    }
    const line = JSON.stringify(r.value);
    const need = line.length * 3 + 1;
    if (out.length - q < need) {
      const bigger = Buffer.allocUnsafe(Math.max(capacity, q + need + reserve));
      out.copy(bigger, 0, 0, q);
      out = bigger;
    }
    q += out.write(line, q, 'utf8');
    out[q++] = 10;
    good++;
    return out.length - q >= reserve;
  };
  const take = (): JsonLinesBatch => {
    const batch: JsonLinesBatch = {
      text: out.subarray(0, q),
      good,
      ...(failed !== undefined ? { failed } : {}),
      seen: state.index,
      bytes,
    };
    // The buffer handed out is never written again.
    out = Buffer.allocUnsafe(capacity);
    q = 0;
    good = 0;
    failed = undefined;
    return batch;
  };
  const fatalBatch = (error: CopybookError): JsonLinesBatch => ({
    text: Buffer.alloc(0),
    good: 0,
    failed: fatalFailure(error),
    seen: state.index,
    bytes,
  });
  for await (const chunk of source) {
    for (let next: Uint8Array | undefined = chunk; next !== undefined;) {
      next = append(state, next, opts, lrecl);
      for (;;) {
        const before = state.index;
        const fatal = scan(state, opts, lrecl, onRecord);
        if (fatal !== undefined) {
          if (q > 0 || failed !== undefined) yield take();
          yield fatalBatch(fatal);
          return;
        }
        if (failed !== undefined || out.length - q < reserve) yield take();
        else break;
        if (state.index === before) break;
      }
    }
    if (q > 0) yield take();
  }
  const cut = truncation(state, opts);
  if (cut !== undefined) yield fatalBatch(cut);
}

/** Per-record form of decodeRecordBatches, for callers that want one result at a time. */
export async function* decodeRecords(
  source: AsyncIterable<Uint8Array>,
  decoder: RecordDecoder,
  options: SplitOptions,
): AsyncGenerator<DecodeResult> {
  for await (const batch of decodeRecordBatches(source, decoder, options)) yield* batch;
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
