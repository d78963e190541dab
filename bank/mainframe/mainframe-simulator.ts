import fs from 'node:fs';
import path from 'node:path';
import type { CodePage } from '../../copybooks/code-page';
import { mainframeLayout, type MainframeCopybook } from '../../copybooks/mainframe-copybooks';
import { createRecordDecoder, type DecodedRecord } from '../../copybooks/record-decoder';
import { createRecordEncoder } from '../../copybooks/record-encoder';
import { openMainframeLedger, type LedgerFile, type LedgerPosting, type MainframeLedger } from './mainframe-ledger';

// A simulated bank mainframe for the nightly posting files: it watches DIR/inbound for request files
// that have their `.OK` trigger, checks them as the bank's batch job would (LRECL, record types, trailer
// count, totals and hash, file name, sequence not seen before), posts each detail to its ledger and
// writes the response to DIR/outbound the safe way (temporary name, rename, trigger). Deterministic:
// details of a --reject-loan are rejected (ACCT), a payment it posted before is rejected (DUPL),
// everything else is posted; --refuse-next-file refuses the next file as a whole.

export interface MainframeSimulatorOptions {
  readonly dir: string;
  readonly ledgerFile: string;
  readonly page: CodePage;
  readonly rejectLoans?: readonly string[];
  readonly refuseNextFile?: string;
  readonly pollMs?: number;
  readonly now?: () => Date;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface MainframeSimulator {
  readonly ledger: MainframeLedger;
  /** Processes every triggered request not seen yet; returns the response names written. */
  processOnce(): Promise<string[]>;
  /** Refuses the next file as a whole with this reason (a drill). */
  refuseNextFile(reason: string): void;
  close(): Promise<void>;
}

const REQUEST_LRECL = 200;
const REQUEST = /^LHUB\.PAY\.(CSH|MTG|VEH)\.D(\d{6})\.S(\d{2})$/;

export function startMainframeSimulator(opts: MainframeSimulatorOptions): MainframeSimulator {
  const inbound = path.join(opts.dir, 'inbound');
  const outbound = path.join(opts.dir, 'outbound');
  fs.mkdirSync(inbound, { recursive: true });
  fs.mkdirSync(outbound, { recursive: true });
  const ledger = openMainframeLedger(opts.ledgerFile);
  const rejectLoans = new Set((opts.rejectLoans ?? []).map((l) => l.padStart(12, '0')));
  let refuseNext: string | undefined = opts.refuseNextFile;
  const log = opts.log ?? ((): void => undefined);
  const now = opts.now ?? ((): Date => new Date());
  const dec = (name: MainframeCopybook): ((b: Uint8Array) => DecodedRecord | null) => {
    const d = createRecordDecoder(mainframeLayout(name), { codePage: opts.page });
    return (b) => {
      const out = d.decodeAll(b);
      return out.errors.length === 0 ? out.value : null;
    };
  };
  const decodeHeader = dec('lhub-pay-header');
  const decodeDetail = dec('lhub-pay-detail');
  const decodeTrailer = dec('lhub-pay-trailer');
  const encoders = {
    header: createRecordEncoder(mainframeLayout('lhub-rsp-header'), { codePage: opts.page }),
    detail: createRecordEncoder(mainframeLayout('lhub-rsp-detail'), { codePage: opts.page }),
    trailer: createRecordEncoder(mainframeLayout('lhub-rsp-trailer'), { codePage: opts.page }),
  };
  const typeOf = (b: Uint8Array): string => String.fromCharCode(opts.page.toUnicode[b[0] ?? 0] ?? 0);

  const processFile = (name: string): string => {
    const m = REQUEST.exec(name);
    const file = path.join(inbound, name);
    const details: { paymentId: string; loanNumber: string; currency: string; amount: string }[] = [];
    let reason = '';
    const bytes = fs.readFileSync(file);
    if (!m) reason = 'NAME';
    else if (bytes.length === 0 || bytes.length % REQUEST_LRECL !== 0) reason = 'LREC';
    else if (ledger.sequencesOf(`${m[1]}.${m[2]}`).has(Number(m[3]))) reason = 'SEQD';
    else {
      const n = bytes.length / REQUEST_LRECL;
      const rec = (i: number): Uint8Array => bytes.subarray(i * REQUEST_LRECL, (i + 1) * REQUEST_LRECL);
      const header = typeOf(rec(0)) === 'H' ? decodeHeader(rec(0)) : null;
      const trailer = n >= 2 && typeOf(rec(n - 1)) === 'T' ? decodeTrailer(rec(n - 1)) : null;
      if (!header || !trailer) reason = 'RTYP';
      else if (header['FILE-NAME'] !== name) reason = 'NAME';
      else {
        let pen = 0n;
        let usd = 0n;
        let hash = 0n;
        for (let i = 1; i < n - 1 && !reason; i += 1) {
          const d = typeOf(rec(i)) === 'D' ? decodeDetail(rec(i)) : null;
          if (!d) {
            reason = 'RTYP';
            break;
          }
          const amount = String(d.AMOUNT);
          const minor = BigInt(amount.replace('.', ''));
          if (d.CURRENCY === 'PEN') pen += minor;
          else if (d.CURRENCY === 'USD') usd += minor;
          else reason = 'CURR';
          hash = (hash + BigInt(String(d['LOAN-NUMBER']))) % 10n ** 18n;
          details.push({
            paymentId: String(d['PAYMENT-ID']),
            loanNumber: String(d['LOAN-NUMBER']).padStart(12, '0'),
            currency: String(d.CURRENCY),
            amount,
          });
        }
        const minorOf = (v: unknown): bigint => BigInt(String(v).replace('.', ''));
        if (reason) {
          // set above
        } else if (Number(trailer['RECORD-COUNT']) !== details.length) reason = 'CNT ';
        else if (minorOf(trailer['TOTAL-PEN']) !== pen || minorOf(trailer['TOTAL-USD']) !== usd) reason = 'TOTL';
        else if (BigInt(String(trailer['HASH-TOTAL'])) !== hash) reason = 'HASH';
      }
    }
    if (!reason && refuseNext !== undefined) {
      reason = refuseNext;
      refuseNext = undefined;
    }
    const stamp = timestamp(now());
    const records: Uint8Array[] = [];
    const entries: (LedgerPosting | LedgerFile)[] = [];
    let posted = 0;
    let rejected = 0;
    let postedPen = 0n;
    let postedUsd = 0n;
    if (!reason) {
      const seen = new Set<string>();
      for (const d of details) {
        let result: 'P' | 'R' = 'P';
        let why = '';
        let ref = '';
        if (rejectLoans.has(d.loanNumber)) [result, why] = ['R', 'ACCT'];
        else if (ledger.postings.has(d.paymentId) || seen.has(d.paymentId)) [result, why] = ['R', 'DUPL'];
        else {
          ref = ledger.nextPostingRef();
          entries.push({
            kind: 'posting',
            paymentId: d.paymentId,
            postingRef: ref,
            file: name,
            amount: d.amount,
            currency: d.currency,
            loanNumber: d.loanNumber,
          });
        }
        seen.add(d.paymentId);
        if (result === 'P') {
          posted += 1;
          const minor = BigInt(d.amount.replace('.', ''));
          if (d.currency === 'PEN') postedPen += minor;
          else postedUsd += minor;
        } else rejected += 1;
        records.push(
          Uint8Array.from(
            encoders.detail.encode({
              'REC-TYPE': 'D',
              'PAYMENT-ID': d.paymentId,
              RESULT: result,
              REASON: why,
              'POSTING-REF': ref,
            }),
          ),
        );
      }
    }
    const headerBytes = Uint8Array.from(
      encoders.header.encode({
        'REC-TYPE': 'H',
        'FILE-NAME': name.slice(0, 44),
        'FILE-STATUS': reason ? 'R' : 'A',
        'FILE-REASON': reason,
        'PROCESSED-AT': stamp,
      }),
    );
    const trailerBytes = Uint8Array.from(
      encoders.trailer.encode({
        'REC-TYPE': 'T',
        'POSTED-COUNT': String(posted),
        'REJECTED-COUNT': String(rejected),
        'POSTED-PEN': fmt(postedPen),
        'POSTED-USD': fmt(postedUsd),
      }),
    );
    const response = name.replace(/^LHUB\.PAY\./, 'LHUB.RSP.');
    const rspName = REQUEST.test(name) ? response : `LHUB.RSP.UNKNOWN.${name}`.slice(0, 44);
    const temp = path.join(outbound, `.${rspName}.part`);
    const fd = fs.openSync(temp, 'w');
    try {
      for (const r of [headerBytes, ...records, trailerBytes]) fs.writeSync(fd, r);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // The ledger is written before the response appears: a crash in between re-answers the file as a
    // sequence seen before instead of posting twice.
    entries.push({ kind: 'file', name, status: reason ? 'R' : 'A', reason, posted, rejected });
    ledger.record(entries);
    fs.renameSync(temp, path.join(outbound, rspName));
    fs.writeFileSync(path.join(outbound, `${rspName}.OK`), '');
    log(reason ? 'file refused' : 'file posted', { file: name, reason: reason || undefined, posted, rejected });
    return rspName;
  };

  const processOnce = async (): Promise<string[]> => {
    const names = fs.readdirSync(inbound);
    const present = new Set(names);
    const written: string[] = [];
    for (const trigger of names.filter((n) => n.endsWith('.OK')).sort()) {
      const name = trigger.slice(0, -3);
      if (!present.has(name) || ledger.files.has(name)) continue;
      written.push(processFile(name));
    }
    return written;
  };

  let timer: NodeJS.Timeout | null = null;
  let busy = false;
  const loop = (): void => {
    timer = setTimeout(() => {
      if (busy) return loop();
      busy = true;
      processOnce()
        .catch((err: unknown) =>
          log('error while processing', { err: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => {
          busy = false;
          if (timer) loop();
        });
    }, opts.pollMs ?? 500);
  };
  loop();
  return {
    ledger,
    processOnce,
    refuseNextFile: (reason) => {
      refuseNext = reason;
    },
    close: async () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

function fmt(minor: bigint): string {
  return `${(minor / 100n).toString()}.${(minor % 100n).toString().padStart(2, '0')}`;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
