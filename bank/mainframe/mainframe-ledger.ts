import fs from 'node:fs';
import path from 'node:path';

// The simulated mainframe's general ledger: every posting and every file it processed, appended to a
// JSON-lines file so that a restarted simulator still knows what it posted (and refuses a sequence or a
// payment it has seen).

export interface LedgerPosting {
  readonly kind: 'posting';
  readonly paymentId: string;
  readonly postingRef: string;
  readonly file: string;
  readonly amount: string;
  readonly currency: string;
  readonly loanNumber: string;
}

export interface LedgerFile {
  readonly kind: 'file';
  readonly name: string;
  readonly status: 'A' | 'R';
  readonly reason: string;
  readonly posted: number;
  readonly rejected: number;
}

export interface MainframeLedger {
  readonly postings: ReadonlyMap<string, LedgerPosting>;
  readonly files: ReadonlyMap<string, LedgerFile>;
  /** Sequences of accepted or refused files per `<core>.<date>`. */
  sequencesOf(coreAndDate: string): ReadonlySet<number>;
  nextPostingRef(): string;
  record(entries: readonly (LedgerPosting | LedgerFile)[]): void;
}

export function openMainframeLedger(file: string): MainframeLedger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const postings = new Map<string, LedgerPosting>();
  const files = new Map<string, LedgerFile>();
  const sequences = new Map<string, Set<number>>();
  const noteFile = (f: LedgerFile): void => {
    files.set(f.name, f);
    const m = /^LHUB\.PAY\.(\w{3})\.D(\d{6})\.S(\d{2})$/.exec(f.name);
    if (!m) return;
    const key = `${m[1]}.${m[2]}`;
    const set = sequences.get(key) ?? new Set<number>();
    set.add(Number(m[3]));
    sequences.set(key, set);
  };
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as LedgerPosting | LedgerFile;
      if (e.kind === 'posting') postings.set(e.paymentId, e);
      else noteFile(e);
    }
  }
  let counter = postings.size;
  return {
    postings,
    files,
    sequencesOf: (key) => sequences.get(key) ?? new Set<number>(),
    nextPostingRef: () => {
      counter += 1;
      return `GL${String(counter).padStart(14, '0')}`;
    },
    record: (entries) => {
      const fd = fs.openSync(file, 'a');
      try {
        fs.writeSync(fd, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      for (const e of entries) {
        if (e.kind === 'posting') postings.set(e.paymentId, e);
        else noteFile(e);
      }
    },
  };
}
