import type { Core } from '../domain/channel';

// Dataset names of the mainframe files: LHUB.PAY.<CSH|MTG|VEH>.D<yymmdd>.S<nn> for the hub's requests,
// LHUB.RSP.… for the mainframe's answer to the request of the same core, date and sequence.

export const CORE_CODES: Readonly<Record<Core, 'CSH' | 'MTG' | 'VEH'>> = Object.freeze({
  cash: 'CSH',
  mortgage: 'MTG',
  vehicle: 'VEH',
});

export type CoreCode = (typeof CORE_CODES)[Core];

export function coreOfCode(code: string): Core | undefined {
  for (const [core, c] of Object.entries(CORE_CODES)) if (c === code) return core as Core;
  return undefined;
}

export interface DatasetName {
  readonly kind: 'PAY' | 'RSP';
  readonly core: Core;
  /** YYYY-MM-DD */
  readonly businessDate: string;
  readonly sequence: number;
}

export function datasetName(n: DatasetName): string {
  if (!Number.isInteger(n.sequence) || n.sequence < 1 || n.sequence > 99) {
    throw new RangeError(`sequence ${n.sequence} is outside 1..99`);
  }
  const yymmdd = n.businessDate.replaceAll('-', '').slice(2);
  return `LHUB.${n.kind}.${CORE_CODES[n.core]}.D${yymmdd}.S${String(n.sequence).padStart(2, '0')}`;
}

const NAME = /^LHUB\.(PAY|RSP)\.(CSH|MTG|VEH)\.D(\d{2})(\d{2})(\d{2})\.S(\d{2})$/;

/** Parses a dataset name; the century is 20xx (the hub's files start in this century). */
export function parseDatasetName(name: string): DatasetName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const core = coreOfCode(m[2] ?? '');
  const sequence = Number(m[6]);
  if (!core || sequence < 1) return undefined;
  return { kind: m[1] as 'PAY' | 'RSP', core, businessDate: `20${m[3]}-${m[4]}-${m[5]}`, sequence };
}

/** The name of the response that answers a request (and the other way round). */
export function responseNameFor(requestName: string): string {
  return requestName.replace(/^LHUB\.PAY\./, 'LHUB.RSP.');
}

export function requestNameFor(responseName: string): string {
  return responseName.replace(/^LHUB\.RSP\./, 'LHUB.PAY.');
}
