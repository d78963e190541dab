import { CopybookError } from './copybook-errors';

export type SourceFormat = 'fixed' | 'free' | 'auto';

export type TokenKind = 'word' | 'number' | 'literal' | 'picture' | 'period';

export interface Token {
  readonly kind: TokenKind;
  /** Words upper-cased; literals without their quotes (doubled quotes undone); pictures as written. */
  readonly text: string;
  readonly raw: string;
  readonly line: number;
  readonly column: number;
}

interface LogicalText {
  readonly chars: string;
  readonly lines: readonly number[];
  readonly columns: readonly number[];
}

function isDigitsOrSpaces(s: string): boolean {
  return /^[0-9 ]*$/.test(s);
}

/**
 * Fixed format unless a data line starts a level number inside columns 1-6 (which only free format
 * allows); a sequence area of digits, spaces or change markers keeps it fixed.
 */
export function detectFormat(text: string): 'fixed' | 'free' {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const area = line.slice(0, 6);
    if (area.trim() === '' || isDigitsOrSpaces(area)) continue;
    const indicator = line[6];
    if (indicator === '*' || indicator === '/') continue;
    const trimmed = line.trimStart();
    if (trimmed.startsWith('*')) continue;
    const lead = line.length - trimmed.length;
    if (lead < 6 && /^\d{1,2}(\s|$)/.test(trimmed)) return 'free';
  }
  return 'fixed';
}

function logicalText(text: string, format: 'fixed' | 'free'): LogicalText {
  let chars = '';
  const lines: number[] = [];
  const columns: number[] = [];
  const push = (s: string, line: number, firstColumn: number): void => {
    chars += s;
    for (let i = 0; i < s.length; i++) {
      lines.push(line);
      columns.push(firstColumn + i);
    }
  };
  const rawLines = text.split('\n');
  let openQuote: string | undefined;
  for (let li = 0; li < rawLines.length; li++) {
    const lineNo = li + 1;
    const line = (rawLines[li] ?? '').replace(/\r$/, '');
    if (format === 'free') {
      const trimmed = line.trimStart();
      if (trimmed.startsWith('*') || trimmed.startsWith('/')) continue;
      const cut = line.indexOf('*>');
      push((cut >= 0 ? line.slice(0, cut) : line) + ' ', lineNo, 1);
      continue;
    }
    const indicator = line[6] ?? ' ';
    if (indicator === '*' || indicator === '/' || indicator === 'D' || indicator === 'd') continue;
    let body = line.slice(7, 72);
    const cut = body.indexOf('*>');
    if (cut >= 0) body = body.slice(0, cut);
    if (indicator === '-') {
      // Continuation (IBM Enterprise COBOL LRM, "Continuation lines"): a continued literal resumes
      // after its opening quote on this line; a continued word resumes at the first non-blank.
      const lead = body.length - body.trimStart().length;
      let rest = body.slice(lead);
      let col = 8 + lead;
      if (openQuote !== undefined && rest.startsWith(openQuote)) {
        rest = rest.slice(1);
        col += 1;
      } else {
        // a continued word joins the previous line's last word: drop the padding after it
        while (chars.endsWith(' ')) {
          chars = chars.slice(0, -1);
          lines.pop();
          columns.pop();
        }
      }
      push(rest + ' ', lineNo, col);
    } else {
      if (openQuote !== undefined) {
        throw new CopybookError('COPYBOOK_SYNTAX', 'a literal is not closed before the next line', {
          line: lineNo - 1,
          expected: `closing ${openQuote} or a continuation line (- in column 7)`,
        });
      }
      // Column 7 holding the start of a level number or name (as Cobrix's own test copybooks do) is
      // read as content; any other character there is a misplaced indicator.
      if (indicator !== ' ' && line.length > 6 && !/[A-Za-z0-9]/.test(indicator)) {
        throw new CopybookError('COPYBOOK_SYNTAX', `unexpected indicator "${indicator}" in column 7`, {
          line: lineNo,
          column: 7,
          token: indicator,
          expected: 'space, *, /, D or -',
        });
      }
      if (indicator !== ' ' && line.length > 6) body = line.slice(6, 72);
      // Literals continued onto the next line run to column 72, so keep the padding inside them.
      const padded = body.padEnd(72 - (indicator !== ' ' && line.length > 6 ? 6 : 7), ' ');
      push(padded + ' ', lineNo, indicator !== ' ' && line.length > 6 ? 7 : 8);
    }
    openQuote = unterminatedQuote(chars);
    if (openQuote !== undefined) {
      // the pad space appended after column 72 is not part of the literal
      chars = chars.slice(0, -1);
      lines.pop();
      columns.pop();
    }
  }
  return { chars, lines, columns };
}

function unterminatedQuote(chars: string): string | undefined {
  let open: string | undefined;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (open === undefined) {
      if (c === '"' || c === "'") open = c;
    } else if (c === open) {
      if (chars[i + 1] === open) i++;
      else open = undefined;
    }
  }
  return open;
}

const wordChar = /[A-Za-z0-9\-_$#@]/;

export function tokenize(text: string, format: SourceFormat = 'auto', file?: string): Token[] {
  const fmt = format === 'auto' ? detectFormat(text) : format;
  const src = logicalText(text.replace(/\t/g, ' '), fmt);
  const s = src.chars;
  const tokens: Token[] = [];
  let i = 0;
  const at = (k: number): { line: number; column: number } => ({
    line: src.lines[k] ?? 0,
    column: src.columns[k] ?? 0,
  });
  const expectPicture = (): boolean => {
    const last = tokens[tokens.length - 1];
    const prev = tokens[tokens.length - 2];
    if (last?.kind !== 'word') return false;
    if (last.text === 'PIC' || last.text === 'PICTURE') return true;
    return last.text === 'IS' && prev?.kind === 'word' && (prev.text === 'PIC' || prev.text === 'PICTURE');
  };
  while (i < s.length) {
    const c = s[i] ?? '';
    if (c === ' ' || c === ',' || c === ';') {
      i++;
      continue;
    }
    const start = i;
    const pos = at(start);
    if (expectPicture()) {
      // A picture string ends at a blank, or at a period (or comma) followed by a blank.
      while (i < s.length) {
        const ch = s[i] ?? '';
        if (ch === ' ') break;
        if ((ch === '.' || ch === ',' || ch === ';') && (s[i + 1] === ' ' || i + 1 >= s.length)) break;
        i++;
      }
      const raw = s.slice(start, i);
      tokens.push({ kind: 'picture', text: raw.toUpperCase(), raw, ...pos });
      continue;
    }
    if (c === '.') {
      if (/[0-9]/.test(s[i + 1] ?? '')) {
        // a number such as .5
      } else {
        tokens.push({ kind: 'period', text: '.', raw: '.', ...pos });
        i++;
        continue;
      }
    }
    const hexPrefix = (c === 'X' || c === 'x') && (s[i + 1] === '"' || s[i + 1] === "'");
    if (c === '"' || c === "'" || hexPrefix) {
      const quote = hexPrefix ? (s[i + 1] ?? '"') : c;
      i += hexPrefix ? 2 : 1;
      let value = '';
      for (;;) {
        if (i >= s.length) {
          throw new CopybookError('COPYBOOK_SYNTAX', 'literal is not closed', {
            file,
            ...pos,
            token: s.slice(start, Math.min(s.length, start + 20)),
            expected: `closing ${quote}`,
          });
        }
        const ch = s[i] ?? '';
        if (ch === quote) {
          if (s[i + 1] === quote) {
            value += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (hexPrefix) {
        if (!/^([0-9A-Fa-f]{2})*$/.test(value)) {
          throw new CopybookError('COPYBOOK_SYNTAX', 'hexadecimal literal must hold pairs of hex digits', {
            file,
            ...pos,
            token: s.slice(start, i),
            expected: 'X"hh..."',
          });
        }
        tokens.push({ kind: 'literal', text: `X:${value.toUpperCase()}`, raw: s.slice(start, i), ...pos });
      } else {
        tokens.push({ kind: 'literal', text: value, raw: s.slice(start, i), ...pos });
      }
      continue;
    }
    if (/[+\-0-9.]/.test(c)) {
      const m = /^[+-]?(\d+(\.\d+)?|\.\d+)/.exec(s.slice(i, i + 60));
      const after = m === null ? '' : (s[i + m[0].length] ?? ' ');
      if (m !== null && !wordChar.test(after)) {
        i += m[0].length;
        tokens.push({ kind: 'number', text: m[0], raw: m[0], ...pos });
        continue;
      }
    }
    if (wordChar.test(c)) {
      while (i < s.length && wordChar.test(s[i] ?? '')) i++;
      const raw = s.slice(start, i);
      tokens.push({ kind: 'word', text: raw.toUpperCase(), raw, ...pos });
      continue;
    }
    throw new CopybookError('COPYBOOK_SYNTAX', `unexpected character "${c}"`, {
      file,
      ...pos,
      token: c,
      expected: 'a level number, a name, a clause, a literal or a period',
    });
  }
  return tokens;
}
