import type { CodePage } from '../copybooks/code-page';
import { BatchError } from './batch-errors';
import { addDetail, emptyTotals, formatMinor, type ControlTotals } from './control-totals';
import { fixedRecords } from './fixed-records';
import { recordTypeOf } from './mainframe-codec';
import { decodeRequestDetail, type RequestDetail } from './request-detail-record';
import { decodeRequestHeader, type RequestHeader } from './request-header-record';
import { decodeRequestTrailer, type RequestTrailer } from './request-trailer-record';

// Reads a posting request file (the hub's own, archived, or one an operator holds) with constant
// memory: parse every record, keep going past a bad one, then validate the structure and the control
// totals. Every problem is returned, located in the file; nothing acts on a file with problems.

export const REQUEST_LRECL = 200;

export interface RequestFileReport {
  readonly file: string;
  readonly header: RequestHeader | null;
  readonly trailer: RequestTrailer | null;
  readonly computed: ControlTotals;
  readonly problems: readonly BatchError[];
}

export async function readRequestFile(opts: {
  readonly path: string;
  readonly name: string;
  readonly page: CodePage;
  readonly onDetail?: (d: RequestDetail, record: number) => void;
  /** Stop collecting after this many problems (the count is still exact in the summary). */
  readonly maxProblems?: number;
}): Promise<RequestFileReport> {
  const problems: BatchError[] = [];
  const max = opts.maxProblems ?? 100;
  const problem = (e: BatchError): void => {
    if (problems.length < max) problems.push(e);
  };
  const computed = emptyTotals();
  let header: RequestHeader | null = null;
  let trailer: RequestTrailer | null = null;
  let trailerAt = { record: 0, offset: 0 };
  let lastRecord = 0;
  let lastOffset = 0;
  let lastId = '';
  try {
    for await (const r of fixedRecords(opts.path, REQUEST_LRECL, opts.name)) {
      lastRecord = r.record;
      lastOffset = r.offset;
      const where = { file: opts.name, record: r.record, offset: r.offset };
      const type = recordTypeOf(r.bytes, opts.page);
      try {
        if (trailer) {
          problem(new BatchError('RECORD_TYPE', 'a record follows the trailer', { ...where, field: 'REC-TYPE' }));
          continue;
        }
        if (r.record === 1) {
          if (type !== 'H') {
            problem(new BatchError('HEADER_MISSING', `the first record is type ${JSON.stringify(type)}, not H`, where));
          } else header = decodeRequestHeader(r.bytes, opts.page, where);
          if (type === 'H') continue;
        }
        if (type === 'D') {
          const d = decodeRequestDetail(r.bytes, opts.page, where);
          if (d.paymentId <= lastId) {
            problem(
              new BatchError(
                d.paymentId === lastId ? 'DUPLICATE_PAYMENT' : 'RECORD_TYPE',
                d.paymentId === lastId ? 'the payment appears twice' : 'details are not in payment-id order',
                { ...where, field: 'PAYMENT-ID', paymentId: d.paymentId },
              ),
            );
          }
          lastId = d.paymentId;
          addDetail(computed, d);
          opts.onDetail?.(d, r.record);
        } else if (type === 'T') {
          trailer = decodeRequestTrailer(r.bytes, opts.page, where);
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
    compareTotals(opts.name, trailerAt, trailer, computed, problem);
  }
  if (header && header.fileName !== opts.name && opts.name.startsWith('LHUB.')) {
    problem(
      new BatchError('NAME_MISMATCH', `the header names ${header.fileName}`, {
        file: opts.name,
        record: 1,
        field: 'FILE-NAME',
      }),
    );
  }
  return { file: opts.name, header, trailer, computed, problems };
}

// Byte offsets of the trailer's fields within the record (request-trailer-record.ts), so a mismatch
// points at the stated figure itself.
const TRAILER_FIELD_OFFSETS = { 'RECORD-COUNT': 1, 'TOTAL-PEN': 10, 'TOTAL-USD': 19, 'HASH-TOTAL': 28 } as const;

function compareTotals(
  file: string,
  trailerAt: { record: number; offset: number },
  stated: RequestTrailer,
  computed: ControlTotals,
  problem: (e: BatchError) => void,
): void {
  const at = (
    field: keyof typeof TRAILER_FIELD_OFFSETS,
  ): { file: string; record: number; offset: number; field: string } => ({
    file,
    record: trailerAt.record,
    offset: trailerAt.offset + TRAILER_FIELD_OFFSETS[field],
    field,
  });
  if (stated.recordCount !== computed.recordCount) {
    problem(
      new BatchError('COUNT_MISMATCH', 'RECORD-COUNT differs from the details in the file', {
        ...at('RECORD-COUNT'),
        stated: String(stated.recordCount),
        computed: String(computed.recordCount),
      }),
    );
  }
  for (const [field, s, c] of [
    ['TOTAL-PEN', stated.totalPen, computed.totalPen],
    ['TOTAL-USD', stated.totalUsd, computed.totalUsd],
  ] as const) {
    if (s !== c) {
      problem(
        new BatchError('TOTAL_MISMATCH', `${field} differs from the sum of the details`, {
          ...at(field),
          stated: formatMinor(s),
          computed: formatMinor(c),
        }),
      );
    }
  }
  if (stated.hashTotal !== computed.hashTotal) {
    problem(
      new BatchError('HASH_MISMATCH', 'HASH-TOTAL differs from the sum of the loan numbers', {
        ...at('HASH-TOTAL'),
        stated: stated.hashTotal.toString(),
        computed: computed.hashTotal.toString(),
      }),
    );
  }
}
