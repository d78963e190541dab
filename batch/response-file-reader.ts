import type { CodePage } from '../copybooks/code-page';
import type { Currency } from '../domain/money';
import { BatchError } from './batch-errors';
import { formatMinor } from './control-totals';
import { fixedRecords } from './fixed-records';
import { recordTypeOf } from './mainframe-codec';
import { decodeResponseDetail, type ResponseDetail } from './response-detail-record';
import { decodeResponseHeader, type ResponseHeader } from './response-header-record';
import { decodeResponseTrailer, type ResponseTrailer } from './response-trailer-record';

// Reads the mainframe's response with constant memory and validates it: structure, the trailer's counts
// against the details, and its posted totals against the request's amounts of the payments answered P
// (`amountOf`, from the hub's record of the request). The caller acts only on a report without problems,
// in a second pass (`onDetail`).

export const RESPONSE_LRECL = 100;

export interface ResponseFileReport {
  readonly file: string;
  readonly header: ResponseHeader | null;
  readonly trailer: ResponseTrailer | null;
  readonly computed: { postedCount: number; rejectedCount: number; postedPen: bigint; postedUsd: bigint };
  readonly problems: readonly BatchError[];
}

export async function readResponseFile(opts: {
  readonly path: string;
  readonly name: string;
  readonly page: CodePage;
  /** The request's amount of a payment; undefined when the payment was not in the request. */
  readonly amountOf?: (paymentId: string) => { currency: Currency; amount: bigint } | undefined;
  readonly onDetail?: (d: ResponseDetail, record: number) => void | Promise<void>;
  readonly maxProblems?: number;
}): Promise<ResponseFileReport> {
  const problems: BatchError[] = [];
  const max = opts.maxProblems ?? 100;
  const problem = (e: BatchError): void => {
    if (problems.length < max) problems.push(e);
  };
  const computed = { postedCount: 0, rejectedCount: 0, postedPen: 0n, postedUsd: 0n };
  let header: ResponseHeader | null = null;
  let trailer: ResponseTrailer | null = null;
  let trailerAt = { record: 0, offset: 0 };
  let lastRecord = 0;
  let lastOffset = 0;
  const seen = new Set<string>();
  try {
    for await (const r of fixedRecords(opts.path, RESPONSE_LRECL, opts.name)) {
      lastRecord = r.record;
      lastOffset = r.offset;
      const where = { file: opts.name, record: r.record, offset: r.offset };
      const type = recordTypeOf(r.bytes, opts.page);
      try {
        if (trailer) {
          problem(new BatchError('RECORD_TYPE', 'a record follows the trailer', { ...where, field: 'REC-TYPE' }));
        } else if (r.record === 1) {
          if (type === 'H') header = decodeResponseHeader(r.bytes, opts.page, where);
          else
            problem(new BatchError('HEADER_MISSING', `the first record is type ${JSON.stringify(type)}, not H`, where));
        } else if (type === 'D') {
          const d = decodeResponseDetail(r.bytes, opts.page, where);
          const at = { ...where, field: 'PAYMENT-ID', paymentId: d.paymentId };
          if (seen.has(d.paymentId)) problem(new BatchError('DUPLICATE_PAYMENT', 'the payment is answered twice', at));
          seen.add(d.paymentId);
          const request = opts.amountOf ? opts.amountOf(d.paymentId) : undefined;
          if (opts.amountOf && !request) {
            problem(new BatchError('UNKNOWN_PAYMENT', 'the payment is not in the request this file answers', at));
          }
          if (d.result === 'P') {
            computed.postedCount += 1;
            if (request?.currency === 'PEN') computed.postedPen += request.amount;
            if (request?.currency === 'USD') computed.postedUsd += request.amount;
          } else computed.rejectedCount += 1;
          await opts.onDetail?.(d, r.record);
        } else if (type === 'T') {
          trailer = decodeResponseTrailer(r.bytes, opts.page, where);
          trailerAt = { record: r.record, offset: r.offset };
        } else {
          problem(
            new BatchError('RECORD_TYPE', `unknown record type ${JSON.stringify(type)}`, {
              ...where,
              field: 'REC-TYPE',
            }),
          );
        }
      } catch (err) {
        if (err instanceof BatchError) problem(err);
        else throw err;
      }
    }
  } catch (err) {
    if (err instanceof BatchError) problem(err);
    else throw err;
  }
  if (!trailer) {
    problem(
      new BatchError('TRAILER_MISSING', 'the file has no trailer record', {
        file: opts.name,
        record: lastRecord,
        offset: lastOffset,
      }),
    );
  } else {
    // Byte offsets of the trailer's fields (response-trailer-record.ts): a mismatch points at the figure.
    const offsets = { 'POSTED-COUNT': 1, 'REJECTED-COUNT': 10, 'POSTED-PEN': 19, 'POSTED-USD': 28 } as const;
    const at = (field: keyof typeof offsets): { file: string; record: number; offset: number; field: string } => ({
      file: opts.name,
      record: trailerAt.record,
      offset: trailerAt.offset + offsets[field],
      field,
    });
    for (const [field, s, c] of [
      ['POSTED-COUNT', trailer.postedCount, computed.postedCount],
      ['REJECTED-COUNT', trailer.rejectedCount, computed.rejectedCount],
    ] as const) {
      if (s !== c) {
        problem(
          new BatchError('COUNT_MISMATCH', `${field} differs from the details`, {
            ...at(field),
            stated: String(s),
            computed: String(c),
          }),
        );
      }
    }
    if (opts.amountOf) {
      for (const [field, s, c] of [
        ['POSTED-PEN', trailer.postedPen, computed.postedPen],
        ['POSTED-USD', trailer.postedUsd, computed.postedUsd],
      ] as const) {
        if (s !== c) {
          problem(
            new BatchError('TOTAL_MISMATCH', `${field} differs from the request amounts of the posted details`, {
              ...at(field),
              stated: formatMinor(s),
              computed: formatMinor(c),
            }),
          );
        }
      }
    }
  }
  return { file: opts.name, header, trailer, computed, problems };
}
