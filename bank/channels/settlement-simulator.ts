import fs from 'node:fs';
import iconv from 'iconv-lite';
import type { SettlementMapping } from '../../channels/settlement/settlement-mapping';
import type { Currency } from '../../domain/money';
import { formatSettlementAmount, formatSettlementDate } from '../../recon/settlement-file-reader';

// The channel's side: a collecting channel (agents, ATMs, stores…) writing the settlement file it sends
// the bank every morning, in its own layout, from what it collected. Drills make it wrong the ways
// real files are wrong: a payment left out, one the hub never saw, a changed amount, a line twice, a
// line dated the next day, lines that cannot be read.

export interface CollectedPayment {
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
}

export interface SettlementDrills {
  /** Channel references to leave out. */
  readonly omit?: readonly string[];
  /** How many lines to add for payments the hub never saw. */
  readonly extra?: number;
  /** Channel reference -> the amount (minor units) the channel writes instead. */
  readonly changeAmount?: ReadonlyMap<string, bigint>;
  /** Channel references whose line is written twice. */
  readonly duplicate?: readonly string[];
  /** Channel references whose line carries the next business date (collected after the cutoff). */
  readonly nextDay?: readonly string[];
  /** How many unreadable lines to add at the end. */
  readonly broken?: number;
}

export interface WrittenSettlement {
  readonly lines: number;
  readonly extraReferences: readonly string[];
}

/** Splits a channel reference into the columns of the mapping's template (`AG{AGENTE}-{OPERACION}`). */
export function referenceColumns(mapping: SettlementMapping, reference: string): Map<string, string> | undefined {
  const parts = mapping.reference.split(/\{[^{}]+\}/);
  const pattern = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.*?)');
  const m = new RegExp(`^${pattern}$`).exec(reference);
  if (!m) return undefined;
  return new Map(mapping.referenceColumns.map((c, i) => [c, m[i + 1] ?? ''] as const));
}

function nextDate(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A reference the hub never issued: the template's last column's trailing digits replaced by 9s and a count. */
function unknownReference(mapping: SettlementMapping, sample: string, n: number): string {
  const cols = referenceColumns(mapping, sample);
  const last = mapping.referenceColumns[mapping.referenceColumns.length - 1];
  if (!cols || last === undefined) throw new Error(`cannot build a reference from ${sample}`);
  const value = cols.get(last) ?? '';
  const digits = /\d+$/.exec(value)?.[0] ?? '';
  const width = Math.max(digits.length, 4);
  const replaced = `9${String(n).padStart(width - 1, '9')}`.slice(-width);
  cols.set(last, value.slice(0, value.length - digits.length) + replaced);
  return mapping.reference.replace(/\{([^{}]+)\}/g, (_, c: string) => cols.get(c) ?? '');
}

export async function writeSettlementFile(opts: {
  readonly mapping: SettlementMapping;
  readonly businessDate: string;
  readonly payments: AsyncIterable<readonly CollectedPayment[]>;
  readonly out: string;
  readonly drills?: SettlementDrills;
}): Promise<WrittenSettlement> {
  const m = opts.mapping;
  const d = opts.drills ?? {};
  const eol = m.lineEnding === 'CRLF' ? '\r\n' : '\n';
  const fd = fs.openSync(opts.out, 'w');
  let lines = 0;
  const extraReferences: string[] = [];
  const write = (text: string): void => {
    fs.writeSync(fd, iconv.encode(text, m.encoding === 'latin1' ? 'latin1' : 'utf8'));
  };
  const lineOf = (p: CollectedPayment, date: string, amount: bigint): string => {
    const cols = referenceColumns(m, p.channelReference);
    if (!cols) throw new Error(`reference ${p.channelReference} does not fit the layout ${m.reference}`);
    cols.set(m.fields.businessDate, formatSettlementDate(date, m.dateFormat));
    cols.set(m.fields.loanNumber, p.loanNumber);
    cols.set(m.fields.currency, p.currency);
    cols.set(m.fields.amount, formatSettlementAmount(amount, m.decimalSeparator));
    return m.header.map((h) => cols.get(h) ?? '').join(m.delimiter) + eol;
  };
  try {
    const bom = m.bom ? '\uFEFF' : '';
    write(bom + m.header.join(m.delimiter) + eol);
    let sample: CollectedPayment | undefined;
    for await (const page of opts.payments) {
      let chunk = '';
      for (const p of page) {
        sample ??= p;
        if (d.omit?.includes(p.channelReference)) continue;
        const date = d.nextDay?.includes(p.channelReference) ? nextDate(opts.businessDate) : opts.businessDate;
        const line = lineOf(p, date, d.changeAmount?.get(p.channelReference) ?? p.amount);
        chunk += line;
        lines += 1;
        if (d.duplicate?.includes(p.channelReference)) {
          chunk += line;
          lines += 1;
        }
      }
      write(chunk);
    }
    for (let i = 1; i <= (d.extra ?? 0); i++) {
      if (!sample) throw new Error('no payment collected: nothing to model an extra line on');
      const ref = unknownReference(m, sample.channelReference, i);
      extraReferences.push(ref);
      write(lineOf({ ...sample, channelReference: ref, amount: 1234n }, opts.businessDate, 1234n));
      lines += 1;
    }
    for (let i = 1; i <= (d.broken ?? 0); i++) {
      const fields = m.header.map((_, j) => (j === 0 ? 'not-a-date' : 'x'));
      write((i % 2 === 0 ? fields.slice(0, 2) : fields).join(m.delimiter) + eol);
      lines += 1;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { lines, extraReferences };
}
