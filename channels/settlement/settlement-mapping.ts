import { z } from 'zod';
import { CHANNELS, type Channel } from '../../domain/channel';
import agents from './agents.json';
import app from './app.json';
import atm from './atm.json';
import stores from './stores.json';
import web from './web.json';

// How each channel's settlement file is laid out: reviewed JSON beside this file, one per channel,
// checked when a command that reads settlement files starts (every problem of every file at once).
// The agents' layout is fixed by the network (issue 10); atm, stores, app and web are ours
// (docs/reconciliation.md).

export const SETTLEMENT_ENCODINGS = ['utf8', 'latin1'] as const;
export type SettlementEncoding = (typeof SETTLEMENT_ENCODINGS)[number];
export const DATE_FORMATS = ['DD/MM/YYYY', 'YYYY-MM-DD', 'YYYYMMDD'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const mappingSchema = z.strictObject({
  $comment: z.string().optional(),
  channel: z.enum(CHANNELS),
  encoding: z.enum(SETTLEMENT_ENCODINGS),
  /** Whether the channel's UTF-8 file starts with a byte-order mark (the reader takes either). */
  bom: z.boolean(),
  delimiter: z.string().length(1),
  lineEnding: z.enum(['CRLF', 'LF']),
  header: z.array(z.string().min(1)).min(1),
  dateFormat: z.enum(DATE_FORMATS),
  decimalSeparator: z.enum(['.', ',']),
  fields: z.strictObject({
    businessDate: z.string().min(1),
    loanNumber: z.string().min(1),
    currency: z.string().min(1),
    amount: z.string().min(1),
  }),
  /** The channel reference built from columns: `AG{AGENTE}-{OPERACION}`. */
  reference: z.string().regex(/\{[^{}]+\}/, 'names at least one {COLUMN}'),
  patterns: z.record(z.string(), z.string()),
});

export interface SettlementMapping {
  readonly channel: Channel;
  readonly encoding: SettlementEncoding;
  readonly bom: boolean;
  readonly delimiter: string;
  readonly lineEnding: 'CRLF' | 'LF';
  readonly header: readonly string[];
  readonly dateFormat: DateFormat;
  readonly decimalSeparator: '.' | ',';
  readonly fields: {
    readonly businessDate: string;
    readonly loanNumber: string;
    readonly currency: string;
    readonly amount: string;
  };
  readonly reference: string;
  /** Column name -> anchored pattern its value must match. */
  readonly patterns: ReadonlyMap<string, RegExp>;
  /** Column name -> index in a line. */
  readonly index: ReadonlyMap<string, number>;
  /** The columns the reference template names, in order. */
  readonly referenceColumns: readonly string[];
}

export class SettlementMappingError extends Error {
  readonly code = 'settlement_mapping_invalid';
  constructor(readonly problems: readonly string[]) {
    super(`settlement mappings are invalid:\n  ${problems.join('\n  ')}`);
  }
}

const BUILT_IN: Readonly<Record<Channel, unknown>> = { app, web, agents, atm, stores };

function check(file: string, raw: unknown, problems: string[]): SettlementMapping | undefined {
  const parsed = mappingSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    return undefined;
  }
  const m = parsed.data;
  const index = new Map(m.header.map((h, i) => [h, i] as const));
  if (index.size !== m.header.length) problems.push(`${file}: header: a column name appears twice`);
  for (const [key, column] of Object.entries(m.fields)) {
    if (!index.has(column)) problems.push(`${file}: fields.${key}: column ${column} is not in the header`);
  }
  const referenceColumns = [...m.reference.matchAll(/\{([^{}]+)\}/g)].map((x) => x[1] ?? '');
  for (const c of referenceColumns) {
    if (!index.has(c)) problems.push(`${file}: reference: column ${c} is not in the header`);
  }
  const patterns = new Map<string, RegExp>();
  for (const [column, source] of Object.entries(m.patterns)) {
    if (!index.has(column)) problems.push(`${file}: patterns.${column}: not a column of the header`);
    if (!source.startsWith('^') || !source.endsWith('$')) {
      problems.push(`${file}: patterns.${column}: must be anchored (^…$)`);
    }
    try {
      patterns.set(column, new RegExp(source));
    } catch (err) {
      problems.push(`${file}: patterns.${column}: ${(err as Error).message}`);
    }
  }
  if (m.header.some((h) => h.includes(m.delimiter))) problems.push(`${file}: header: a name contains the delimiter`);
  if (m.bom && m.encoding !== 'utf8') problems.push(`${file}: bom: only a UTF-8 file has a byte-order mark`);
  return Object.freeze({ ...m, patterns, index, referenceColumns });
}

/** Every channel's mapping, checked; throws one error listing every problem of every file. */
export function loadSettlementMappings(
  sources: Readonly<Partial<Record<Channel, unknown>>> = BUILT_IN,
): ReadonlyMap<Channel, SettlementMapping> {
  const problems: string[] = [];
  const out = new Map<Channel, SettlementMapping>();
  for (const channel of CHANNELS) {
    const raw = sources[channel];
    if (raw === undefined) continue;
    const file = `channels/settlement/${channel}.json`;
    const m = check(file, raw, problems);
    if (m && m.channel !== channel) problems.push(`${file}: channel is ${m.channel}, expected ${channel}`);
    else if (m) out.set(channel, m);
  }
  if (problems.length > 0) throw new SettlementMappingError(problems);
  return out;
}

export function settlementMapping(channel: Channel): SettlementMapping {
  const m = loadSettlementMappings().get(channel);
  if (!m) throw new SettlementMappingError([`no settlement mapping for channel ${channel}`]);
  return m;
}
