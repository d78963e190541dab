import type { CodePage } from '../copybooks/code-page';
import { isChannel, type Channel } from '../domain/channel';
import { isCurrency, type Currency } from '../domain/money';
import { BatchError } from './batch-errors';
import { recordCodec } from './mainframe-codec';
import { decimalFromMinor, digitsField, minorFromDecimal, textField } from './record-values';

// Detail of the posting request, one per payment, copybooks/mainframe/lhub-pay-detail.cpy (LRECL 200):
//   1 REC-TYPE 'D' | 2-37 PAYMENT-ID X(36) | 38-57 RECEIPT-NUMBER X(20) | 58-63 CHANNEL X(6) upper case
//   64-103 CHANNEL-REF X(40) | 104-115 LOAN-NUMBER 9(12) | 116-118 CURRENCY X(3)
//   119-126 AMOUNT S9(13)V99 COMP-3 | 127-140 APPLIED-AT 9(14) bank time | 141-164 CORE-REF X(24)
//   165-200 FILLER

export interface RequestDetail {
  readonly paymentId: string;
  readonly receiptNumber: string;
  readonly channel: Channel;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  /** Minor units. */
  readonly amount: bigint;
  /** YYYYMMDDHHMMSS in the bank's time zone */
  readonly appliedAt: string;
  readonly coreReference: string;
}

/** Byte offset (0-based) of LOAN-NUMBER and AMOUNT in the record, for error locations. */
export const DETAIL_OFFSETS = Object.freeze({ loanNumber: 103, currency: 115, amount: 118 });

export function encodeRequestDetail(d: RequestDetail, page: CodePage): Uint8Array {
  return recordCodec('lhub-pay-detail', page).encode({
    'REC-TYPE': 'D',
    'PAYMENT-ID': d.paymentId,
    'RECEIPT-NUMBER': d.receiptNumber,
    CHANNEL: d.channel.toUpperCase(),
    'CHANNEL-REF': d.channelReference,
    'LOAN-NUMBER': d.loanNumber,
    CURRENCY: d.currency,
    AMOUNT: decimalFromMinor(d.amount),
    'APPLIED-AT': d.appliedAt,
    'CORE-REF': d.coreReference,
  });
}

export function decodeRequestDetail(
  bytes: Uint8Array,
  page: CodePage,
  where: { file: string; record: number; offset: number },
): RequestDetail {
  const r = recordCodec('lhub-pay-detail', page).decode(bytes, where);
  const channel = textField(r, 'CHANNEL').toLowerCase();
  if (!isChannel(channel)) {
    throw new BatchError('RECORD_INVALID', `unknown CHANNEL ${JSON.stringify(channel.toUpperCase())}`, {
      ...where,
      offset: where.offset + 57,
      field: 'CHANNEL',
    });
  }
  const currency = textField(r, 'CURRENCY');
  if (!isCurrency(currency)) {
    throw new BatchError('RECORD_INVALID', `unknown CURRENCY ${JSON.stringify(currency)}`, {
      ...where,
      offset: where.offset + DETAIL_OFFSETS.currency,
      field: 'CURRENCY',
    });
  }
  return {
    paymentId: textField(r, 'PAYMENT-ID'),
    receiptNumber: textField(r, 'RECEIPT-NUMBER'),
    channel,
    channelReference: textField(r, 'CHANNEL-REF'),
    loanNumber: digitsField(r, 'LOAN-NUMBER').padStart(12, '0'),
    currency,
    amount: minorFromDecimal(textField(r, 'AMOUNT'), {
      ...where,
      offset: where.offset + DETAIL_OFFSETS.amount,
      field: 'AMOUNT',
    }),
    appliedAt: digitsField(r, 'APPLIED-AT').padStart(14, '0'),
    coreReference: textField(r, 'CORE-REF'),
  };
}
