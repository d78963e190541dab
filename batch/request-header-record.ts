import type { CodePage } from '../copybooks/code-page';
import type { Core } from '../domain/channel';
import { BatchError } from './batch-errors';
import { compactDate, isoDate } from './bank-time';
import { CORE_CODES, coreOfCode } from './dataset-name';
import { recordCodec } from './mainframe-codec';
import { digitsField, textField } from './record-values';

// Header of the posting request, copybooks/mainframe/lhub-pay-header.cpy (LRECL 200):
//   1 REC-TYPE 'H' | 2-45 FILE-NAME X(44) | 46-48 CORE-CODE X(3) | 49-56 BUSINESS-DATE 9(8)
//   57-58 SEQUENCE 9(2) | 59-72 CREATED-AT 9(14) bank time | 73-200 FILLER

export interface RequestHeader {
  readonly fileName: string;
  readonly core: Core;
  /** YYYY-MM-DD */
  readonly businessDate: string;
  readonly sequence: number;
  /** YYYYMMDDHHMMSS in the bank's time zone */
  readonly createdAt: string;
}

export function encodeRequestHeader(h: RequestHeader, page: CodePage): Uint8Array {
  return recordCodec('lhub-pay-header', page).encode({
    'REC-TYPE': 'H',
    'FILE-NAME': h.fileName,
    'CORE-CODE': CORE_CODES[h.core],
    'BUSINESS-DATE': compactDate(h.businessDate),
    SEQUENCE: String(h.sequence),
    'CREATED-AT': h.createdAt,
  });
}

export function decodeRequestHeader(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): RequestHeader {
  const r = recordCodec('lhub-pay-header', page).decode(bytes, where);
  const code = textField(r, 'CORE-CODE');
  const core = coreOfCode(code);
  if (!core) {
    throw new BatchError('RECORD_INVALID', `unknown CORE-CODE ${JSON.stringify(code)}`, {
      ...where,
      offset: where.offset + 45,
      field: 'CORE-CODE',
    });
  }
  return {
    fileName: textField(r, 'FILE-NAME'),
    core,
    businessDate: isoDate(digitsField(r, 'BUSINESS-DATE').padStart(8, '0')),
    sequence: Number(digitsField(r, 'SEQUENCE')),
    createdAt: digitsField(r, 'CREATED-AT').padStart(14, '0'),
  };
}
