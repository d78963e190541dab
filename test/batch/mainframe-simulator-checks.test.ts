import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMainframeSimulator, type MainframeSimulator } from '../../bank/mainframe/mainframe-simulator';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import type { ResponseDetail } from '../../batch/response-detail-record';
import { readResponseFile } from '../../batch/response-file-reader';
import { SAMPLE_REQUEST_NAME, SAMPLE_RESPONSE_NAME, sampleDetails } from './golden-records';

// The simulated mainframe checks a request file as the bank's batch job would before posting anything:
// LRECL, record types, the trailer's count, totals and hash. A file that fails is refused as a whole
// with its reason and posts nothing; a good one is posted detail by detail to a ledger that survives a
// restart, so a file is never posted twice. Tampered copies of the hand-built fixture.

const page = mainframeCodePage('cp037');
const request = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'batch', `${SAMPLE_REQUEST_NAME}.cp037`));
let work: string;
const running: MainframeSimulator[] = [];

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-mf-checks-'));
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function simulator(opts: { rejectLoans?: string[]; refuseNextFile?: string } = {}): MainframeSimulator {
  const s = startMainframeSimulator({
    dir: path.join(work, 'dir'),
    ledgerFile: path.join(work, 'ledger.jsonl'),
    page,
    pollMs: 60_000, // the test drives it with processOnce
    ...opts,
  });
  running.push(s);
  return s;
}

function drop(bytes: Buffer, name = SAMPLE_REQUEST_NAME): void {
  const inbound = path.join(work, 'dir', 'inbound');
  fs.mkdirSync(inbound, { recursive: true });
  fs.writeFileSync(path.join(inbound, name), bytes);
  fs.writeFileSync(path.join(inbound, `${name}.OK`), '');
}

/** The response's header status and reason, and its details, as the hub would read them. */
async function answer(
  s: MainframeSimulator,
): Promise<{ status: string; reason: string; details: ResponseDetail[]; problems: string[] }> {
  expect(await s.processOnce()).toEqual([SAMPLE_RESPONSE_NAME]);
  const outbound = path.join(work, 'dir', 'outbound');
  expect(fs.readdirSync(outbound).sort()).toEqual([SAMPLE_RESPONSE_NAME, `${SAMPLE_RESPONSE_NAME}.OK`]);
  const details: ResponseDetail[] = [];
  const report = await readResponseFile({
    path: path.join(outbound, SAMPLE_RESPONSE_NAME),
    name: SAMPLE_RESPONSE_NAME,
    page,
    onDetail: (d) => {
      details.push(d);
    },
  });
  return {
    status: report.header?.status ?? '',
    reason: report.header?.reason.trim() ?? '',
    details,
    problems: report.problems.map((p) => p.describe()),
  };
}

test('a sound file is posted detail by detail; a --reject-loan detail is rejected ACCT', async () => {
  const rejected = sampleDetails[1];
  if (!rejected) throw new Error('fixture has no second detail');
  const s = simulator({ rejectLoans: [rejected.loanNumber] });
  drop(request);
  const got = await answer(s);
  expect(got).toMatchObject({ status: 'A', reason: '', problems: [] });
  expect(got.details.map((d) => [d.paymentId, d.result, d.reason])).toEqual(
    sampleDetails.map((d) => [d.paymentId, d === rejected ? 'R' : 'P', d === rejected ? 'ACCT' : '']),
  );
  expect([...s.ledger.postings.keys()].sort()).toEqual(
    sampleDetails.filter((d) => d !== rejected).map((d) => d.paymentId),
  );
});

// Each tampering, and the reason the file is refused with. Offsets: 200-byte records, detail 1 is
// record 2 (offset 200), the trailer record 5 (offset 800).
const tamperings: [string, string, (b: Buffer) => Buffer][] = [
  [
    'an amount changed (AMOUNT of detail 1, a COMP-3 digit)',
    'TOTL',
    (b) => {
      const at = 200 + 118 + 6;
      b[at] = ((b[at] ?? 0) & 0x0f) | (((((b[at] ?? 0) >> 4) + 1) % 10) << 4);
      return b;
    },
  ],
  [
    'a loan number changed (a zoned digit of LOAN-NUMBER of detail 1)',
    'HASH',
    (b) => {
      const at = 200 + 103 + 11;
      b[at] = 0xf0 | ((((b[at] ?? 0) & 0x0f) + 1) % 10);
      return b;
    },
  ],
  ['a detail dropped', 'CNT', (b) => Buffer.concat([b.subarray(0, 400), b.subarray(600)])],
  ['a file cut short (not whole 200-byte records)', 'LREC', (b) => b.subarray(0, b.length - 50)],
  ['no trailer', 'RTYP', (b) => b.subarray(0, 800)],
];

test.each(tamperings)('%s: refused %s as a whole, nothing posted', async (_what, reason, tamper) => {
  const s = simulator();
  drop(tamper(Buffer.from(request)));
  const got = await answer(s);
  expect(got).toMatchObject({ status: 'R', reason, details: [], problems: [] });
  expect(s.ledger.postings.size).toBe(0);
});

test('--refuse-next-file refuses one file; a restarted simulator knows what it posted and posts nothing twice', async () => {
  const first = simulator({ refuseNextFile: 'TEST' });
  drop(request);
  expect(await answer(first)).toMatchObject({ status: 'R', reason: 'TEST', details: [] });
  await first.close();

  // The hub resends the same payments under S02 (the refused S01 is not answered again).
  const s02 = Buffer.from(request);
  // The header's FILE-NAME (positions 2-45, its last character at offset 24) and SEQUENCE (57-58) say S02.
  expect([s02[24], s02[57]]).toEqual([0xf1, 0xf1]);
  s02[24] = 0xf2;
  s02[57] = 0xf2;
  fs.rmSync(path.join(work, 'dir', 'outbound'), { recursive: true, force: true });
  const restarted = simulator();
  drop(s02, 'LHUB.PAY.CSH.D261123.S02');
  const written = await restarted.processOnce();
  expect(written).toEqual(['LHUB.RSP.CSH.D261123.S02']);
  expect(restarted.ledger.postings.size).toBe(sampleDetails.length);

  // Restarted again on the same ledger: both files are known, nothing is processed or posted again.
  await restarted.close();
  const again = simulator();
  expect(await again.processOnce()).toEqual([]);
  expect(again.ledger.postings.size).toBe(sampleDetails.length);
  expect([...again.ledger.files.values()].map((f) => [f.name, f.status, f.reason])).toEqual([
    [SAMPLE_REQUEST_NAME, 'R', 'TEST'],
    ['LHUB.PAY.CSH.D261123.S02', 'A', ''],
  ]);
});
