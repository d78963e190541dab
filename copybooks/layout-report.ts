import type { Layout, LayoutNode } from './copybook-layout';

// What `loanhub copybook layout` prints: one row per item, 1-based inclusive START/END as COBOL
// listings and Cobrix show them.

export interface LayoutRow {
  readonly path: string;
  readonly level: number;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly length: number;
  readonly usage: string;
  readonly picture?: string;
  readonly digits?: number;
  readonly scale?: number;
  readonly signed?: boolean;
  readonly sign?: string;
  readonly redefines?: string;
  readonly redefinedBy?: readonly string[];
  readonly occurs?: { readonly min: number; readonly max: number; readonly dependingOn?: string };
  readonly conditions?: readonly string[];
}

function usageOf(n: LayoutNode): string {
  if (n.kind === 'group') return 'GROUP';
  const t = n.type;
  switch (t.kind) {
    case 'text':
      return t.alphabetic ? 'DISPLAY (alphabetic)' : 'DISPLAY';
    case 'edited':
      return 'DISPLAY (edited)';
    case 'zoned':
      return 'DISPLAY (zoned)';
    case 'packed':
      return 'COMP-3';
    case 'binary':
      return t.native ? 'COMP-5' : 'COMP';
    case 'float':
      return t.bytes === 4 ? 'COMP-1' : 'COMP-2';
  }
}

export function layoutRows(layout: Layout): LayoutRow[] {
  const rows: LayoutRow[] = [];
  const visit = (nodes: readonly LayoutNode[]): void => {
    for (const n of nodes) {
      const length = n.size;
      const row: LayoutRow = {
        path: n.path,
        level: n.level,
        name: n.name,
        start: n.offset + 1,
        end: n.offset + length,
        length,
        usage: usageOf(n),
        ...(n.kind === 'field' && n.type.kind !== 'float' ? { picture: n.type.picture.text } : {}),
        ...(n.kind === 'field' && (n.type.kind === 'zoned' || n.type.kind === 'packed' || n.type.kind === 'binary')
          ? { digits: n.type.digits, scale: n.type.scale, signed: n.type.signed }
          : {}),
        ...(n.kind === 'field' && n.type.kind === 'zoned' && n.type.signed
          ? { sign: `${n.type.signPosition}${n.type.signSeparate ? ' separate' : ''}` }
          : n.kind === 'field' && (n.type.kind === 'packed' || n.type.kind === 'binary') && n.type.signed
            ? { sign: n.type.kind === 'packed' ? 'sign nibble' : "two's complement" }
            : {}),
        ...(n.redefines !== undefined ? { redefines: n.redefines } : {}),
        ...(n.redefinedBy.length > 0 ? { redefinedBy: n.redefinedBy } : {}),
        ...(n.occurs !== undefined ? { occurs: n.occurs } : {}),
        ...(n.kind === 'field' && n.conditions.length > 0 ? { conditions: n.conditions.map((c) => c.name) } : {}),
      };
      rows.push(row);
      if (n.kind === 'group') visit(n.children);
    }
  };
  visit(layout.roots);
  return rows;
}

export function layoutTable(layout: Layout): string {
  const rows = layoutRows(layout);
  const head = ['LEVEL NAME', 'START', 'END', 'LENGTH', 'USAGE', 'PIC', 'DIGITS', 'SCALE', 'SIGN', 'NOTES'];
  const body = rows.map((r) => {
    const indent = '  '.repeat(Math.max(0, r.path.split('.').length - 1));
    const notes: string[] = [];
    if (r.redefines !== undefined) notes.push(`REDEFINES ${r.redefines}`);
    if (r.redefinedBy !== undefined) notes.push(`redefined by ${r.redefinedBy.join(', ')}`);
    if (r.occurs !== undefined) {
      const o = r.occurs;
      notes.push(
        `OCCURS ${o.min === o.max ? o.max : `${o.min} TO ${o.max}`}${o.dependingOn !== undefined ? ` DEPENDING ON ${o.dependingOn}` : ''} (x${r.length} bytes)`,
      );
    }
    if (r.conditions !== undefined) notes.push(`88: ${r.conditions.join(', ')}`);
    return [
      `${indent}${String(r.level).padStart(2, '0')} ${r.name}`,
      String(r.start),
      String(r.end),
      String(r.length),
      r.usage,
      r.picture ?? '',
      r.digits === undefined ? '' : String(r.digits),
      r.scale === undefined ? '' : String(r.scale),
      r.signed === undefined ? '' : r.signed ? (r.sign ?? 'signed') : 'unsigned',
      notes.join('; '),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const right = new Set([1, 2, 3, 6, 7]);
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const total = `record length ${layout.size} bytes${layout.hasOccursDependingOn ? ' (OCCURS DEPENDING ON at maximum)' : ''}`;
  return [fmt(head), ...body.map(fmt), total].join('\n') + '\n';
}
