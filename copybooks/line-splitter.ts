// JSON lines as byte ranges of the chunks they arrive in, split as Node's readline splits them
// (crlfDelay: Infinity): at LF, CRLF or a lone CR; a last line without a break still counts. No
// string is made for a line, so `copybook encode` can read a record's values from the bytes.

export interface LineBatch {
  /** The bytes the lines are in; valid until the next batch is requested. */
  readonly buf: Buffer;
  /** Start and end (exclusive, line break left out) of each line, in pairs. */
  readonly ranges: readonly number[];
}

export async function* splitLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<LineBatch> {
  let carry: Buffer | undefined;
  for await (const chunk of source) {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Only the tail of one unfinished line is carried into the next chunk.
    const buf = carry === undefined ? c : Buffer.concat([carry, c]);
    const ranges: number[] = [];
    let pos = 0;
    let nl = buf.indexOf(10, 0);
    let cr = buf.indexOf(13, 0);
    for (;;) {
      if (cr >= 0 && (nl < 0 || cr < nl)) {
        // A CR at the very end: whether an LF follows is in the next chunk.
        if (cr + 1 === buf.length) break;
        ranges.push(pos, cr);
        pos = cr + 1;
        if (buf[pos] === 10) {
          pos++;
          nl = buf.indexOf(10, pos);
        }
        cr = buf.indexOf(13, pos);
      } else if (nl >= 0) {
        ranges.push(pos, nl);
        pos = nl + 1;
        nl = buf.indexOf(10, pos);
      } else {
        break;
      }
    }
    if (ranges.length > 0) yield { buf, ranges };
    carry = pos < buf.length ? buf.subarray(pos) : undefined;
  }
  if (carry !== undefined) {
    const end = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
    yield { buf: carry, ranges: [0, end] };
  }
}

/** The line is empty or only whitespace, as String.prototype.trim sees it (copybook encode skips it). */
export function isBlankLine(buf: Buffer, start: number, end: number): boolean {
  if (start === end) return true;
  if (buf[start] === 123) return false;
  return buf.toString('utf8', start, end).trim() === '';
}
