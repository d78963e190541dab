import { createReadStream } from 'node:fs';
import { BatchError } from './batch-errors';

// Splits a fixed-block (RECFM=FB) file into records with constant memory: records are views into
// the stream's chunks where they fit, copied only when one straddles two chunks.

export interface FixedRecord {
  readonly bytes: Uint8Array;
  /** 1-based */
  readonly record: number;
  /** Byte offset of the record in the file. */
  readonly offset: number;
}

export async function* fixedRecords(
  source: string | AsyncIterable<Uint8Array>,
  lrecl: number,
  fileName: string,
): AsyncGenerator<FixedRecord> {
  const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: lrecl * 2048 }) : source;
  let carry: Uint8Array = new Uint8Array(0);
  let record = 0;
  let offset = 0;
  for await (const chunk of input) {
    let buf: Uint8Array = chunk;
    let p = 0;
    if (carry.length > 0) {
      const need = lrecl - carry.length;
      if (buf.length < need) {
        carry = concat(carry, buf);
        continue;
      }
      const joined = concat(carry, buf.subarray(0, need));
      carry = new Uint8Array(0);
      record += 1;
      yield { bytes: joined, record, offset };
      offset += lrecl;
      p = need;
    }
    for (; p + lrecl <= buf.length; p += lrecl) {
      record += 1;
      yield { bytes: buf.subarray(p, p + lrecl), record, offset };
      offset += lrecl;
    }
    if (p < buf.length) carry = Uint8Array.from(buf.subarray(p));
    buf = new Uint8Array(0);
  }
  if (carry.length > 0) {
    throw new BatchError(
      'FILE_LENGTH',
      `${offset + carry.length} bytes is not a whole number of ${lrecl}-byte records (${carry.length} bytes left over)`,
      { file: fileName, record: record + 1, offset },
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
