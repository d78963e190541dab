import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CopybookError } from './copybook-errors';
import {
  parseCopybook,
  type ConditionValue,
  type DataEntry,
  type UsageKind,
  type ValueLiteral,
} from './copybook-parser';
import type { SourceFormat } from './copybook-tokenizer';
import { parsePicture, type Picture } from './picture-parser';

// Layout = entries run through a short list of ordered passes (as Cobrix does): build the tree
// from level numbers, resolve REDEFINES, size every item, place every item, resolve DEPENDING ON.

export type FieldType =
  | {
      readonly kind: 'text';
      readonly picture: Picture;
      readonly length: number;
      readonly alphabetic: boolean;
      readonly justifiedRight: boolean;
    }
  | { readonly kind: 'edited'; readonly picture: Picture; readonly length: number; readonly blankWhenZero: boolean }
  | {
      readonly kind: 'zoned';
      readonly picture: Picture;
      readonly digits: number;
      readonly scale: number;
      readonly signed: boolean;
      readonly signPosition: 'leading' | 'trailing';
      readonly signSeparate: boolean;
      readonly blankWhenZero: boolean;
    }
  | {
      readonly kind: 'packed';
      readonly picture: Picture;
      readonly digits: number;
      readonly scale: number;
      readonly signed: boolean;
    }
  | {
      readonly kind: 'binary';
      readonly picture: Picture;
      readonly digits: number;
      readonly scale: number;
      readonly signed: boolean;
      readonly bytes: 2 | 4 | 8;
      /** COMP-5: the whole binary range is valid, not just the PICTURE's digits. */
      readonly native: boolean;
    }
  | { readonly kind: 'float'; readonly bytes: 4 | 8 };

export interface Occurs {
  readonly min: number;
  readonly max: number;
  /** Path of the counter field, when OCCURS ... DEPENDING ON. */
  readonly dependingOn?: string;
}

interface NodeBase {
  readonly name: string;
  readonly level: number;
  /** Names from the root, joined with '.', e.g. RECORD.COMPANY.SHORT-NAME. */
  readonly path: string;
  readonly line: number;
  /** Byte offset (0-based) of the first occurrence within the record, ODO arrays at their maximum. */
  readonly offset: number;
  /** Bytes of one occurrence. */
  readonly size: number;
  /** Bytes the item and everything that redefines it take (the REDEFINES area); equals size otherwise. */
  readonly areaSize: number;
  readonly occurs?: Occurs;
  readonly redefines?: string;
  readonly redefinedBy: readonly string[];
  readonly filler: boolean;
}

export interface LayoutField extends NodeBase {
  readonly kind: 'field';
  readonly type: FieldType;
  readonly value?: ValueLiteral;
  readonly conditions: readonly { readonly name: string; readonly values: readonly ConditionValue[] }[];
}

export interface LayoutGroup extends NodeBase {
  readonly kind: 'group';
  readonly children: readonly LayoutNode[];
}

export type LayoutNode = LayoutField | LayoutGroup;

export interface Layout {
  readonly kind: 'layout';
  readonly source?: string;
  /** Level-01 (or 77) items; several of them are views of the same record area. */
  readonly roots: readonly LayoutNode[];
  /** Record length: the largest root. */
  readonly size: number;
  readonly hasOccursDependingOn: boolean;
}

interface Draft {
  entry: DataEntry;
  children: Draft[];
  conditions: { name: string; values: readonly ConditionValue[] }[];
  usage?: UsageKind;
}

const MAX_DIGITS = 38;

function fail(
  entry: DataEntry,
  file: string | undefined,
  code: 'LAYOUT_INVALID' | 'PICTURE_INVALID' | 'COPYBOOK_UNSUPPORTED',
  message: string,
): CopybookError {
  return new CopybookError(code, message, { file, line: entry.line, column: entry.column, field: entry.name });
}

function buildTree(entries: readonly DataEntry[], file: string | undefined): Draft[] {
  const roots: Draft[] = [];
  const stack: Draft[] = [];
  let last: Draft | undefined;
  for (const entry of entries) {
    if (entry.level === 88) {
      if (last === undefined)
        throw fail(entry, file, 'LAYOUT_INVALID', `condition ${entry.name} has no item to belong to`);
      last.conditions.push({ name: entry.name, values: entry.conditionValues ?? [] });
      continue;
    }
    const draft: Draft = { entry, children: [], conditions: [] };
    last = draft;
    const level = entry.level === 77 ? 1 : entry.level;
    while (stack.length > 0 && levelOf(stack[stack.length - 1]) >= level) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      roots.push(draft);
    } else {
      if (parent.entry.picture !== undefined || parent.entry.usage === 'float4' || parent.entry.usage === 'float8') {
        throw fail(
          entry,
          file,
          'LAYOUT_INVALID',
          `${parent.entry.name} has a PICTURE, so it cannot contain ${entry.name}`,
        );
      }
      parent.children.push(draft);
    }
    stack.push(draft);
  }
  // A copybook that starts below level 01 gets an implicit root so that it still describes one record.
  const first = roots[0];
  if (first !== undefined && roots.length > 1 && roots.some((r) => r.entry.level !== 1 && r.entry.level !== 77)) {
    const implicit: DataEntry = {
      level: 1,
      name: 'RECORD',
      filler: false,
      line: first.entry.line,
      column: first.entry.column,
      justifiedRight: false,
      blankWhenZero: false,
    };
    return [{ entry: implicit, children: roots, conditions: [] }];
  }
  return roots;
}

function levelOf(d: Draft | undefined): number {
  if (d === undefined) return 0;
  return d.entry.level === 77 ? 1 : d.entry.level;
}

function fieldType(d: Draft, usage: UsageKind, file: string | undefined): FieldType {
  const e = d.entry;
  if (usage === 'float4' || usage === 'float8') {
    if (e.picture !== undefined)
      throw fail(e, file, 'PICTURE_INVALID', `${e.name}: COMP-1/COMP-2 items take no PICTURE`);
    return { kind: 'float', bytes: usage === 'float4' ? 4 : 8 };
  }
  const pic = e.picture;
  if (pic === undefined) throw fail(e, file, 'PICTURE_INVALID', `elementary item ${e.name} needs a PICTURE`);
  const parsed = parsePicture(pic.text);
  if (!parsed.ok) {
    throw new CopybookError('PICTURE_INVALID', `PICTURE ${pic.text} of ${e.name}: ${parsed.reason}`, {
      file,
      line: pic.line,
      column: pic.column,
      token: pic.text,
      field: e.name,
      expected: 'a valid PICTURE string',
    });
  }
  const p = parsed.picture;
  const picFail = (why: string): CopybookError =>
    new CopybookError('PICTURE_INVALID', `PICTURE ${pic.text} of ${e.name}: ${why}`, {
      file,
      line: pic.line,
      column: pic.column,
      token: pic.text,
      field: e.name,
    });
  if (p.category !== 'numeric') {
    if (usage !== 'display') throw picFail(`a ${p.category} item must be USAGE DISPLAY`);
    if (e.sign !== undefined) throw picFail('SIGN applies only to signed numeric items');
    if (p.category === 'numeric-edited')
      return { kind: 'edited', picture: p, length: p.length, blankWhenZero: e.blankWhenZero };
    return {
      kind: 'text',
      picture: p,
      length: p.length,
      alphabetic: p.category === 'alphabetic',
      justifiedRight: e.justifiedRight,
    };
  }
  if (p.digits > MAX_DIGITS) throw picFail(`${p.digits} digits; at most ${MAX_DIGITS} are supported`);
  // IBM requires S with a SIGN clause; Cobrix's corpus omits it (99V99 SIGN LEADING SEPARATE) and
  // the clause alone says unambiguously that a sign is stored, so we read such a field as signed.
  const signed = p.signed || e.sign !== undefined;
  switch (usage) {
    case 'display':
      return {
        kind: 'zoned',
        picture: p,
        digits: p.digits,
        scale: p.scale,
        signed,
        signPosition: e.sign?.position ?? 'trailing',
        signSeparate: e.sign?.separate ?? false,
        blankWhenZero: e.blankWhenZero,
      };
    case 'packed':
      if (e.sign !== undefined) throw picFail('SIGN applies only to USAGE DISPLAY');
      return { kind: 'packed', picture: p, digits: p.digits, scale: p.scale, signed: p.signed };
    case 'binary':
    case 'comp5': {
      if (e.sign !== undefined) throw picFail('SIGN applies only to USAGE DISPLAY');
      // IBM Enterprise COBOL: 1-4 digits -> halfword, 5-9 -> fullword, 10-18 -> doubleword.
      if (p.digits > 18) throw picFail(`${p.digits} digits in BINARY; IBM COBOL allows at most 18`);
      const bytes = p.digits <= 4 ? 2 : p.digits <= 9 ? 4 : 8;
      return {
        kind: 'binary',
        picture: p,
        digits: p.digits,
        scale: p.scale,
        signed: p.signed,
        bytes,
        native: usage === 'comp5',
      };
    }
  }
}

function elementSize(t: FieldType): number {
  switch (t.kind) {
    case 'text':
    case 'edited':
      return t.length;
    case 'zoned':
      return t.digits + (t.signSeparate ? 1 : 0);
    case 'packed':
      return Math.floor(t.digits / 2) + 1;
    case 'binary':
    case 'float':
      return t.bytes;
  }
}

interface Sized {
  draft: Draft;
  type?: FieldType;
  size: number;
  areaSize: number;
  children: Sized[];
  redefinedBy: string[];
}

function size(d: Draft, inherited: UsageKind | undefined, file: string | undefined): Sized {
  const usage = d.entry.usage ?? inherited;
  if (d.children.length === 0) {
    const type = fieldType(d, usage ?? 'display', file);
    const n = elementSize(type);
    return { draft: d, type, size: n, areaSize: n, children: [], redefinedBy: [] };
  }
  if (d.entry.picture !== undefined)
    throw fail(d.entry, file, 'LAYOUT_INVALID', `group ${d.entry.name} cannot have a PICTURE`);
  const children = d.children.map((c) => size(c, usage, file));
  resolveRedefines(children, file);
  let total = 0;
  for (const c of children) if (c.draft.entry.redefines === undefined) total += slot(c);
  return { draft: d, size: total, areaSize: total, children, redefinedBy: [] };
}

function slot(s: Sized): number {
  return s.areaSize * (s.draft.entry.occurs?.max ?? 1);
}

/** REDEFINES must name the item just before it at the same level (or that item's target). */
function resolveRedefines(siblings: Sized[], file: string | undefined): void {
  let target: Sized | undefined;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i];
    if (s === undefined) continue;
    const r = s.draft.entry.redefines;
    if (r === undefined) {
      target = s;
      continue;
    }
    if (target === undefined || target.draft.entry.name.toUpperCase() !== r.name.toUpperCase()) {
      throw new CopybookError(
        'LAYOUT_INVALID',
        `${s.draft.entry.name} REDEFINES ${r.name}, which is not the preceding item at level ${s.draft.entry.level}`,
        {
          file,
          line: r.line,
          column: r.column,
          token: r.name,
          field: s.draft.entry.name,
          expected: target?.draft.entry.name,
        },
      );
    }
    if (s.draft.entry.occurs !== undefined && s.draft.entry.occurs.dependingOn !== undefined) {
      throw fail(
        s.draft.entry,
        file,
        'LAYOUT_INVALID',
        `${s.draft.entry.name}: a REDEFINES item cannot have OCCURS DEPENDING ON`,
      );
    }
    target.redefinedBy.push(s.draft.entry.name);
    // The area grows to the largest view (a redefining item may be larger than its target).
    const area = Math.max(target.areaSize * (target.draft.entry.occurs?.max ?? 1), slot(s));
    target.areaSize = Math.max(target.areaSize, Math.ceil(area / (target.draft.entry.occurs?.max ?? 1)));
  }
  // Every view of an area reports the area's size.
  for (const s of siblings) {
    const r = s.draft.entry.redefines;
    if (r === undefined) continue;
    const t = siblings.find(
      (x) => x.draft.entry.redefines === undefined && x.draft.entry.name.toUpperCase() === r.name.toUpperCase(),
    );
    if (t !== undefined) s.areaSize = Math.max(s.size, t.areaSize);
  }
}

function place(s: Sized, offset: number, parentPath: string): LayoutNode {
  const e = s.draft.entry;
  const path = parentPath === '' ? e.name : `${parentPath}.${e.name}`;
  const base = {
    name: e.name,
    level: e.level,
    path,
    line: e.line,
    offset,
    size: s.size,
    areaSize: s.areaSize,
    ...(e.occurs !== undefined
      ? {
          occurs: {
            min: e.occurs.min,
            max: e.occurs.max,
            ...(e.occurs.dependingOn ? { dependingOn: e.occurs.dependingOn.name } : {}),
          },
        }
      : {}),
    ...(e.redefines !== undefined ? { redefines: e.redefines.name } : {}),
    redefinedBy: Object.freeze([...s.redefinedBy]),
    filler: e.filler,
  };
  if (s.type !== undefined) {
    return Object.freeze({
      kind: 'field' as const,
      ...base,
      type: Object.freeze(s.type),
      ...(e.value !== undefined ? { value: e.value } : {}),
      conditions: Object.freeze(s.draft.conditions.map((c) => Object.freeze({ ...c }))),
    });
  }
  const children: LayoutNode[] = [];
  let cursor = offset;
  let areaStart = offset;
  for (const c of s.children) {
    if (c.draft.entry.redefines !== undefined) {
      children.push(place(c, areaStart, path));
      continue;
    }
    areaStart = cursor;
    children.push(place(c, cursor, path));
    cursor += slot(c);
  }
  return Object.freeze({ kind: 'group' as const, ...base, children: Object.freeze(children) });
}

function* walk(nodes: readonly LayoutNode[]): Generator<LayoutNode> {
  for (const n of nodes) {
    yield n;
    if (n.kind === 'group') yield* walk(n.children);
  }
}

/** DEPENDING ON names a preceding integer numeric field; the reference is rewritten to its path. */
function resolveDependingOn(roots: readonly LayoutNode[], file: string | undefined): LayoutNode[] {
  const seen: LayoutField[] = [];
  const rewrite = (n: LayoutNode): LayoutNode => {
    let occurs = n.occurs;
    if (occurs?.dependingOn !== undefined) {
      const want = occurs.dependingOn.toUpperCase();
      const matches = seen.filter((f) => f.name.toUpperCase() === want);
      const counter = matches[matches.length - 1];
      if (counter === undefined) {
        throw new CopybookError(
          'LAYOUT_INVALID',
          `${n.name} OCCURS DEPENDING ON ${occurs.dependingOn}, which is not a field declared before it`,
          {
            file,
            line: n.line,
            field: n.path,
            token: occurs.dependingOn,
          },
        );
      }
      const t = counter.type;
      if (!((t.kind === 'zoned' || t.kind === 'packed' || t.kind === 'binary') && t.scale === 0)) {
        throw new CopybookError(
          'LAYOUT_INVALID',
          `DEPENDING ON counter ${counter.path} must be an integer numeric field`,
          {
            file,
            line: n.line,
            field: n.path,
            token: occurs.dependingOn,
          },
        );
      }
      occurs = { ...occurs, dependingOn: counter.path };
    }
    if (n.kind === 'field') {
      seen.push(n);
      return occurs === n.occurs ? n : Object.freeze({ ...n, occurs });
    }
    const children = n.children.map(rewrite);
    return Object.freeze({ ...n, ...(occurs !== undefined ? { occurs } : {}), children: Object.freeze(children) });
  };
  return roots.map(rewrite);
}

export interface LayoutOptions {
  readonly file?: string;
  readonly format?: SourceFormat;
}

/** Copybook text -> layout. Errors name the file, line and column. */
export function layoutFromText(text: string, options: LayoutOptions = {}): Layout {
  const entries = parseCopybook(text, options);
  const drafts = buildTree(entries, options.file);
  const sized = drafts.map((d) => size(d, undefined, options.file));
  for (const s of sized) {
    const r = s.draft.entry.redefines;
    if (r !== undefined && !sized.some((o) => o.draft.entry.name.toUpperCase() === r.name.toUpperCase() && o !== s)) {
      throw new CopybookError(
        'LAYOUT_INVALID',
        `${s.draft.entry.name} REDEFINES ${r.name}, which is not a record in this copybook`,
        {
          file: options.file,
          line: r.line,
          column: r.column,
          token: r.name,
        },
      );
    }
    if (s.draft.entry.occurs !== undefined) {
      throw fail(
        s.draft.entry,
        options.file,
        'LAYOUT_INVALID',
        `level-01 item ${s.draft.entry.name} cannot have OCCURS`,
      );
    }
  }
  // Several 01 records of one copybook describe the same record area (they implicitly redefine each other).
  const roots = resolveDependingOn(
    sized.map((s) => place(s, 0, '')),
    options.file,
  );
  const recordSize = Math.max(...sized.map((s) => s.size));
  const hasOdo = [...walk(roots)].some((n) => n.occurs?.dependingOn !== undefined);
  return Object.freeze({
    kind: 'layout',
    ...(options.file !== undefined ? { source: options.file } : {}),
    roots: Object.freeze(roots),
    size: recordSize,
    hasOccursDependingOn: hasOdo,
  });
}

export function loadLayout(path: string, options: { format?: SourceFormat } = {}): Layout {
  return layoutFromText(readFileSync(path, 'latin1'), { ...options, file: basename(path) });
}

export function layoutNodes(layout: Layout): LayoutNode[] {
  return [...walk(layout.roots)];
}
