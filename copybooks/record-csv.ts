import type { Layout, LayoutNode } from './copybook-layout';
import type { DecodedRecord, DecodedValue } from './record-decoder';

// CSV view of decoded records: one column per named field, tables expanded to their maximum
// (NAME(1), NAME(2)...), every REDEFINES view included; absent values are empty cells.

interface Column {
  readonly header: string;
  readonly get: (r: DecodedRecord) => string | undefined;
}

export interface CsvFormatter {
  readonly kind: 'csv-formatter';
  readonly header: string;
  row(record: DecodedRecord): string;
}

function child(v: DecodedValue | undefined, key: string): DecodedValue | undefined {
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v[key] : undefined;
}

function columnsOf(
  nodes: readonly LayoutNode[],
  prefix: string,
  get: (r: DecodedRecord) => DecodedValue | undefined,
  out: Column[],
): void {
  for (const n of nodes) {
    if (n.filler) continue;
    const name = prefix === '' ? n.name : `${prefix}.${n.name}`;
    const self = (r: DecodedRecord): DecodedValue | undefined => child(get(r), n.name);
    const count = n.occurs?.max ?? 0;
    const items: { header: string; get: (r: DecodedRecord) => DecodedValue | undefined }[] =
      count === 0
        ? [{ header: name, get: self }]
        : Array.from({ length: count }, (_, i) => ({
            header: `${name}(${i + 1})`,
            get: (r: DecodedRecord) => {
              const a = self(r);
              return Array.isArray(a) ? a[i] : undefined;
            },
          }));
    for (const it of items) {
      if (n.kind === 'group') columnsOf(n.children, it.header, it.get, out);
      else
        out.push({
          header: it.header,
          get: (r) => {
            const v = it.get(r);
            return typeof v === 'string' ? v : undefined;
          },
        });
    }
  }
}

function cell(v: string | undefined): string {
  if (v === undefined) return '';
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function createCsvFormatter(layout: Layout, root: 'auto' | 'keep' = 'auto'): CsvFormatter {
  const columns: Column[] = [];
  const roots = layout.roots;
  const first = roots[0];
  if (root === 'auto' && roots.length === 1 && first?.kind === 'group')
    columnsOf(first.children, '', (r) => r, columns);
  else columnsOf(roots, '', (r) => r, columns);
  return Object.freeze({
    kind: 'csv-formatter' as const,
    header: columns.map((c) => cell(c.header)).join(','),
    row: (record: DecodedRecord) => columns.map((c) => cell(c.get(record))).join(','),
  });
}
