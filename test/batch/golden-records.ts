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

/** A text field: converted with the record's other text fields in one iconv call. */
export interface TextPart {
  readonly text: string;
  readonly len: number;
}
export type Part = Buffer | TextPart;

export function text(value: string, len: number): TextPart {
  if ([...value].length > len) throw new Error(`${JSON.stringify(value)} is longer than ${len}`);
  return { text: value, len };
}

/**
 * Records made of their fields' bytes, checked for length. The text fields of all the records go through
 * one iconv call (each character of these pages is one byte, so the output splits back by length).
 */
export function records(lrecl: number, cp: IconvName, parts: readonly (readonly Part[])[]): Buffer[] {
  const texts = parts.flat().filter((p): p is TextPart => !Buffer.isBuffer(p));
  const all = ebcdicText(
    texts.map((t) => t.text.padEnd(t.len, ' ')).join(''),
    texts.reduce((n, t) => n + t.len, 0),
    cp,
  );
  let at = 0;
  return parts.map((fields) => {
    const out = Buffer.concat(
      fields.map((f) => {
        if (Buffer.isBuffer(f)) return f;
        at += f.len;
        return all.subarray(at - f.len, at);
      }),
    );
    if (out.length !== lrecl) throw new Error(`record is ${out.length} bytes, not ${lrecl}`);
    return out;
  });
}

function one(lrecl: number, cp: IconvName, parts: readonly Part[]): Buffer {
  const [r] = records(lrecl, cp, [parts]);
  if (!r) throw new Error('no record');
  return r;
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
  return one(200, cp, [
    text('H', 1),
    text(SAMPLE_REQUEST_NAME, 44),
    text('CSH', 3),
    zoned('20261123'),
    zoned('01'),
    zoned('20261123233512'),
    text('', 128),
  ]);
}

/** The three sample details, in order. */
export function requestDetailBytes(cp: IconvName): Buffer[] {
  return records(200, cp, [
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000001', 36),
      text('A-20261123-000000001', 20),
      text('APP', 6),
      text('APP-7731 [caja 2] !|^', 40),
      zoned('100000000017'),
      text('PEN', 3),
      packed('000000000012550C'),
      zoned('20261123101500'),
      text('CSH-REF-000001', 24),
      text('', 36),
    ],
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000002', 36),
      text('S-20261123-000000002', 20),
      text('STORES', 6),
      text('TDA/0042#9', 40),
      zoned('100000000025'),
      text('PEN', 3),
      packed('000000000000001C'),
      zoned('20261123180203'),
      text('CSH-REF-000002', 24),
      text('', 36),
    ],
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000003', 36),
      text('G-20261123-000000003', 20),
      text('AGENTS', 6),
      text('AG-99', 40),
      zoned('100000000033'),
      text('USD', 3),
      packed('000000123456789C'),
      zoned('20261123221959'),
      text('CSH-REF-000003', 24),
      text('', 36),
    ],
  ]);
}

export function requestTrailerBytes(cp: IconvName): Buffer {
  return one(200, cp, [
    text('T', 1),
    zoned('000000003'),
    packed('00000000000012551C'),
    packed('00000000123456789C'),
    zoned('000000300000000075'),
    text('', 154),
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
  return one(100, cp, [
    text('H', 1),
    text(SAMPLE_REQUEST_NAME, 44),
    text('A', 1),
    text('', 4),
    zoned('20261124043001'),
    text('', 36),
  ]);
}

export function responseDetailBytes(cp: IconvName): Buffer[] {
  return records(100, cp, [
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000001', 36),
      text('P', 1),
      text('', 4),
      text('GL00000000000001', 16),
      text('', 42),
    ],
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000002', 36),
      text('R', 1),
      text('ACCT', 4),
      text('', 16),
      text('', 42),
    ],
    [
      text('D', 1),
      text('0190a000-0000-7000-8000-000000000003', 36),
      text('P', 1),
      text('', 4),
      text('GL00000000000002', 16),
      text('', 42),
    ],
  ]);
}

export function responseTrailerBytes(cp: IconvName): Buffer {
  return one(100, cp, [
    text('T', 1),
    zoned('000000002'),
    zoned('000000001'),
    packed('00000000000012550C'),
    packed('00000000123456789C'),
    text('', 63),
  ]);
}

export function responseFileBytes(cp: IconvName): Buffer {
  return Buffer.concat([responseHeaderBytes(cp), ...responseDetailBytes(cp), responseTrailerBytes(cp)]);
}
