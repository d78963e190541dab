import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse, type Info } from 'csv-parse';
import iconv from 'iconv-lite';
import type { SettlementMapping } from '../channels/settlement/settlement-mapping';
import { isLoanNumber } from '../domain/core-routing';
import { isCurrency, parseAmount, type Currency } from '../domain/money';

// Reads a channel's settlement file in its mapping's layout: bytes -> text (UTF-8 with or without a BOM,
// or Latin-1) -> csv-parse records -> typed lines. Streams; keeps going past a bad line and reports each
// with its line number, the field, the value and why (STYLE habit 5: parse, then validate, then act).

export const SETTLEMENT_PROBLEM_CODES = [
  'settlement_header_mismatch',
  'settlement_unreadable_line',
  'settlement_column_count',
  'settlement_date_invalid',
  'settlement_field_invalid',
  'settlement_loan_invalid',
  'settlement_currency_invalid',
  'settlement_amount_invalid',
] as const;
export type SettlementProblemCode = (typeof SETTLEMENT_PROBLEM_CODES)[number];

export interface SettlementProblem {
  readonly file: string;
  readonly line: number;
  readonly code: SettlementProblemCode;
  readonly field: string | null;
  readonly value: string | null;
  readonly reason: string;
}

export interface SettlementLine {
  readonly line: number;
  readonly businessDate: string;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly currency: Currency;
  readonly amount: bigint;
  /** The line's fields as the channel wrote them (evidence). */
  readonly raw: string;
}

export interface SettlementReadSummary {
  readonly lines: number;
  readonly good: number;
  readonly bad: number;
}

const MAX_AMOUNT = 10n ** 15n;

export function describeProblem(p: SettlementProblem): string {
  const where = p.field ? ` field ${p.field}` : '';
  const value = p.value !== null ? ` value ${JSON.stringify(p.value)}` : '';
  return `${p.file}: line ${p.line}${where}${value}: ${p.reason} (${p.code})`;
}

/** SHA-256 of the file's bytes: the same file imported twice is recognised by it. */
export async function fileSha256(path: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(path), hash);
  return hash.digest('hex');
}

export function parseSettlementDate(text: string, format: SettlementMapping['dateFormat']): string | undefined {
  let m: RegExpExecArray | null;
  let iso: string;
  switch (format) {
    case 'DD/MM/YYYY':
      m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
      if (!m) return undefined;
      iso = `${m[3]}-${m[2]}-${m[1]}`;
      break;
    case 'YYYY-MM-DD':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
      iso = text;
      break;
    case 'YYYYMMDD':
      m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
      if (!m) return undefined;
      iso = `${m[1]}-${m[2]}-${m[3]}`;
      break;
    default: {
      const never: never = format;
      throw new Error(`unknown date format ${String(never)}`);
    }
  }
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : undefined;
}

export function formatSettlementDate(iso: string, format: SettlementMapping['dateFormat']): string {
  const [y, m, d] = iso.split('-');
  switch (format) {
    case 'DD/MM/YYYY':
      return `${d}/${m}/${y}`;
    case 'YYYY-MM-DD':
      return iso;
    case 'YYYYMMDD':
      return `${y}${m}${d}`;
    default: {
      const never: never = format;
      throw new Error(`unknown date format ${String(never)}`);
    }
  }
}

/** An amount in the channel's notation: digits, its decimal separator, at most two decimals, no grouping. */
export function parseSettlementAmount(text: string, separator: '.' | ','): bigint | string {
  const other = separator === ',' ? '.' : ',';
  if (text.includes(other)) return `has "${other}": the decimal separator is "${separator}" and no grouping is allowed`;
  const parsed = parseAmount(text.replace(separator, '.'), MAX_AMOUNT);
  return parsed.ok ? parsed.value : parsed.detail;
}

export function formatSettlementAmount(minor: bigint, separator: '.' | ','): string {
  const whole = minor / 100n;
  const cents = (minor % 100n).toString().padStart(2, '0');
  return `${whole.toString()}${separator}${cents}`;
}

/**
 * Reads every line of `path` in `mapping`'s layout; good lines go to `onLine` (awaited, so a caller can
 * write them in batches), problems to `onProblem`. The header is the first line.
 */
export async function readSettlementFile(opts: {
  readonly path: string;
  readonly name: string;
  readonly mapping: SettlementMapping;
  readonly onLine: (line: SettlementLine) => void | Promise<void>;
  readonly onProblem: (problem: SettlementProblem) => void;
}): Promise<SettlementReadSummary> {
  const { mapping: m, name } = opts;
  let lines = 0;
  let good = 0;
  let bad = 0;
  const problem = (
    line: number,
    code: SettlementProblemCode,
    field: string | null,
    value: string | null,
    reason: string,
  ): void => {
    opts.onProblem({ file: name, line, code, field, value, reason });
  };
  const parser = parse({
    delimiter: m.delimiter,
    bom: true,
    info: true,
    quote: false,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      const line = (err as { lines?: number } | undefined)?.lines ?? lines + 1;
      bad += 1;
      problem(line, 'settlement_unreadable_line', null, null, err?.message ?? 'unreadable line');
    },
  });
  const source = fs.createReadStream(opts.path).pipe(iconv.decodeStream(m.encoding === 'latin1' ? 'latin1' : 'utf8'));
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  let headerSeen = false;
  for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
    const fields = item.record.map((f) => f.trim());
    const lineNo = item.info.lines;
    if (!headerSeen) {
      headerSeen = true;
      if (fields.join('\u0000') !== m.header.join('\u0000')) {
        problem(
          lineNo,
          'settlement_header_mismatch',
          null,
          fields.join(m.delimiter),
          `expected the header ${m.header.join(m.delimiter)}`,
        );
        bad += 1;
      }
      continue;
    }
    lines += 1;
    const ok = checkLine(fields, lineNo, m, (code, field, value, reason) =>
      problem(lineNo, code, field, value, reason),
    );
    if (ok) {
      good += 1;
      await opts.onLine(ok);
    } else {
      bad += 1;
    }
  }
  return { lines, good, bad };
}

type Report = (code: SettlementProblemCode, field: string | null, value: string | null, reason: string) => void;

function checkLine(
  fields: readonly string[],
  line: number,
  m: SettlementMapping,
  report: Report,
): SettlementLine | null {
  if (fields.length !== m.header.length) {
    report(
      'settlement_column_count',
      null,
      fields.join(m.delimiter),
      `has ${fields.length} fields, expected ${m.header.length}`,
    );
    return null;
  }
  const col = (name: string): string => fields[m.index.get(name) ?? -1] ?? '';
  let failed = false;
  const fail: Report = (...args) => {
    failed = true;
    report(...args);
  };
  for (const [column, pattern] of m.patterns) {
    if (!pattern.test(col(column)))
      fail('settlement_field_invalid', column, col(column), `does not match ${pattern.source}`);
  }
  const dateText = col(m.fields.businessDate);
  const businessDate = parseSettlementDate(dateText, m.dateFormat);
  if (!businessDate)
    fail('settlement_date_invalid', m.fields.businessDate, dateText, `is not a date in ${m.dateFormat}`);
  const loanNumber = col(m.fields.loanNumber);
  if (!isLoanNumber(loanNumber))
    fail('settlement_loan_invalid', m.fields.loanNumber, loanNumber, 'is not a 12-digit loan number');
  const currency = col(m.fields.currency);
  if (!isCurrency(currency)) fail('settlement_currency_invalid', m.fields.currency, currency, 'is not PEN or USD');
  const amountText = col(m.fields.amount);
  const amount = parseSettlementAmount(amountText, m.decimalSeparator);
  if (typeof amount === 'string') fail('settlement_amount_invalid', m.fields.amount, amountText, amount);
  if (failed || !businessDate || !isCurrency(currency) || typeof amount === 'string') return null;
  const channelReference = m.reference.replace(/\{([^{}]+)\}/g, (_, c: string) => col(c));
  return { line, businessDate, channelReference, loanNumber, currency, amount, raw: fields.join(m.delimiter) };
}
