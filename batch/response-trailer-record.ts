import type { CodePage } from '../copybooks/code-page';
import { recordCodec } from './mainframe-codec';
import { decimalFromMinor, digitsField, minorFromDecimal, textField } from './record-values';

// Trailer of the mainframe's response, copybooks/mainframe/lhub-rsp-trailer.cpy (LRECL 100):
//   1 REC-TYPE 'T' | 2-10 POSTED-COUNT 9(9) | 11-19 REJECTED-COUNT 9(9)
//   20-28 POSTED-PEN S9(15)V99 COMP-3 | 29-37 POSTED-USD S9(15)V99 COMP-3 | 38-100 FILLER

export interface ResponseTrailer {
  readonly postedCount: number;
  readonly rejectedCount: number;
  /** Minor units: the request AMOUNT of the details answered P. */
  readonly postedPen: bigint;
  readonly postedUsd: bigint;
}

export function encodeResponseTrailer(t: ResponseTrailer, page: CodePage): Uint8Array {
  return recordCodec('lhub-rsp-trailer', page).encode({
    'REC-TYPE': 'T',
    'POSTED-COUNT': String(t.postedCount),
    'REJECTED-COUNT': String(t.rejectedCount),
    'POSTED-PEN': decimalFromMinor(t.postedPen),
    'POSTED-USD': decimalFromMinor(t.postedUsd),
  });
}

export function decodeResponseTrailer(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): ResponseTrailer {
  const r = recordCodec('lhub-rsp-trailer', page).decode(bytes, where);
  return {
    postedCount: Number(digitsField(r, 'POSTED-COUNT')),
    rejectedCount: Number(digitsField(r, 'REJECTED-COUNT')),
    postedPen: minorFromDecimal(textField(r, 'POSTED-PEN'), {
      ...where,
      offset: where.offset + 19,
      field: 'POSTED-PEN',
    }),
    postedUsd: minorFromDecimal(textField(r, 'POSTED-USD'), {
      ...where,
      offset: where.offset + 28,
      field: 'POSTED-USD',
    }),
  };
}
