import { createHash } from 'node:crypto';
import type { CodePage } from '../copybooks/code-page';
import { openAtomicFile } from '../copybooks/atomic-file-writer';
import { BatchError } from './batch-errors';
import { addDetail, emptyTotals, type ControlTotals } from './control-totals';
import { encodeRequestDetail, type RequestDetail } from './request-detail-record';
import { encodeRequestHeader, type RequestHeader } from './request-header-record';
import { encodeRequestTrailer, type RequestTrailer } from './request-trailer-record';

// Writes a posting request file: header, the details as they stream from the store (in payment-id
// order, checked), and a trailer whose totals are computed from the records written. The file appears
// under its name only when complete (temp file, fsync, rename); a failure leaves nothing behind.

export interface WrittenFile {
  readonly trailer: RequestTrailer;
  readonly sha256: string;
  readonly size: number;
}

export async function writeRequestFile(opts: {
  readonly target: string;
  readonly header: RequestHeader;
  readonly details: AsyncIterable<readonly RequestDetail[]>;
  readonly page: CodePage;
  /** Expected totals (from the store's row): a difference aborts the write and names both figures. */
  readonly expected?: Partial<RequestTrailer>;
  readonly onProgress?: (records: number) => void;
}): Promise<WrittenFile> {
  const out = await openAtomicFile(opts.target);
  const hash = createHash('sha256');
  let size = 0;
  const put = async (bytes: Uint8Array): Promise<void> => {
    hash.update(bytes);
    size += bytes.length;
    const pending = out.write(bytes);
    if (pending) await pending;
  };
  try {
    await put(encodeRequestHeader(opts.header, opts.page));
    const totals: ControlTotals = emptyTotals();
    let last = '';
    for await (const batch of opts.details) {
      for (const d of batch) {
        if (d.paymentId <= last) {
          throw new BatchError('DUPLICATE_PAYMENT', 'details must be in strictly ascending payment-id order', {
            file: opts.header.fileName,
            record: totals.recordCount + 2,
            paymentId: d.paymentId,
          });
        }
        last = d.paymentId;
        await put(encodeRequestDetail(d, opts.page));
        addDetail(totals, d);
      }
      opts.onProgress?.(totals.recordCount);
    }
    const trailer: RequestTrailer = { ...totals };
    checkExpected(opts.header.fileName, trailer, opts.expected);
    await put(encodeRequestTrailer(trailer, opts.page));
    await out.commit();
    return { trailer, sha256: hash.digest('hex'), size };
  } catch (err) {
    await out.abort();
    throw err;
  }
}

function checkExpected(file: string, t: RequestTrailer, expected: Partial<RequestTrailer> | undefined): void {
  if (!expected) return;
  const pairs: Array<[string, bigint | number, bigint | number | undefined]> = [
    ['RECORD-COUNT', t.recordCount, expected.recordCount],
    ['TOTAL-PEN', t.totalPen, expected.totalPen],
    ['TOTAL-USD', t.totalUsd, expected.totalUsd],
    ['HASH-TOTAL', t.hashTotal, expected.hashTotal],
  ];
  for (const [field, computed, stated] of pairs) {
    if (stated !== undefined && BigInt(stated) !== BigInt(computed)) {
      throw new BatchError('TOTAL_MISMATCH', 'the records written do not add up to the totals recorded for the file', {
        file,
        field,
        stated: String(stated),
        computed: String(computed),
      });
    }
  }
}
