import type { CodePage } from '../copybooks/code-page';
import { BatchError } from './batch-errors';
import { recordCodec } from './mainframe-codec';
import { digitsField, textField } from './record-values';

// Header of the mainframe's response, copybooks/mainframe/lhub-rsp-header.cpy (LRECL 100):
//   1 REC-TYPE 'H' | 2-45 FILE-NAME X(44) of the request answered | 46 FILE-STATUS A|R
//   47-50 FILE-REASON X(4) | 51-64 PROCESSED-AT 9(14) | 65-100 FILLER

export interface ResponseHeader {
  readonly requestName: string;
  readonly status: 'A' | 'R';
  /** Spaces (empty) when accepted. */
  readonly reason: string;
  /** YYYYMMDDHHMMSS */
  readonly processedAt: string;
}

export function encodeResponseHeader(h: ResponseHeader, page: CodePage): Uint8Array {
  return recordCodec('lhub-rsp-header', page).encode({
    'REC-TYPE': 'H',
    'FILE-NAME': h.requestName,
    'FILE-STATUS': h.status,
    'FILE-REASON': h.reason,
    'PROCESSED-AT': h.processedAt,
  });
}

export function decodeResponseHeader(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): ResponseHeader {
  const r = recordCodec('lhub-rsp-header', page).decode(bytes, where);
  const status = textField(r, 'FILE-STATUS');
  if (status !== 'A' && status !== 'R') {
    throw new BatchError('RECORD_INVALID', `FILE-STATUS must be A or R, got ${JSON.stringify(status)}`, {
      ...where,
      offset: where.offset + 45,
      field: 'FILE-STATUS',
    });
  }
  return {
    requestName: textField(r, 'FILE-NAME'),
    status,
    reason: textField(r, 'FILE-REASON'),
    processedAt: digitsField(r, 'PROCESSED-AT').padStart(14, '0'),
  };
}
