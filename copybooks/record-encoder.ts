import type { CodePage } from './code-page';
import { CopybookError, type CopybookErrorContext } from './copybook-errors';
import type { Layout, LayoutField, LayoutNode } from './copybook-layout';
import type { ValueLiteral } from './copybook-parser';
import { compileEncodeFastPath } from './encode-fast-path';
import { compileJsonLineFastPath, type FastLine } from './json-line-encoder';
import { codecFor, type RecordCodecOptions } from './record-decoder';
import { encodeTextInto } from './text-transcoder';

export interface RecordEncoderOptions extends RecordCodecOptions {
  /**
   * 'none' (default): every named field must be given. 'blank': a missing field is written as its
   * VALUE clause, else spaces (text) or zero (numbers) - only when asked for explicitly.
   */
  readonly defaults?: 'none' | 'blank';
}

interface Ctx {
  buf: Uint8Array;
  counters: number[];
  indices: number[];
  next: number;
}

type Writer = (ctx: Ctx, value: unknown, pos: number) => void;

interface ViewWriter {
  readonly key: string;
  readonly filler: boolean;
  readonly write: Writer;
  /** Index of this item's value in the group's fetched values. */
  readonly slot: number;
}

export interface RecordEncoder {
  readonly kind: 'record-encoder';
  readonly layout: Layout;
  /** Encodes one record; returns a view of an internal buffer valid until the next call. */
  encode(record: unknown): Uint8Array;
  /**
   * Encodes the JSON line line[start, end) (no line break), as encode(JSON.parse(text)) does:
   * the same bytes, or the same CopybookError (INPUT_INVALID for a line that is not JSON). Lines
   * in the shape the decoder prints are read from their bytes (json-line-encoder.ts).
   */
  encodeLine(line: Buffer, start: number, end: number): Uint8Array;
  /**
   * encode(record) written straight into target at offset (for a file writer's buffer: no copy);
   * returns the record's length. target needs room for layout.size bytes there (a RangeError
   * otherwise). The same bytes and errors as encode; after an error those bytes hold anything.
   */
  encodeInto(record: unknown, target: Uint8Array, offset: number): number;
  /** encodeLine(line, start, end) written straight into target at offset, as encodeInto. */
  encodeLineInto(line: Buffer, start: number, end: number, target: Uint8Array, offset: number): number;
}

function pathOf(path: string, ctx: Ctx): string {
  return ctx.indices.length === 0 ? path : `${path}(${ctx.indices.map((x) => x + 1).join(',')})`;
}

function withField(err: unknown, path: string, ctx: Ctx, pos: number): unknown {
  if (!(err instanceof CopybookError) || err.context.field !== undefined) return err;
  const extra: CopybookErrorContext = { field: pathOf(path, ctx), offset: pos };
  return new CopybookError(
    err.code,
    err.message,
    { ...err.context, ...extra },
    { cause: err.cause, errors: err.errors },
  );
}

function ownValue(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function literalBytes(lit: ValueLiteral, size: number, page: CodePage): Uint8Array | undefined {
  const out = new Uint8Array(size);
  switch (lit.kind) {
    case 'figurative':
      switch (lit.name) {
        case 'SPACE':
          return out.fill(page.space);
        case 'ZERO':
          return out.fill(page.zero);
        case 'LOW-VALUE':
        case 'NULL':
          return out.fill(0);
        case 'HIGH-VALUE':
          return out.fill(0xff);
        case 'QUOTE':
          return undefined;
      }
      return undefined;
    case 'text': {
      if (lit.text.length === 0) return undefined;
      const unit = new Uint8Array(lit.text.length);
      encodeTextInto(page, lit.text, unit, 0);
      if (lit.all) for (let i = 0; i < size; i++) out[i] = unit[i % unit.length] as number;
      else {
        out.fill(page.space);
        out.set(unit.subarray(0, size));
      }
      return out;
    }
    case 'hex': {
      const unit = Buffer.from(lit.hex, 'hex');
      if (unit.length === 0) return undefined;
      if (lit.all) for (let i = 0; i < size; i++) out[i] = unit[i % unit.length] as number;
      else {
        out.fill(page.space);
        out.set(unit.subarray(0, size));
      }
      return out;
    }
    case 'number':
      return undefined;
  }
}

/** Compiles a layout into an encoding plan, the mirror of createRecordDecoder. */
export function createRecordEncoder(layout: Layout, options: RecordEncoderOptions): RecordEncoder {
  const page = options.codePage;
  const packedOccurs = options.occurs === 'packed';
  const blankDefaults = options.defaults === 'blank';
  const counterSlots = new Map<string, number>();
  const visit = (nodes: readonly LayoutNode[]): void => {
    for (const n of nodes) {
      const d = n.occurs?.dependingOn;
      if (d !== undefined && !counterSlots.has(d)) counterSlots.set(d, counterSlots.size);
      if (n.kind === 'group') visit(n.children);
    }
  };
  visit(layout.roots);

  const defaultFor = (f: LayoutField): unknown => {
    if (f.value?.kind === 'number') return f.value.text;
    if (f.value?.kind === 'text' && !f.value.all) return f.value.text;
    switch (f.type.kind) {
      case 'text':
      case 'edited':
        return '';
      default:
        return '0';
    }
  };

  const compileField = (f: LayoutField): Writer => {
    const codec = codecFor(f, page, 'pad');
    const slot = counterSlots.get(f.path) ?? -1;
    return (ctx, value, pos) => {
      let v = value;
      if (v === undefined) {
        if (!blankDefaults)
          throw new CopybookError('VALUE_MISSING', 'the field is missing', { field: pathOf(f.path, ctx), offset: pos });
        v = defaultFor(f);
      }
      try {
        codec.encode(v, ctx.buf, pos);
      } catch (err) {
        throw withField(err, f.path, ctx, pos);
      }
      if (slot >= 0) ctx.counters[slot] = Number(typeof v === 'bigint' ? v : String(v));
      ctx.next = pos + codec.size;
    };
  };

  // FILLER takes its VALUE clause when it has one; otherwise the record's space fill stays.
  const compileFiller = (n: LayoutNode): Writer => {
    const bytes = n.size * (n.occurs?.max ?? 1);
    const fixed = n.kind === 'field' && n.value !== undefined ? literalBytes(n.value, n.size, page) : undefined;
    return (ctx, _value, pos) => {
      if (fixed !== undefined) for (let k = 0; k < (n.occurs?.max ?? 1); k++) ctx.buf.set(fixed, pos + k * n.size);
      ctx.next = pos + bytes;
    };
  };

  const compileGroup = (children: readonly LayoutNode[], size: number, path: string): Writer => {
    const groups: LayoutNode[][] = [];
    for (const c of children) {
      const last = groups[groups.length - 1];
      if (c.redefines !== undefined && last !== undefined) last.push(c);
      else groups.push([c]);
    }
    const known = new Set(children.filter((c) => !c.filler).map((c) => c.name));
    const all: ViewWriter[] = [];
    const areas = groups.map((nodes) => {
      const writers = nodes.map((c): ViewWriter => {
        const w = {
          key: c.name,
          filler: c.filler,
          write: c.filler ? compileFiller(c) : compileNode(c),
          slot: all.length,
        };
        all.push(w);
        return w;
      });
      const areaSize = Math.max(...nodes.map((c) => c.size * (c.occurs?.max ?? 1)));
      return { writers, areaSize };
    });
    // Values are read with one generated function of literal property loads (keys JSON-quoted),
    // which stay monomorphic for input objects of one shape, as JSON.parse produces them.
    const fetch = new Function(
      'own',
      `return (o) => [${all.map((w) => (w.filler ? 'undefined' : w.key === '__proto__' ? 'own(o, "__proto__")' : `o[${JSON.stringify(w.key)}]`)).join(', ')}];`,
    )(ownValue) as (o: Record<string, unknown>) => unknown[];
    const checkKeys = (obj: Record<string, unknown>, vals: readonly unknown[], pos: number): void => {
      let given = 0;
      for (const v of vals) if (v !== undefined) given++;
      if (Object.keys(obj).length === given) return;
      for (const k in obj) {
        if (!known.has(k)) {
          throw new CopybookError('UNKNOWN_FIELD', `"${k.slice(0, 60)}" is not a field of ${path || 'the record'}`, {
            field: path === '' ? k : `${path}.${k}`,
            offset: pos,
          });
        }
      }
    };
    return (ctx, value, pos) => {
      let obj: Record<string, unknown>;
      if (value === undefined && blankDefaults) obj = {};
      else if (!isPlainObject(value)) {
        throw new CopybookError(
          value === undefined ? 'VALUE_MISSING' : 'VALUE_TYPE',
          value === undefined ? 'the group is missing' : 'a group must be a JSON object',
          { field: path, offset: pos },
        );
      } else obj = value;
      const vals = fetch(obj);
      checkKeys(obj, vals, pos);
      let p = pos;
      for (const area of areas) {
        const ws = area.writers;
        if (ws.length === 1) {
          const w = ws[0] as ViewWriter;
          w.write(ctx, vals[w.slot], p);
        } else {
          writeViews(ctx, vals, p, ws, area.areaSize, path);
        }
        p = packedOccurs ? ctx.next : p + area.areaSize;
      }
      ctx.next = packedOccurs ? p : pos + size;
    };
  };

  // Several views of a REDEFINES area: the given ones are written in order, and each must leave the
  // bytes the others wrote unchanged, or the record is ambiguous (REDEFINES_CONFLICT).
  let scratch = new Uint8Array(256);
  const writeViews = (
    ctx: Ctx,
    vals: readonly unknown[],
    pos: number,
    ws: readonly ViewWriter[],
    areaSize: number,
    path: string,
  ): void => {
    let next = pos + areaSize;
    let given = 0;
    let first: ViewWriter | undefined;
    for (const w of ws) {
      if (w.filler) continue;
      first ??= w;
      if (vals[w.slot] !== undefined) given++;
    }
    if (given === 0) {
      if (first === undefined) {
        for (const w of ws) w.write(ctx, undefined, pos);
        ctx.next = next;
        return;
      }
      if (!blankDefaults) {
        throw new CopybookError('VALUE_MISSING', `none of the views ${ws.map((w) => w.key).join('/')} is given`, {
          field: path === '' ? first.key : `${path}.${first.key}`,
          offset: pos,
        });
      }
      first.write(ctx, undefined, pos);
      ctx.next = Math.max(next, ctx.next);
      return;
    }
    for (const w of ws) {
      if (w.filler || vals[w.slot] === undefined) continue;
      w.write(ctx, vals[w.slot], pos);
      next = Math.max(next, ctx.next);
    }
    if (given > 1) {
      const len = next - pos;
      if (scratch.length < len) scratch = new Uint8Array(len * 2);
      scratch.set(ctx.buf.subarray(pos, next));
      for (const w of ws) {
        if (w.filler || vals[w.slot] === undefined) continue;
        w.write(ctx, vals[w.slot], pos);
        for (let i = 0; i < len; i++) {
          if (ctx.buf[pos + i] !== scratch[i]) {
            throw new CopybookError(
              'REDEFINES_CONFLICT',
              `the views given for ${ws.map((g) => g.key).join('/')} describe different bytes`,
              {
                field: path === '' ? w.key : `${path}.${w.key}`,
                offset: pos + i,
              },
            );
          }
        }
      }
    }
    ctx.next = next;
  };

  const compileNode = (n: LayoutNode): Writer => {
    const one = n.kind === 'field' ? compileField(n) : compileGroup(n.children, n.size, n.path);
    const occurs = n.occurs;
    if (occurs === undefined) return one;
    const slot = occurs.dependingOn === undefined ? -1 : (counterSlots.get(occurs.dependingOn) ?? -1);
    return (ctx, value, pos) => {
      const expected = slot >= 0 ? (ctx.counters[slot] ?? Number.NaN) : occurs.max;
      let arr: readonly unknown[];
      let count: number;
      if (value === undefined && blankDefaults) {
        // A missing table, asked to be defaulted: as many default elements as the count says.
        arr = [];
        count = expected;
      } else if (!Array.isArray(value)) {
        throw new CopybookError(
          value === undefined ? 'VALUE_MISSING' : 'VALUE_TYPE',
          value === undefined ? 'the table is missing' : 'an OCCURS item must be a JSON array',
          { field: pathOf(n.path, ctx), offset: pos },
        );
      } else {
        arr = value;
        count = arr.length;
        if (count !== expected) {
          throw new CopybookError(
            'OCCURS_COUNT_MISMATCH',
            slot >= 0
              ? `${count} elements given but ${occurs.dependingOn ?? ''} says ${Number.isNaN(expected) ? 'nothing' : expected}`
              : `${count} elements given; OCCURS ${occurs.max} needs exactly ${occurs.max}`,
            { field: pathOf(n.path, ctx), offset: pos },
          );
        }
      }
      if (!(count >= occurs.min && count <= occurs.max)) {
        throw new CopybookError(
          'OCCURS_COUNT_MISMATCH',
          `${count} elements is outside OCCURS ${occurs.min} TO ${occurs.max}`,
          {
            field: pathOf(n.path, ctx),
            offset: pos,
          },
        );
      }
      ctx.indices.push(0);
      const depth = ctx.indices.length - 1;
      let p = pos;
      for (let i = 0; i < count; i++) {
        ctx.indices[depth] = i;
        one(ctx, arr[i], p);
        p = packedOccurs ? ctx.next : p + n.size;
      }
      ctx.indices.pop();
      ctx.next = packedOccurs ? p : pos + n.size * occurs.max;
    };
  };

  const roots = layout.roots;
  const keepRoot = options.root === 'keep' || roots.length > 1;
  const collapse = !keepRoot && roots.length === 1 && roots[0]?.kind === 'group' ? roots[0] : undefined;
  const top: Writer =
    collapse !== undefined
      ? compileGroup(collapse.children, collapse.size, collapse.path)
      : compileGroup(roots, layout.size, '');

  // The generated whole-record path for the common case; the plan above stays the reference and
  // the reporter: whenever the fast path declines, the record is written again by the plan.
  const fast =
    options.plan === 'full'
      ? undefined
      : compileEncodeFastPath(layout, {
          codePage: page,
          top: collapse !== undefined ? collapse.children : roots,
          codecFor: (f) => codecFor(f, page, 'pad'),
          fillerBytes: (n) =>
            n.kind === 'field' && n.value !== undefined ? literalBytes(n.value, n.size, page) : undefined,
        });
  const buf = new Uint8Array(layout.size);
  // One view returned for every record the fast path writes (the result is valid until the next call anyway).
  const fastView = fast === undefined ? buf : buf.subarray(0, packedOccurs ? fast.length : layout.size);
  const ctx: Ctx = { buf, counters: new Array<number>(counterSlots.size).fill(Number.NaN), indices: [], next: 0 };
  /** The full plan: the reference path and the one that reports errors. */
  const encodeByPlan = (record: unknown): Uint8Array => {
    buf.fill(page.space);
    ctx.indices.length = 0;
    if (counterSlots.size > 0) ctx.counters.fill(Number.NaN);
    if (!isPlainObject(record)) throw new CopybookError('INPUT_INVALID', 'a record must be a JSON object');
    top(ctx, record, 0);
    return buf.subarray(0, packedOccurs ? ctx.next : layout.size);
  };
  const encode = (record: unknown): Uint8Array => {
    // Bytes no field covers (FILLER without VALUE, unused ODO slots, the tail of a REDEFINES area
    // beyond a shorter view) are spaces of the code page.
    buf.fill(page.space);
    if (fast !== undefined && fast.write(record, buf)) return fastView;
    return encodeByPlan(record);
  };
  const roomAt = (target: Uint8Array, offset: number): void => {
    if (!(offset >= 0 && offset + layout.size <= target.length)) {
      throw new RangeError(`no room for a ${layout.size}-byte record at ${offset} of ${target.length} bytes`);
    }
  };
  // Into a caller's buffer: the generated code writes the encoder's own buffer at constant offsets
  // and the record is copied once (a fast path taking the offset as an argument loses the constant
  // offsets, which costs more than the 200-byte copy: measured 1,079 -> 1,123 ns a record).
  const encodeInto = (record: unknown, target: Uint8Array, offset: number): number => {
    roomAt(target, offset);
    const bytes = encode(record);
    target.set(bytes, offset);
    return bytes.length;
  };
  // Compiled on first use: only `copybook encode` reads JSON lines.
  let fastLine: FastLine | undefined | null = fast === undefined ? undefined : null;
  // A DataView of the buffer the lines are in (one per chunk), for the generated key checks.
  let viewOf: Uint8Array | undefined;
  let lineView: DataView = new DataView(new ArrayBuffer(0));
  const ensureFastLine = (): FastLine | undefined => {
    if (fastLine === null) {
      fastLine = compileJsonLineFastPath(layout, {
        codePage: page,
        top: collapse !== undefined ? collapse.children : roots,
        codecFor: (f) => codecFor(f, page, 'pad'),
        fillerBytes: (n) =>
          n.kind === 'field' && n.value !== undefined ? literalBytes(n.value, n.size, page) : undefined,
      });
    }
    return fastLine;
  };
  const viewFor = (line: Buffer): DataView => {
    if (line !== viewOf) {
      viewOf = line;
      lineView = new DataView(line.buffer, line.byteOffset, line.byteLength);
    }
    return lineView;
  };
  const parseLine = (line: Buffer, start: number, end: number): unknown => {
    try {
      return JSON.parse(line.toString('utf8', start, end));
    } catch (err) {
      throw new CopybookError('INPUT_INVALID', `line is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const encodeLine = (line: Buffer, start: number, end: number): Uint8Array => {
    const f = ensureFastLine();
    if (f !== undefined && line[start] === 123) {
      buf.fill(page.space);
      if (f(line, viewFor(line), start, end, buf)) return fastView;
    }
    return encode(parseLine(line, start, end));
  };
  return Object.freeze({
    kind: 'record-encoder' as const,
    layout,
    encode,
    encodeLine,
    encodeInto,
    encodeLineInto(line: Buffer, start: number, end: number, target: Uint8Array, offset: number): number {
      roomAt(target, offset);
      const bytes = encodeLine(line, start, end);
      target.set(bytes, offset);
      return bytes.length;
    },
  });
}
