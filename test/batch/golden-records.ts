import { spawnSync } from 'node:child_process';
import type { RequestDetail } from '../../batch/request-detail-record';
import type { RequestHeader } from '../../batch/request-header-record';
import type { RequestTrailer } from '../../batch/request-trailer-record';
import type { ResponseDetail } from '../../batch/response-detail-record';
import type { ResponseHeader } from '../../batch/response-header-record';
import type { ResponseTrailer } from '../../batch/response-trailer-record';

// Expected bytes of the mainframe records built without the hub's encoder: text through the system's
// iconv binary (glibc's IBM037/IBM500/IBM1140 tables), zoned digits as 0xF0-0xF9, COMP-3 written out as
// nibbles by hand (IBM Enterprise COBOL: two digits a byte, the sign C or D in the last nibble). Each
// builder follows the positions of the table (copybooks/mainframe/*.cpy), one segment a field.

export type IconvName = 'IBM037' | 'IBM500' | 'IBM1140';

const converted = new Map<string, Buffer>();

/** Text in an EBCDIC page, left-justified and space-padded to `len` (a longer text is a test bug). */
export function ebcdicText(text: string, len: number, iconv: IconvName): Buffer {
  if ([...text].length > len) throw new Error(`${JSON.stringify(text)} is longer than ${len}`);
  const key = `${iconv}\u0000${len}\u0000${text}`;
  const known = converted.get(key);
  if (known) return known;
  const r = spawnSync('iconv', ['-f', 'UTF-8', '-t', iconv], { input: Buffer.from(text.padEnd(len, ' '), 'utf8') });
  if (r.status !== 0) throw new Error(`iconv -t ${iconv} failed: ${r.stderr.toString()}`);
  if (r.stdout.length !== len) throw new Error(`iconv gave ${r.stdout.length} bytes for ${len} characters`);
  converted.set(key, r.stdout);
  return r.stdout;
}

/** Unsigned zoned decimal (zone F): the digits exactly as given, one byte each. */
export function zoned(digits: string): Buffer {
  if (!/^\d+$/.test(digits)) throw new Error(`not digits: ${digits}`);
  return Buffer.from([...digits].map((d) => 0xf0 + Number(d)));
}

/** COMP-3 from its nibbles written out, e.g. '000000000012550C' for +125.50 in S9(13)V99. */
export function packed(nibbles: string): Buffer {
  if (!/^\d+[CD]$/.test(nibbles) || nibbles.length % 2 !== 0) throw new Error(`not packed nibbles: ${nibbles}`);
  return Buffer.from(nibbles, 'hex');
}

/** One record made of its fields' bytes; checks the record length. */
export function record(lrecl: number, parts: readonly Buffer[]): Buffer {
  const out = Buffer.concat(parts);
  if (out.length !== lrecl) throw new Error(`record is ${out.length} bytes, not ${lrecl}`);
  return out;
}

// The sample night: three payments of the cash core, one USD; one rejected by the mainframe. The channel
// reference of the first holds characters that sit on different bytes in 037 and 500 ([ ] ! | ^).

export const SAMPLE_REQUEST_NAME = 'LHUB.PAY.CSH.D261123.S01';
export const SAMPLE_RESPONSE_NAME = 'LHUB.RSP.CSH.D261123.S01';

export const sampleHeader: RequestHeader = {
  fileName: SAMPLE_REQUEST_NAME,
  core: 'cash',
  businessDate: '2026-11-23',
  sequence: 1,
  createdAt: '20261123233512',
};

export const sampleDetails: readonly RequestDetail[] = [
  {
    paymentId: '0190a000-0000-7000-8000-000000000001',
    receiptNumber: 'A-20261123-000000001',
    channel: 'app',
    channelReference: 'APP-7731 [caja 2] !|^',
    loanNumber: '100000000017',
    currency: 'PEN',
    amount: 12550n,
    appliedAt: '20261123101500',
    coreReference: 'CSH-REF-000001',
  },
  {
    paymentId: '0190a000-0000-7000-8000-000000000002',
    receiptNumber: 'S-20261123-000000002',
    channel: 'stores',
    channelReference: 'TDA/0042#9',
    loanNumber: '100000000025',
    currency: 'PEN',
    amount: 1n,
    appliedAt: '20261123180203',
    coreReference: 'CSH-REF-000002',
  },
  {
    paymentId: '0190a000-0000-7000-8000-000000000003',
    receiptNumber: 'G-20261123-000000003',
    channel: 'agents',
    channelReference: 'AG-99',
    loanNumber: '100000000033',
    currency: 'USD',
    amount: 123456789n,
    appliedAt: '20261123221959',
    coreReference: 'CSH-REF-000003',
  },
];

export const sampleTrailer: RequestTrailer = {
  recordCount: 3,
  totalPen: 12551n,
  totalUsd: 123456789n,
  hashTotal: 300000000075n,
};

export function requestHeaderBytes(cp: IconvName): Buffer {
  return record(200, [
    ebcdicText('H', 1, cp),
    ebcdicText(SAMPLE_REQUEST_NAME, 44, cp),
    ebcdicText('CSH', 3, cp),
    zoned('20261123'),
    zoned('01'),
    zoned('20261123233512'),
    ebcdicText('', 128, cp),
  ]);
}

/** The three sample details, in order. */
export function requestDetailBytes(cp: IconvName): Buffer[] {
  return [
    record(200, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000001', 36, cp),
      ebcdicText('A-20261123-000000001', 20, cp),
      ebcdicText('APP', 6, cp),
      ebcdicText('APP-7731 [caja 2] !|^', 40, cp),
      zoned('100000000017'),
      ebcdicText('PEN', 3, cp),
      packed('000000000012550C'),
      zoned('20261123101500'),
      ebcdicText('CSH-REF-000001', 24, cp),
      ebcdicText('', 36, cp),
    ]),
    record(200, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000002', 36, cp),
      ebcdicText('S-20261123-000000002', 20, cp),
      ebcdicText('STORES', 6, cp),
      ebcdicText('TDA/0042#9', 40, cp),
      zoned('100000000025'),
      ebcdicText('PEN', 3, cp),
      packed('000000000000001C'),
      zoned('20261123180203'),
      ebcdicText('CSH-REF-000002', 24, cp),
      ebcdicText('', 36, cp),
    ]),
    record(200, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000003', 36, cp),
      ebcdicText('G-20261123-000000003', 20, cp),
      ebcdicText('AGENTS', 6, cp),
      ebcdicText('AG-99', 40, cp),
      zoned('100000000033'),
      ebcdicText('USD', 3, cp),
      packed('000000123456789C'),
      zoned('20261123221959'),
      ebcdicText('CSH-REF-000003', 24, cp),
      ebcdicText('', 36, cp),
    ]),
  ];
}

export function requestTrailerBytes(cp: IconvName): Buffer {
  return record(200, [
    ebcdicText('T', 1, cp),
    zoned('000000003'),
    packed('00000000000012551C'),
    packed('00000000123456789C'),
    zoned('000000300000000075'),
    ebcdicText('', 154, cp),
  ]);
}

export function requestFileBytes(cp: IconvName): Buffer {
  return Buffer.concat([requestHeaderBytes(cp), ...requestDetailBytes(cp), requestTrailerBytes(cp)]);
}

export const sampleResponseHeader: ResponseHeader = {
  requestName: SAMPLE_REQUEST_NAME,
  status: 'A',
  reason: '',
  processedAt: '20261124043001',
};

export const sampleResponseDetails: readonly ResponseDetail[] = [
  { paymentId: '0190a000-0000-7000-8000-000000000001', result: 'P', reason: '', postingReference: 'GL00000000000001' },
  { paymentId: '0190a000-0000-7000-8000-000000000002', result: 'R', reason: 'ACCT', postingReference: '' },
  { paymentId: '0190a000-0000-7000-8000-000000000003', result: 'P', reason: '', postingReference: 'GL00000000000002' },
];

export const sampleResponseTrailer: ResponseTrailer = {
  postedCount: 2,
  rejectedCount: 1,
  postedPen: 12550n,
  postedUsd: 123456789n,
};

export function responseHeaderBytes(cp: IconvName): Buffer {
  return record(100, [
    ebcdicText('H', 1, cp),
    ebcdicText(SAMPLE_REQUEST_NAME, 44, cp),
    ebcdicText('A', 1, cp),
    ebcdicText('', 4, cp),
    zoned('20261124043001'),
    ebcdicText('', 36, cp),
  ]);
}

export function responseDetailBytes(cp: IconvName): Buffer[] {
  return [
    record(100, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000001', 36, cp),
      ebcdicText('P', 1, cp),
      ebcdicText('', 4, cp),
      ebcdicText('GL00000000000001', 16, cp),
      ebcdicText('', 42, cp),
    ]),
    record(100, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000002', 36, cp),
      ebcdicText('R', 1, cp),
      ebcdicText('ACCT', 4, cp),
      ebcdicText('', 16, cp),
      ebcdicText('', 42, cp),
    ]),
    record(100, [
      ebcdicText('D', 1, cp),
      ebcdicText('0190a000-0000-7000-8000-000000000003', 36, cp),
      ebcdicText('P', 1, cp),
      ebcdicText('', 4, cp),
      ebcdicText('GL00000000000002', 16, cp),
      ebcdicText('', 42, cp),
    ]),
  ];
}

export function responseTrailerBytes(cp: IconvName): Buffer {
  return record(100, [
    ebcdicText('T', 1, cp),
    zoned('000000002'),
    zoned('000000001'),
    packed('00000000000012550C'),
    packed('00000000123456789C'),
    ebcdicText('', 63, cp),
  ]);
}

export function responseFileBytes(cp: IconvName): Buffer {
  return Buffer.concat([responseHeaderBytes(cp), ...responseDetailBytes(cp), responseTrailerBytes(cp)]);
}
