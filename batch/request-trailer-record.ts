import type { CodePage } from '../copybooks/code-page';
import { recordCodec } from './mainframe-codec';
import { decimalFromMinor, digitsField, minorFromDecimal, textField } from './record-values';

// Trailer of the posting request, copybooks/mainframe/lhub-pay-trailer.cpy (LRECL 200):
//   1 REC-TYPE 'T' | 2-10 RECORD-COUNT 9(9) | 11-19 TOTAL-PEN S9(15)V99 COMP-3
//   20-28 TOTAL-USD S9(15)V99 COMP-3 | 29-46 HASH-TOTAL 9(18) | 47-200 FILLER

export interface RequestTrailer {
  readonly recordCount: number;
  /** Minor units. */
  readonly totalPen: bigint;
  readonly totalUsd: bigint;
  /** Sum of the details' LOAN-NUMBER modulo 10^18. */
  readonly hashTotal: bigint;
}

export const HASH_MODULUS = 10n ** 18n;

export function encodeRequestTrailer(t: RequestTrailer, page: CodePage): Uint8Array {
  return recordCodec('lhub-pay-trailer', page).encode({
    'REC-TYPE': 'T',
    'RECORD-COUNT': String(t.recordCount),
    'TOTAL-PEN': decimalFromMinor(t.totalPen),
    'TOTAL-USD': decimalFromMinor(t.totalUsd),
    'HASH-TOTAL': t.hashTotal.toString(),
  });
}

export function decodeRequestTrailer(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): RequestTrailer {
  const r = recordCodec('lhub-pay-trailer', page).decode(bytes, where);
  return {
    recordCount: Number(digitsField(r, 'RECORD-COUNT')),
    totalPen: minorFromDecimal(textField(r, 'TOTAL-PEN'), { ...where, offset: where.offset + 10, field: 'TOTAL-PEN' }),
    totalUsd: minorFromDecimal(textField(r, 'TOTAL-USD'), { ...where, offset: where.offset + 19, field: 'TOTAL-USD' }),
    hashTotal: BigInt(digitsField(r, 'HASH-TOTAL')),
  };
}
