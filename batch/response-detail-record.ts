import type { CodePage } from '../copybooks/code-page';
import { BatchError } from './batch-errors';
import { recordCodec } from './mainframe-codec';
import { textField } from './record-values';

// Detail of the mainframe's response, one per payment, copybooks/mainframe/lhub-rsp-detail.cpy (LRECL 100):
//   1 REC-TYPE 'D' | 2-37 PAYMENT-ID X(36) | 38 RESULT P|R | 39-42 REASON X(4)
//   43-58 POSTING-REF X(16) | 59-100 FILLER

export interface ResponseDetail {
  readonly paymentId: string;
  readonly result: 'P' | 'R';
  readonly reason: string;
  readonly postingReference: string;
}

export function encodeResponseDetail(d: ResponseDetail, page: CodePage): Uint8Array {
  return recordCodec('lhub-rsp-detail', page).encode({
    'REC-TYPE': 'D',
    'PAYMENT-ID': d.paymentId,
    RESULT: d.result,
    REASON: d.reason,
    'POSTING-REF': d.postingReference,
  });
}

export function decodeResponseDetail(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): ResponseDetail {
  const r = recordCodec('lhub-rsp-detail', page).decode(bytes, where);
  const result = textField(r, 'RESULT');
  if (result !== 'P' && result !== 'R') {
    throw new BatchError('RECORD_INVALID', `RESULT must be P or R, got ${JSON.stringify(result)}`, {
      ...where,
      offset: where.offset + 37,
      field: 'RESULT',
    });
  }
  return {
    paymentId: textField(r, 'PAYMENT-ID'),
    result,
    reason: textField(r, 'REASON'),
    postingReference: textField(r, 'POSTING-REF'),
  };
}
