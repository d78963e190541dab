import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CopybookError } from '../../copybooks/copybook-errors';
import { layoutFromText, layoutNodes, loadLayout, type Layout, type LayoutNode } from '../../copybooks/copybook-layout';
import { detectFormat } from '../../copybooks/copybook-tokenizer';
import { layoutRows, layoutTable } from '../../copybooks/layout-report';

const fixtures = join(__dirname, '..', 'fixtures', 'copybooks');

function node(layout: Layout, path: string): LayoutNode {
  const n = layoutNodes(layout).find((x) => x.path === path);
  if (n === undefined) throw new Error(`no ${path}`);
  return n;
}

function parseError(text: string): CopybookError {
  try {
    layoutFromText(text, { file: 'bad.cpy' });
  } catch (err) {
    if (err instanceof CopybookError) return err;
    throw err;
  }
  throw new Error('expected a CopybookError');
}

describe('golden layouts (the table an operator reads)', () => {
  test.each(['loan-payment-record', 'odo-statement', 'free-format'])('%s matches its .layout.txt', (name) => {
    const layout = loadLayout(join(fixtures, `${name}.cpy`));
    expect(layoutTable(layout)).toBe(readFileSync(join(fixtures, `${name}.layout.txt`), 'utf8'));
  });

  test('the loan-payment record is 200 bytes with the byte positions the bridge relies on', () => {
    const l = loadLayout(join(fixtures, 'loan-payment-record.cpy'));
    expect(l.size).toBe(200);
    const at = (p: string): [number, number] => {
      const n = node(l, `LOAN-PAYMENT-RECORD.${p}`);
      return [n.offset + 1, n.offset + n.size];
    };
    expect(at('PAYMENT-ID')).toEqual([3, 38]);
    expect(at('AMOUNT')).toEqual([115, 122]);
    expect(at('ADJUSTMENT')).toEqual([148, 157]);
    expect(at('SEQUENCE-NO')).toEqual([171, 174]);
    expect(at('PAYMENT-DATE-PARTS.PAY-MM')).toEqual([103, 104]);
  });

  test('layout rows carry usage, digits, scale, sign, REDEFINES, OCCURS and 88 names for --json', () => {
    const rows = layoutRows(loadLayout(join(fixtures, 'odo-statement.cpy')));
    expect(rows.find((r) => r.name === 'LINE-NOTE')).toEqual({
      path: 'STATEMENT.STMT-LINE.LINE-NOTE',
      level: 10,
      name: 'LINE-NOTE',
      start: 40,
      end: 44,
      length: 5,
      usage: 'DISPLAY',
      picture: 'X(5)',
      occurs: { min: 0, max: 3, dependingOn: 'STATEMENT.STMT-LINE.NOTE-COUNT' },
    });
    const status = layoutRows(loadLayout(join(fixtures, 'loan-payment-record.cpy'))).find((r) => r.name === 'STATUS');
    expect(status?.conditions).toEqual(['STATUS-OK']);
  });
});

describe('source formats', () => {
  test('fixed format ignores the sequence area (1-6) and columns 73-80', () => {
    const l = loadLayout(join(fixtures, 'odo-statement.cpy'));
    expect(layoutNodes(l).map((n) => n.name)).not.toContain('STMT0004');
  });

  test('a literal continued with - in column 7 resumes after its quote, padding kept to column 72', () => {
    const l = loadLayout(join(fixtures, 'odo-statement.cpy'));
    const title = node(l, 'STATEMENT.STMT-HEADER.STMT-TITLE');
    expect(title.kind === 'field' ? title.value : undefined).toEqual({
      kind: 'text',
      text: `MONTHLY LOAN${' '.repeat(5)} FOR`,
      all: false,
    });
  });

  test('a word continued with - in column 7 joins its first part', () => {
    const l = loadLayout(join(fixtures, 'odo-statement.cpy'));
    expect(node(l, 'STATEMENT.STMT-CLOSING-BALANCE').size).toBe(7);
  });

  test('free format is detected and reads *> comments', () => {
    const text = readFileSync(join(fixtures, 'free-format.cpy'), 'utf8');
    expect(detectFormat(text)).toBe('free');
    const l = layoutFromText(text);
    const kind = node(l, 'CUSTOMER-REC.CUST-KIND');
    expect(kind.kind === 'field' ? kind.conditions.map((c) => c.name) : []).toEqual(['PERSON', 'COMPANY']);
    expect(node(l, 'CUSTOMER-REC.COMPANY-DATA').redefines).toBe('PERSON-DATA');
    expect(node(l, 'CUSTOMER-REC.PERSON-DATA').areaSize).toBe(40);
  });

  test('EJECT and SKIP listing directives are ignored; COPY is named as unsupported', () => {
    const l = layoutFromText(
      '       01 R.\n           EJECT\n           05 A PIC X(2).\n           SKIP2.\n           05 B PIC 9.\n',
    );
    expect(l.size).toBe(3);
    expect(parseError('       01 R.\n           COPY OTHERBOOK.\n').context).toMatchObject({ line: 2, token: 'COPY' });
  });

  test('lower-case copybooks read the same; names keep their case', () => {
    const l = layoutFromText(
      "       01 rec.\n          05 amount pic s9(5)v99 comp-3 value -12.5.\n          05 note pic x(4) value 'IT''S'.\n",
    );
    const amount = node(l, 'rec.amount');
    expect([amount.size, amount.kind === 'field' ? amount.value : undefined]).toEqual([
      4,
      { kind: 'number', text: '-12.5' },
    ]);
    const note = node(l, 'rec.note');
    expect(note.kind === 'field' ? note.value : undefined).toEqual({ kind: 'text', text: "IT'S", all: false });
  });

  test('comment (*, /) and debug (D) lines are skipped in fixed format', () => {
    const l = layoutFromText(
      [
        '       01 R.',
        '      *   05 GONE PIC X.',
        '      /',
        '      D   05 DEBUG PIC X.',
        '           05 KEPT PIC X(2).',
        '',
      ].join('\n'),
    );
    expect(layoutNodes(l).map((n) => n.name)).toEqual(['R', 'KEPT']);
  });
});

describe('clauses', () => {
  test('88 levels keep their VALUE lists and THRU ranges', () => {
    const l = layoutFromText(
      "       01 R.\n          05 S PIC X.\n             88 OK VALUE 'A' 'B' THRU 'D'.\n             88 NONE VALUE SPACES.\n",
    );
    const s = node(l, 'R.S');
    expect(s.kind === 'field' ? s.conditions : []).toEqual([
      {
        name: 'OK',
        values: [
          { from: { kind: 'text', text: 'A', all: false } },
          { from: { kind: 'text', text: 'B', all: false }, through: { kind: 'text', text: 'D', all: false } },
        ],
      },
      { name: 'NONE', values: [{ from: { kind: 'figurative', name: 'SPACE' } }] },
    ]);
  });

  test('level-01 REDEFINES and several 01 records describe one record area', () => {
    const l = layoutFromText(
      '       01 A.\n          05 X PIC X(10).\n       01 B REDEFINES A.\n          05 Y PIC X(4).\n          05 Z PIC 9(12).\n',
    );
    expect(l.roots.map((r) => r.name)).toEqual(['A', 'B']);
    expect(l.size).toBe(16);
  });

  test('a REDEFINES larger than its target widens the area and everything after it moves', () => {
    const l = layoutFromText(
      '       01 R.\n          05 A PIC X(5).\n          05 B REDEFINES A PIC X(8).\n          05 C PIC X.\n',
    );
    expect(node(l, 'R.C').offset).toBe(8);
    expect(l.size).toBe(9);
  });

  test('SYNC, JUSTIFIED RIGHT, BLANK WHEN ZERO, VALUE, USAGE IS and group USAGE are accepted', () => {
    const l = layoutFromText(
      '       01 R.\n          05 A PIC X(4) JUSTIFIED RIGHT.\n          05 B PIC 9(3) BLANK WHEN ZERO VALUE ZERO.\n          05 C PIC S9(4) USAGE IS COMP SYNC.\n          05 G USAGE COMP-3.\n             10 D PIC S9(5).\n',
    );
    expect(node(l, 'R.G.D').size).toBe(3);
    expect(node(l, 'R.C').size).toBe(2);
    expect(l.size).toBe(12);
  });

  test('binary sizes follow IBM: 1-4 digits 2 bytes, 5-9 4 bytes, 10-18 8 bytes; COMP-1 4, COMP-2 8', () => {
    const l = layoutFromText(
      '       01 R.\n          05 A PIC 9(4) COMP.\n          05 B PIC S9(5) BINARY.\n          05 C PIC 9(18) COMP-5.\n          05 D COMP-1.\n          05 E COMP-2.\n',
    );
    expect(['A', 'B', 'C', 'D', 'E'].map((n) => node(l, `R.${n}`).size)).toEqual([2, 4, 8, 4, 8]);
  });

  test('P scaling: digits stored without the Ps, scale negative on the right', () => {
    const l = layoutFromText(
      '       01 R.\n          05 A PIC 9(5)PPP.\n          05 B PIC SPPP9(3) COMP-3.\n          05 C PIC VPP99.\n',
    );
    const types = ['A', 'B', 'C'].map((n) => {
      const f = node(l, `R.${n}`);
      return f.kind === 'field' && f.type.kind !== 'float' && 'scale' in f.type ? [f.size, f.type.scale] : [];
    });
    expect(types).toEqual([
      [5, -3],
      [2, 6],
      [2, 4],
    ]);
  });
});

describe('errors name the file, line, column and token, and say what was expected', () => {
  test('a missing period before the next entry', () => {
    const e = parseError('       01 R.\n          05 A PIC X(2)\n          05 B PIC X.\n');
    expect(e.code).toBe('COPYBOOK_SYNTAX');
    expect(e.context).toMatchObject({ file: 'bad.cpy', line: 3, column: 11, token: '05' });
    expect(e.context.expected).toMatch(/period ending A/);
  });

  test('a bad PICTURE says which symbol and where', () => {
    const e = parseError('       01 R.\n          05 A PIC 9(3)Q.\n');
    expect(e.code).toBe('PICTURE_INVALID');
    expect(e.context).toMatchObject({ line: 2, column: 20, token: '9(3)Q', field: 'A' });
  });

  test('level 66 RENAMES is a clear "not supported"', () => {
    const e = parseError('       01 R.\n          05 A PIC X.\n       66 ALIAS RENAMES A.\n');
    expect(e.code).toBe('COPYBOOK_UNSUPPORTED');
    expect(e.message).toMatch(/66 RENAMES \(ALIAS\) is not supported/);
    expect(e.context.line).toBe(3);
  });

  test('REDEFINES of something that is not the preceding item', () => {
    const e = parseError(
      '       01 R.\n          05 A PIC X.\n          05 B PIC X.\n          05 C REDEFINES A PIC X.\n',
    );
    expect(e.code).toBe('LAYOUT_INVALID');
    expect(e.context).toMatchObject({ line: 4, token: 'A', field: 'C', expected: 'B' });
  });

  test('DEPENDING ON a field that does not exist before the table', () => {
    const e = parseError('       01 R.\n          05 T OCCURS 1 TO 3 DEPENDING ON N PIC X.\n          05 N PIC 9.\n');
    expect(e.code).toBe('LAYOUT_INVALID');
    expect(e.message).toMatch(/DEPENDING ON N, which is not a field declared before it/);
  });

  test('BINARY above 18 digits is refused (a Cobrix extension, not IBM COBOL)', () => {
    const e = parseError('       01 R.\n          05 A PIC 9(19) COMP.\n');
    expect(e.code).toBe('PICTURE_INVALID');
    expect(e.message).toMatch(/at most 18/);
  });

  test('more than 38 digits is refused', () => {
    expect(parseError('       01 R.\n          05 A PIC 9(39).\n').message).toMatch(/at most 38/);
  });

  test('USAGE NATIONAL and POINTER are named as unsupported', () => {
    expect(parseError('       01 R.\n          05 A PIC N(3) USAGE NATIONAL.\n').code).toBe('COPYBOOK_UNSUPPORTED');
    expect(parseError('       01 R.\n          05 A USAGE POINTER.\n').message).toMatch(/POINTER \(A\)/);
  });

  test('an elementary item with children', () => {
    expect(parseError('       01 R.\n          05 A PIC X.\n             10 B PIC X.\n').message).toMatch(
      /A has a PICTURE, so it cannot contain B/,
    );
  });

  test('an unclosed literal', () => {
    const e = parseError("       01 R.\n          05 A PIC X(3) VALUE 'AB.\n          05 B PIC X.\n");
    expect(e.code).toBe('COPYBOOK_SYNTAX');
    expect(e.context.line).toBe(2);
  });
});
