import { CopybookError } from './copybook-errors';
import { tokenize, type SourceFormat, type Token } from './copybook-tokenizer';

export type UsageKind = 'display' | 'binary' | 'comp5' | 'packed' | 'float4' | 'float8';

export type ValueLiteral =
  | { readonly kind: 'text'; readonly text: string; readonly all: boolean }
  | { readonly kind: 'hex'; readonly hex: string; readonly all: boolean }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'figurative'; readonly name: 'ZERO' | 'SPACE' | 'HIGH-VALUE' | 'LOW-VALUE' | 'QUOTE' | 'NULL' };

export interface ConditionValue {
  readonly from: ValueLiteral;
  readonly through?: ValueLiteral;
}

export interface NameRef {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

/** One data-description entry as written in the copybook, before any layout. */
export interface DataEntry {
  readonly level: number;
  readonly name: string;
  readonly filler: boolean;
  readonly line: number;
  readonly column: number;
  readonly redefines?: NameRef;
  readonly picture?: { readonly text: string; readonly line: number; readonly column: number };
  readonly usage?: UsageKind;
  readonly sign?: { readonly position: 'leading' | 'trailing'; readonly separate: boolean };
  readonly occurs?: { readonly min: number; readonly max: number; readonly dependingOn?: NameRef };
  readonly value?: ValueLiteral;
  readonly conditionValues?: readonly ConditionValue[];
  readonly justifiedRight: boolean;
  readonly blankWhenZero: boolean;
}

const usageWords: Record<string, UsageKind | 'unsupported'> = {
  DISPLAY: 'display',
  COMP: 'binary',
  'COMP-0': 'binary',
  'COMP-4': 'binary',
  BINARY: 'binary',
  COMPUTATIONAL: 'binary',
  'COMPUTATIONAL-0': 'binary',
  'COMPUTATIONAL-4': 'binary',
  'COMP-5': 'comp5',
  'COMPUTATIONAL-5': 'comp5',
  'COMP-3': 'packed',
  'COMPUTATIONAL-3': 'packed',
  'PACKED-DECIMAL': 'packed',
  'COMP-1': 'float4',
  'COMPUTATIONAL-1': 'float4',
  'COMP-2': 'float8',
  'COMPUTATIONAL-2': 'float8',
  NATIONAL: 'unsupported',
  'DISPLAY-1': 'unsupported',
  INDEX: 'unsupported',
  POINTER: 'unsupported',
  'PROCEDURE-POINTER': 'unsupported',
  'FUNCTION-POINTER': 'unsupported',
};

const figuratives: Record<string, 'ZERO' | 'SPACE' | 'HIGH-VALUE' | 'LOW-VALUE' | 'QUOTE' | 'NULL'> = {
  ZERO: 'ZERO',
  ZEROS: 'ZERO',
  ZEROES: 'ZERO',
  SPACE: 'SPACE',
  SPACES: 'SPACE',
  'HIGH-VALUE': 'HIGH-VALUE',
  'HIGH-VALUES': 'HIGH-VALUE',
  'LOW-VALUE': 'LOW-VALUE',
  'LOW-VALUES': 'LOW-VALUE',
  QUOTE: 'QUOTE',
  QUOTES: 'QUOTE',
  NULL: 'NULL',
  NULLS: 'NULL',
};

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly file: string | undefined,
  ) {}
  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }
  next(): Token | undefined {
    const t = this.tokens[this.i];
    this.i++;
    return t;
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  isWord(...words: string[]): boolean {
    const t = this.peek();
    return t?.kind === 'word' && words.includes(t.text);
  }
  skipWord(...words: string[]): boolean {
    if (this.isWord(...words)) {
      this.i++;
      return true;
    }
    return false;
  }
  fail(expected: string, token = this.peek()): CopybookError {
    const last = this.tokens[this.tokens.length - 1];
    return new CopybookError(
      'COPYBOOK_SYNTAX',
      token === undefined
        ? `copybook ends early; expected ${expected}`
        : `unexpected "${token.raw}"; expected ${expected}`,
      {
        file: this.file,
        line: token?.line ?? last?.line,
        column: token?.column ?? last?.column,
        token: token?.raw,
        expected,
      },
    );
  }
  expectWord(expected: string): Token {
    const t = this.peek();
    if (t?.kind !== 'word') throw this.fail(expected);
    this.i++;
    return t;
  }
  expectInteger(expected: string): number {
    const t = this.peek();
    if (t?.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.fail(expected);
    this.i++;
    return Number(t.text);
  }
}

// Words that begin a clause; an entry whose first word after the level is one of these is an unnamed FILLER.
const clauseStarts = new Set([
  'REDEFINES',
  'PIC',
  'PICTURE',
  'USAGE',
  'SIGN',
  'LEADING',
  'TRAILING',
  'OCCURS',
  'VALUE',
  'VALUES',
  'SYNC',
  'SYNCHRONIZED',
  'JUST',
  'JUSTIFIED',
  'BLANK',
  'GLOBAL',
  'EXTERNAL',
  'RENAMES',
  ...Object.keys(usageWords),
]);

function parseLiteral(c: Cursor): ValueLiteral {
  const all = c.skipWord('ALL');
  const t = c.peek();
  if (t === undefined) throw c.fail('a literal or figurative constant');
  if (t.kind === 'literal') {
    c.next();
    return t.text.startsWith('X:') ? { kind: 'hex', hex: t.text.slice(2), all } : { kind: 'text', text: t.text, all };
  }
  if (t.kind === 'number' && !all) {
    c.next();
    return { kind: 'number', text: t.text };
  }
  const fig = t.kind === 'word' ? figuratives[t.text] : undefined;
  if (fig !== undefined) {
    c.next();
    return { kind: 'figurative', name: fig };
  }
  throw c.fail('a literal, a number or a figurative constant (ZERO, SPACES, HIGH-VALUES, LOW-VALUES, QUOTES)');
}

function startsLiteral(c: Cursor): boolean {
  const t = c.peek();
  if (t === undefined) return false;
  if (t.kind === 'literal' || t.kind === 'number') return true;
  return t.kind === 'word' && (t.text === 'ALL' || figuratives[t.text] !== undefined);
}

function parseEntry(c: Cursor, file: string | undefined): DataEntry {
  const levelTok = c.peek();
  if (levelTok?.kind !== 'number' || !/^\d{1,2}$/.test(levelTok.text))
    throw c.fail('a level number (01-49, 66, 77 or 88)');
  const level = Number(levelTok.text);
  if (!((level >= 1 && level <= 49) || level === 66 || level === 77 || level === 88)) {
    throw c.fail('a level number (01-49, 66, 77 or 88)');
  }
  c.next();
  let name = 'FILLER';
  let filler = true;
  const nameTok = c.peek();
  if (nameTok?.kind === 'word' && !clauseStarts.has(nameTok.text)) {
    c.next();
    name = nameTok.raw;
    filler = nameTok.text === 'FILLER';
  } else if (level === 88 || level === 66) {
    throw c.fail(`a name for the level-${level} entry`);
  }
  const entry: {
    -readonly [K in keyof DataEntry]: DataEntry[K];
  } = {
    level,
    name,
    filler,
    line: levelTok.line,
    column: levelTok.column,
    justifiedRight: false,
    blankWhenZero: false,
  };
  const once = (key: string, t: Token | undefined, seen: Set<string>): void => {
    if (seen.has(key)) throw c.fail(`no second ${key} clause`, t);
    seen.add(key);
  };
  const seen = new Set<string>();
  for (;;) {
    const t = c.peek();
    if (t === undefined) throw c.fail(`a clause or the period ending ${name}`);
    if (t.kind === 'period') {
      c.next();
      break;
    }
    if (t.kind !== 'word') {
      if (level === 88 && startsLiteral(c)) {
        throw c.fail('VALUE before the condition values');
      }
      throw c.fail(`a clause or the period ending ${name}`);
    }
    if (level === 66 || t.text === 'RENAMES') {
      throw new CopybookError(
        'COPYBOOK_UNSUPPORTED',
        `level 66 RENAMES (${name}) is not supported; describe the renamed area with REDEFINES instead`,
        { file, line: levelTok.line, column: levelTok.column, token: '66' },
      );
    }
    const usage = usageWords[t.text];
    if (t.text === 'USAGE' || usage !== undefined) {
      once('USAGE', t, seen);
      if (t.text === 'USAGE') {
        c.next();
        c.skipWord('IS');
      }
      const u = c.expectWord('a USAGE (DISPLAY, COMP, COMP-3, COMP-5, BINARY, PACKED-DECIMAL, COMP-1, COMP-2)');
      const kind = usageWords[u.text];
      if (kind === undefined) {
        throw c.fail('a USAGE (DISPLAY, COMP, COMP-3, COMP-5, BINARY, PACKED-DECIMAL, COMP-1, COMP-2)', u);
      }
      if (kind === 'unsupported') {
        throw new CopybookError('COPYBOOK_UNSUPPORTED', `USAGE ${u.text} (${name}) is not supported`, {
          file,
          line: u.line,
          column: u.column,
          token: u.raw,
        });
      }
      entry.usage = kind;
      continue;
    }
    switch (t.text) {
      case 'REDEFINES': {
        once('REDEFINES', t, seen);
        c.next();
        const target = c.expectWord('the name of the item being redefined');
        entry.redefines = { name: target.raw, line: target.line, column: target.column };
        break;
      }
      case 'PIC':
      case 'PICTURE': {
        once('PICTURE', t, seen);
        c.next();
        c.skipWord('IS');
        const p = c.next();
        if (p?.kind !== 'picture') throw c.fail('a PICTURE string', p);
        entry.picture = { text: p.raw, line: p.line, column: p.column };
        break;
      }
      case 'SIGN':
      case 'LEADING':
      case 'TRAILING': {
        once('SIGN', t, seen);
        if (t.text === 'SIGN') {
          c.next();
          c.skipWord('IS');
        }
        const pos = c.expectWord('LEADING or TRAILING');
        if (pos.text !== 'LEADING' && pos.text !== 'TRAILING') throw c.fail('LEADING or TRAILING', pos);
        const separate = c.skipWord('SEPARATE');
        if (separate) c.skipWord('CHARACTER');
        entry.sign = { position: pos.text === 'LEADING' ? 'leading' : 'trailing', separate };
        break;
      }
      case 'OCCURS': {
        once('OCCURS', t, seen);
        c.next();
        const first = c.expectInteger('the OCCURS count');
        let min = first;
        let max = first;
        const hasTo = c.skipWord('TO');
        if (hasTo) max = c.expectInteger('the OCCURS maximum after TO');
        c.skipWord('TIMES');
        let dependingOn: NameRef | undefined;
        if (c.skipWord('DEPENDING')) {
          c.skipWord('ON');
          const d = c.expectWord('the DEPENDING ON counter name');
          dependingOn = { name: d.raw, line: d.line, column: d.column };
          // OCCURS n DEPENDING ON without "m TO": n is the maximum and the table may be empty.
          if (!hasTo) min = 0;
        } else if (min !== max) {
          throw c.fail('DEPENDING ON after OCCURS n TO m');
        }
        while (c.isWord('ASCENDING', 'DESCENDING', 'INDEXED')) {
          const w = c.next();
          if (w?.text === 'INDEXED') {
            c.skipWord('BY');
          } else {
            c.skipWord('KEY');
            c.skipWord('IS');
          }
          c.expectWord('a key or index name');
          while (
            c.peek()?.kind === 'word' &&
            !clauseStarts.has(c.peek()?.text ?? '') &&
            !c.isWord('ASCENDING', 'DESCENDING', 'INDEXED')
          ) {
            c.next();
          }
        }
        if (max < min || max < 1) throw c.fail('an OCCURS range with maximum >= minimum and >= 1', t);
        entry.occurs = dependingOn === undefined ? { min, max } : { min, max, dependingOn };
        break;
      }
      case 'VALUE':
      case 'VALUES': {
        once('VALUE', t, seen);
        c.next();
        c.skipWord('IS', 'ARE');
        if (level === 88) {
          const values: ConditionValue[] = [];
          do {
            const from = parseLiteral(c);
            if (c.skipWord('THRU', 'THROUGH')) values.push({ from, through: parseLiteral(c) });
            else values.push({ from });
          } while (startsLiteral(c));
          entry.conditionValues = values;
        } else {
          entry.value = parseLiteral(c);
        }
        break;
      }
      case 'SYNC':
      case 'SYNCHRONIZED':
        c.next();
        c.skipWord('LEFT', 'RIGHT');
        break;
      case 'JUST':
      case 'JUSTIFIED':
        c.next();
        c.skipWord('RIGHT');
        entry.justifiedRight = true;
        break;
      case 'BLANK':
        c.next();
        c.skipWord('WHEN');
        if (!c.skipWord('ZERO', 'ZEROS', 'ZEROES')) throw c.fail('ZERO after BLANK WHEN');
        entry.blankWhenZero = true;
        break;
      case 'GLOBAL':
      case 'EXTERNAL':
      case 'IS':
        c.next();
        break;
      default:
        throw c.fail(`a clause (PIC, USAGE, REDEFINES, OCCURS, VALUE, SIGN, ...) or the period ending ${name}`);
    }
  }
  if (level === 88 && entry.conditionValues === undefined) throw c.fail('VALUE for the level-88 condition');
  return entry;
}

/** Copybook text -> data-description entries, in order. */
export function parseCopybook(text: string, options: { file?: string; format?: SourceFormat } = {}): DataEntry[] {
  const tokens = tokenize(text, options.format ?? 'auto', options.file);
  const c = new Cursor(tokens, options.file);
  const entries: DataEntry[] = [];
  while (!c.done()) {
    // Listing directives (EJECT, SKIP1-3) are common in copybooks and carry no data description.
    if (c.skipWord('EJECT', 'SKIP1', 'SKIP2', 'SKIP3')) {
      if (c.peek()?.kind === 'period') c.next();
      continue;
    }
    const t = c.peek();
    if (t?.kind === 'word' && (t.text === 'COPY' || t.text === 'REPLACE')) {
      throw new CopybookError(
        'COPYBOOK_UNSUPPORTED',
        `${t.text} statements are not expanded; give the copybook with its members included`,
        {
          file: options.file,
          line: t.line,
          column: t.column,
          token: t.raw,
        },
      );
    }
    entries.push(parseEntry(c, options.file));
  }
  if (entries.length === 0) {
    throw new CopybookError('COPYBOOK_SYNTAX', 'the copybook has no data-description entries', {
      file: options.file,
      expected: 'at least one level-01 entry',
    });
  }
  return entries;
}
