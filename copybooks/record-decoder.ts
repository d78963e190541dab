import { binaryCodec } from './binary-codec';
import type { CodePage } from './code-page';
import { CopybookError, toHex, type CopybookErrorContext } from './copybook-errors';
import type { Layout, LayoutField, LayoutNode } from './copybook-layout';
import { compileDecodeFastPath, literalKey } from './decode-fast-path';
import type { FieldCodec } from './field-codec';
import { hexFloatCodec } from './hex-float-codec';
import { packedCodec } from './packed-codec';
import { textCodec } from './text-codec';
import { zonedCodec } from './zoned-codec';

export interface RecordCodecOptions {
  readonly codePage: CodePage;
  /** 'auto' (default): a single 01 group's children are the top-level keys; several 01s are kept as keys. */
  readonly root?: 'auto' | 'keep';
  /**
   * 'fixed' (default): an OCCURS DEPENDING ON table always takes its maximum size, as in FB files.
   * 'packed': it takes only the counted elements and later items follow directly (variable records).
   */
  readonly occurs?: 'fixed' | 'packed';
  /** 'pad' (default) drops text padding; 'none' keeps every character. */
  readonly trim?: 'pad' | 'none';
  /** Diagnostics and tests: 'full' turns off the generated whole-record fast path (same results, slower). */
  readonly plan?: 'auto' | 'full';
}

export type DecodedRecord = { [key: string]: DecodedValue };
export type DecodedValue = string | DecodedRecord | DecodedValue[];

export function codecFor(field: LayoutField, page: CodePage, trim: 'pad' | 'none'): FieldCodec {
  const t = field.type;
  switch (t.kind) {
    case 'text':
      return textCodec({ length: t.length, alphabetic: t.alphabetic, justifiedRight: t.justifiedRight, trim }, page);
    case 'edited':
      return textCodec({ length: t.length, alphabetic: false, justifiedRight: false, trim }, page);
    case 'zoned':
      return zonedCodec(t, page);
    case 'packed':
      return packedCodec(t);
    case 'binary':
      return binaryCodec(t);
    case 'float':
      return hexFloatCodec(t.bytes);
  }
}

/** Mutable state of one record decode; one instance per decoder, reset per record. */
interface Ctx {
  buf: Uint8Array;
  end: number;
  next: number;
  counters: number[];
  indices: number[];
  errors: CopybookError[];
}

/**
 * A compiled item: reads the value at pos and sets ctx.next. A value that cannot be decoded is
 * left out and its error pushed onto ctx.errors, so one pass reports every bad field.
 */
type Reader = (ctx: Ctx, pos: number) => DecodedValue | undefined;

interface Member {
  readonly key: string;
  readonly read: Reader;
  /** FILLER: takes its bytes, yields no key. */
  readonly skip: boolean;
}

type Area =
  | { readonly kind: 'one'; readonly member: Member }
  | { readonly kind: 'views'; readonly members: readonly Member[]; readonly size: number; readonly names: string };

/** The field's path with COBOL-style subscripts (1-based, outermost first) for the tables it sits in. */
export function pathOf(node: LayoutNode, ctx: { readonly indices: readonly number[] }): string {
  return ctx.indices.length === 0 ? node.path : `${node.path}(${ctx.indices.map((x) => x + 1).join(',')})`;
}

function fieldError(err: unknown, node: LayoutNode, ctx: Ctx, pos: number, size: number): CopybookError {
  if (!(err instanceof CopybookError)) throw err;
  if (err.context.field !== undefined) return err;
  const extra: CopybookErrorContext = {
    field: pathOf(node, ctx),
    offset: pos,
    hex: err.context.hex ?? toHex(ctx.buf, pos, Math.min(pos + size, ctx.end)),
  };
  return new CopybookError(
    err.code,
    err.message,
    { ...err.context, ...extra },
    { cause: err.cause, errors: err.errors },
  );
}

const NO_ERRORS: readonly CopybookError[] = Object.freeze([]);

export interface DecodeOutcome {
  /** Everything that decoded; fields that did not are left out. */
  readonly value: DecodedRecord;
  /** One error per field that could not be decoded (empty for a good record). */
  readonly errors: readonly CopybookError[];
}

export interface RecordDecoder {
  readonly kind: 'record-decoder';
  readonly layout: Layout;
  /** Record length for fixed records (the layout size). */
  readonly size: number;
  /**
   * Decodes buf[start, end). Throws CopybookError RECORD_INVALID, with one nested error per bad
   * field; offsets in errors are relative to `start`.
   */
  decode(buf: Uint8Array, start?: number, end?: number): DecodedRecord;
  /** Same pass, but returns what decoded together with every field error instead of throwing. */
  decodeAll(buf: Uint8Array, start?: number, end?: number): DecodeOutcome;
  /**
   * The record when every field decodes on the generated fast path, else undefined (then call
   * decodeAll, which decodes with the full plan and reports every error). Allocates nothing
   * beyond the record: the streaming reader's per-record call.
   */
  decodeValid(buf: Uint8Array, start?: number, end?: number): DecodedRecord | undefined;
  /** Bytes the last decode consumed (the record length under occurs: 'packed'). */
  readonly lastLength: () => number;
}

/** Compiles a layout once into a plan of closures: offsets, codecs and keys are fixed up front. */
export function createRecordDecoder(layout: Layout, options: RecordCodecOptions): RecordDecoder {
  const page = options.codePage;
  const trim = options.trim ?? 'pad';
  const packedOccurs = options.occurs === 'packed';
  const counterSlots = new Map<string, number>();
  for (const n of allNodes(layout.roots)) {
    const d = n.occurs?.dependingOn;
    if (d !== undefined && !counterSlots.has(d)) counterSlots.set(d, counterSlots.size);
  }

  const compileField = (f: LayoutField): Reader => {
    const codec = codecFor(f, page, trim);
    const size = codec.size;
    const slot = counterSlots.get(f.path) ?? -1;
    return (ctx, pos) => {
      ctx.next = pos + size;
      if (pos + size > ctx.end) {
        if (pos >= ctx.end) return undefined;
        ctx.errors.push(
          new CopybookError(
            'FIELD_BEYOND_RECORD',
            `field needs ${size} bytes but the record ends after ${ctx.end - pos}`,
            {
              field: pathOf(f, ctx),
              offset: pos,
              hex: toHex(ctx.buf, pos, ctx.end),
            },
          ),
        );
        return undefined;
      }
      let v: string;
      try {
        v = codec.decode(ctx.buf, pos);
      } catch (err) {
        ctx.errors.push(fieldError(err, f, ctx, pos, size));
        return undefined;
      }
      if (slot >= 0) ctx.counters[slot] = Number(v);
      return v;
    };
  };

  const compileGroup = (children: readonly LayoutNode[], fixedSize: number): Reader => {
    const areas = buildAreas(children);
    const count = areas.length;
    const keys: string[] = [];
    const slots = areas.map((a) =>
      a.kind === 'one'
        ? [a.member.skip ? -1 : keys.push(a.member.key) - 1]
        : a.members.map((m) => keys.push(m.key) - 1),
    );
    // The record object is built by one object literal with the copybook's keys in order (a plan
    // generated once per group; keys are JSON-quoted), which V8 allocates with a fixed shape.
    const make = new Function('v', `return {${keys.map((k, i) => `${literalKey(k)}: v[${i}]`).join(', ')}};`) as (
      v: readonly (DecodedValue | undefined)[],
    ) => DecodedRecord;
    const vals: (DecodedValue | undefined)[] = new Array<DecodedValue | undefined>(keys.length).fill(undefined);
    return (ctx, pos) => {
      let p = pos;
      let present = 0;
      for (let i = 0; i < count; i++) {
        const a = areas[i] as Area;
        const s = slots[i] as number[];
        if (a.kind === 'one') {
          const v = a.member.read(ctx, p);
          const slot = s[0] as number;
          if (slot >= 0) {
            vals[slot] = v;
            if (v !== undefined) present++;
          }
        } else {
          present += readViews(a, ctx, p, vals, s);
        }
        p = ctx.next;
      }
      ctx.next = packedOccurs ? p : pos + fixedSize;
      if (present === 0 && pos >= ctx.end) return undefined;
      const o = make(vals);
      // Absent values (errors, fields past the end of a short record) leave no key behind.
      if (present < keys.length) for (const k of keys) if (o[k] === undefined) delete o[k];
      return o;
    };
  };

  // Each view of a REDEFINES area is decoded from the same bytes. Views whose bytes are not valid
  // for them are left out; only when no view decodes is that an error of the record.
  const readViews = (
    a: Extract<Area, { kind: 'views' }>,
    ctx: Ctx,
    pos: number,
    vals: (DecodedValue | undefined)[],
    slots: readonly number[],
  ): number => {
    let ok = 0;
    let failed: CopybookError[] | undefined;
    let next = pos + a.size;
    for (let i = 0; i < a.members.length; i++) {
      const m = a.members[i] as Member;
      const before = ctx.errors.length;
      let v = m.read(ctx, pos);
      if (packedOccurs) next = Math.max(next, ctx.next);
      if (ctx.errors.length > before) {
        (failed ??= []).push(...ctx.errors.splice(before));
        v = undefined;
      } else if (v !== undefined) {
        ok++;
      }
      vals[slots[i] as number] = v;
    }
    ctx.next = next;
    if (ok === 0 && failed !== undefined) {
      ctx.errors.push(
        new CopybookError(
          'REDEFINES_NO_VIEW',
          `no view of ${a.names} decodes`,
          { offset: pos, hex: toHex(ctx.buf, pos, Math.min(next, ctx.end)) },
          { errors: failed },
        ),
      );
    }
    return ok;
  };

  const compileNode = (n: LayoutNode): Reader => {
    const one = n.kind === 'field' ? compileField(n) : compileGroup(n.children, n.size);
    const occurs = n.occurs;
    if (occurs === undefined) return one;
    const elem = n.size;
    const slot = occurs.dependingOn === undefined ? -1 : (counterSlots.get(occurs.dependingOn) ?? -1);
    return (ctx, pos) => {
      let count = occurs.max;
      if (slot >= 0) {
        count = ctx.counters[slot] ?? Number.NaN;
        if (!(count >= occurs.min && count <= occurs.max)) {
          const err = new CopybookError(
            'ODO_OUT_OF_RANGE',
            `${occurs.dependingOn ?? ''} = ${Number.isNaN(count) ? 'not decoded' : count}, outside OCCURS ${occurs.min} TO ${occurs.max}`,
            { field: pathOf(n, ctx), offset: pos },
          );
          // With packed tables nothing after this point has a known position.
          if (packedOccurs) throw err;
          ctx.errors.push(err);
          ctx.next = pos + elem * occurs.max;
          return undefined;
        }
      }
      const arr: DecodedValue[] = [];
      let p = pos;
      ctx.indices.push(0);
      const depth = ctx.indices.length - 1;
      for (let i = 0; i < count; i++) {
        ctx.indices[depth] = i;
        const v = one(ctx, p);
        if (v === undefined) break;
        arr.push(v);
        p = packedOccurs ? ctx.next : p + elem;
      }
      ctx.indices.pop();
      ctx.next = packedOccurs ? p : pos + elem * occurs.max;
      return arr.length === 0 && pos >= ctx.end && count > 0 ? undefined : arr;
    };
  };

  function buildAreas(children: readonly LayoutNode[]): Area[] {
    const groups: LayoutNode[][] = [];
    for (const c of children) {
      const last = groups[groups.length - 1];
      if (c.redefines !== undefined && last !== undefined) last.push(c);
      else groups.push([c]);
    }
    return groups.map((nodes): Area => {
      const members = nodes.map((c): Member => ({
        key: c.name,
        read: c.filler ? skipper(c) : compileNode(c),
        skip: c.filler,
      }));
      const first = members[0];
      if (nodes.length === 1 && first !== undefined) return { kind: 'one', member: first };
      // An area's size is its largest view (a REDEFINES may be larger than its target).
      const size = Math.max(...nodes.map((c) => c.size * (c.occurs?.max ?? 1)));
      return {
        kind: 'views',
        members: members.filter((_, i) => !(nodes[i]?.filler ?? true)),
        size,
        names: nodes.map((c) => c.name).join('/'),
      };
    });
  }

  // FILLER is not decoded (it has no name to put in the record) but still takes its bytes.
  function skipper(n: LayoutNode): Reader {
    const bytes = n.size * (n.occurs?.max ?? 1);
    return (ctx, pos) => {
      ctx.next = pos + bytes;
      return undefined;
    };
  }

  const roots = layout.roots;
  const keepRoot = options.root === 'keep' || roots.length > 1;
  const top: Reader =
    !keepRoot && roots.length === 1 && roots[0]?.kind === 'group'
      ? compileGroup(roots[0].children, roots[0].size)
      : compileGroup(roots, layout.size);

  const collapse = !keepRoot && roots[0]?.kind === 'group' ? roots[0] : undefined;
  const fast =
    layout.hasOccursDependingOn || options.plan === 'full'
      ? undefined
      : compileDecodeFastPath({
          codePage: page,
          trim,
          codecFor: (f) => codecFor(f, page, trim),
          top: collapse !== undefined ? collapse.children : roots,
          topOffset: collapse !== undefined ? collapse.offset : 0,
        });

  const ctx: Ctx = {
    buf: new Uint8Array(0),
    end: 0,
    next: 0,
    counters: new Array<number>(counterSlots.size).fill(Number.NaN),
    indices: [],
    errors: [],
  };
  let lastLength = 0;

  const decodeValid = (buf: Uint8Array, start = 0, end = buf.length): DecodedRecord | undefined => {
    if (fast === undefined || end - start < layout.size) return undefined;
    let value: DecodedRecord | undefined;
    try {
      value = fast(buf, start) as DecodedRecord | undefined;
    } catch (err) {
      // A codec the fast path calls found a bad value; the full plan reports it.
      if (!(err instanceof CopybookError)) throw err;
      return undefined;
    }
    if (value !== undefined) lastLength = layout.size;
    return value;
  };

  const decodeAll = (buf: Uint8Array, start = 0, end = buf.length): DecodeOutcome => {
    const valid = decodeValid(buf, start, end);
    if (valid !== undefined) return { value: valid, errors: NO_ERRORS };
    // Not lost: the full plan below decodes the record again and reports every bad field.
    if (ctx.indices.length !== 0) ctx.indices.length = 0;
    if (ctx.errors.length !== 0) ctx.errors.length = 0;
    if (counterSlots.size > 0) ctx.counters.fill(Number.NaN);
    // Readers work on absolute positions in the caller's buffer: no copy, no view per record.
    ctx.buf = buf;
    ctx.end = end;
    let v: DecodedValue | undefined;
    try {
      v = top(ctx, start);
    } catch (err) {
      if (!(err instanceof CopybookError)) throw err;
      ctx.errors.push(err);
    }
    lastLength = ctx.next - start;
    const value = v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : {};
    if (ctx.errors.length === 0) return { value, errors: NO_ERRORS };
    const errors = ctx.errors.map((e) => (start === 0 ? e : rebase(e, start)));
    return { value, errors };
  };

  return Object.freeze({
    kind: 'record-decoder' as const,
    layout,
    size: layout.size,
    lastLength: () => lastLength,
    decodeAll,
    decodeValid,
    decode(buf: Uint8Array, start = 0, end = buf.length): DecodedRecord {
      const r = decodeAll(buf, start, end);
      if (r.errors.length === 0) return r.value;
      const n = r.errors.length;
      throw new CopybookError(
        'RECORD_INVALID',
        `${n} field${n === 1 ? '' : 's'} could not be decoded`,
        {},
        { errors: r.errors },
      );
    },
  });
}

/** The error a record with bad fields is reported as: RECORD_INVALID, one nested error per field. */
export function recordError(errors: readonly CopybookError[]): CopybookError {
  const n = errors.length;
  return new CopybookError('RECORD_INVALID', `${n} field${n === 1 ? '' : 's'} could not be decoded`, {}, { errors });
}

/** Error offsets relative to the record start, not the buffer. */
function rebase(err: CopybookError, start: number): CopybookError {
  const errors = err.errors.map((e) => rebase(e, start));
  const offset = err.context.offset === undefined ? undefined : err.context.offset - start;
  return new CopybookError(
    err.code,
    err.message,
    { ...err.context, ...(offset !== undefined ? { offset } : {}) },
    { cause: err.cause, errors },
  );
}

function* allNodes(nodes: readonly LayoutNode[]): Generator<LayoutNode> {
  for (const n of nodes) {
    yield n;
    if (n.kind === 'group') yield* allNodes(n.children);
  }
}
