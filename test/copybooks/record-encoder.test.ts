import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCodePage } from '../../copybooks/code-page';
import { layoutFromText, loadLayout } from '../../copybooks/copybook-layout';
import { createRecordDecoder } from '../../copybooks/record-decoder';
import { createRecordEncoder } from '../../copybooks/record-encoder';

const page = getCodePage('037');
const statement = loadLayout(join(__dirname, '..', 'fixtures', 'copybooks', 'odo-statement.cpy'));
const sample = {
  'STMT-HEADER': { 'STMT-TITLE': 'MONTHLY LOAN      FOR', 'LINE-COUNT': '2' },
  'STMT-LINE': [
    { 'LINE-AMOUNT': '120.50', 'NOTE-COUNT': '1', 'LINE-NOTE': ['LATE'] },
    { 'LINE-AMOUNT': '-3.00', 'NOTE-COUNT': '0', 'LINE-NOTE': [] },
  ],
  'STMT-TOTAL': '117.50',
  'STMT-CLOSING-BALANCE': '-99999999999.99',
};

describe('OCCURS DEPENDING ON', () => {
  test('fixed: the table keeps its maximum storage and unused slots are spaces', () => {
    const bytes = Buffer.from(createRecordEncoder(statement, { codePage: page }).encode(sample));
    expect(bytes.length).toBe(310);
    expect(bytes.subarray(32 + 22 * 2, 32 + 22 * 12).every((b) => b === 0x40)).toBe(true);
    expect(bytes.subarray(296, 303).toString('hex')).toBe('0000000011750c');
    expect(createRecordDecoder(statement, { codePage: page }).decode(bytes)).toEqual(sample);
  });

  test('packed: the record is only as long as its counts, for VB files', () => {
    const enc = createRecordEncoder(statement, { codePage: page, occurs: 'packed' });
    const bytes = Buffer.from(enc.encode(sample));
    // 32 header + (6+1+5) + (6+1+0) + 7 + 7
    expect(bytes.length).toBe(32 + 12 + 7 + 14);
    const dec = createRecordDecoder(statement, { codePage: page, occurs: 'packed' });
    expect(dec.decode(bytes)).toEqual(sample);
    expect(dec.lastLength()).toBe(bytes.length);
  });

  test('an array whose length disagrees with its counter is OCCURS_COUNT_MISMATCH', () => {
    const enc = createRecordEncoder(statement, { codePage: page });
    const bad = { ...sample, 'STMT-HEADER': { ...sample['STMT-HEADER'], 'LINE-COUNT': '3' } };
    expect(() => enc.encode(bad)).toThrow(
      expect.objectContaining({
        code: 'OCCURS_COUNT_MISMATCH',
        message: '2 elements given but STATEMENT.STMT-HEADER.LINE-COUNT says 3',
      }),
    );
  });

  test('a counter outside OCCURS n TO m is ODO_OUT_OF_RANGE on read, with the path and subscript', () => {
    const bytes = Buffer.from(createRecordEncoder(statement, { codePage: page }).encode(sample));
    bytes[32 + 6] = 0xf7; // NOTE-COUNT of line 1 = 7 > 3
    const out = createRecordDecoder(statement, { codePage: page }).decodeAll(bytes);
    expect(out.errors.map((e) => [e.code, e.context.field])).toEqual([
      ['ODO_OUT_OF_RANGE', 'STATEMENT.STMT-LINE.LINE-NOTE(1)'],
    ]);
  });
});

describe('strict input', () => {
  const layout = layoutFromText(
    '       01 R.\n          05 A PIC X(8).\n          05 B REDEFINES A.\n             10 B1 PIC X(4).\n             10 B2 PIC 9(4).\n          05 C PIC 9(2) OCCURS 2.\n',
  );
  const enc = createRecordEncoder(layout, { codePage: page });

  test('two REDEFINES views that agree are accepted', () => {
    expect(Buffer.from(enc.encode({ A: 'ABCD0012', B: { B1: 'ABCD', B2: '12' }, C: ['1', '2'] })).toString('hex')).toBe(
      'c1c2c3c4f0f0f1f2f0f1f0f2',
    );
  });

  test('two REDEFINES views that disagree are REDEFINES_CONFLICT, not last-writer-wins', () => {
    expect(() => enc.encode({ A: 'ABCD0012', B: { B1: 'ABCD', B2: '13' }, C: ['1', '2'] })).toThrow(
      expect.objectContaining({
        code: 'REDEFINES_CONFLICT',
        context: expect.objectContaining({ field: 'R.A', offset: 7 }),
      }),
    );
  });

  test('a key the copybook does not define is UNKNOWN_FIELD', () => {
    expect(() => enc.encode({ A: 'X', C: ['1', '2'], D: 'x' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FIELD', context: expect.objectContaining({ field: 'R.D' }) }),
    );
  });

  test('a fixed OCCURS needs exactly its count', () => {
    expect(() => enc.encode({ A: 'X', C: ['1'] })).toThrow(expect.objectContaining({ code: 'OCCURS_COUNT_MISMATCH' }));
  });

  test('an error inside a table names the subscript', () => {
    expect(() => enc.encode({ A: 'X', C: ['1', '100'] })).toThrow(
      expect.objectContaining({
        code: 'VALUE_TOO_MANY_DIGITS',
        context: expect.objectContaining({ field: 'R.C(2)', offset: 10 }),
      }),
    );
  });
});

describe('decode -> encode is byte-exact for the Cobrix files we decode fully', () => {
  test.each([
    ['fixed-ebcdic-comp-comp3-redefines-odo', 'test1_copybook.cob', 'example.bin', 2202],
    ['fixed-ebcdic-string-trimming', 'test3_copybook.cob', 'TRAN2.AUG31.DATA.dat', 45],
    ['fixed-ebcdic-segment-redefines', 'test16_fix_len_segments.cob', 'ENTITY.DB.AUG12.DATA.FIX.LEN.dat', 64],
  ])('%s', (dir, cob, dat, lrecl) => {
    const root = join(__dirname, '..', 'fixtures', 'cobrix', dir);
    const layout = loadLayout(join(root, cob));
    const dec = createRecordDecoder(layout, { codePage: page });
    const enc = createRecordEncoder(layout, { codePage: page });
    const data = readFileSync(join(root, dat));
    let exact = 0;
    for (let p = 0; p < data.length; p += lrecl) {
      const rec = data.subarray(p, p + lrecl);
      const value = dec.decode(rec);
      const back = Buffer.from(enc.encode(value));
      // ODO slack in test1 holds bytes no field describes; everything the fields cover must match.
      const metadata = value['METADATA'];
      const accounts =
        typeof metadata === 'object' && !Array.isArray(metadata) ? Number(metadata['NUMBER-OF-ACCTS']) : lrecl;
      const covered = dir.startsWith('fixed-ebcdic-comp') ? 42 + 27 * accounts : lrecl;
      expect(back.subarray(0, covered)).toEqual(rec.subarray(0, covered));
      exact++;
    }
    expect(exact).toBe(data.length / lrecl);
  });
});

test('a field named __proto__ is an ordinary key both ways, never the prototype', () => {
  const layout = layoutFromText('       01 R.\n          05 __proto__ PIC X(3).\n          05 B PIC X.\n');
  const enc = createRecordEncoder(layout, { codePage: page });
  const dec = createRecordDecoder(layout, { codePage: page });
  const input = JSON.parse('{"__proto__":"abc","B":"d"}') as Record<string, unknown>;
  const bytes = Buffer.from(enc.encode(input));
  expect(bytes.toString('hex')).toBe('818283' + '84');
  const out = dec.decode(bytes);
  expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  expect(Object.keys(out)).toEqual(['__proto__', 'B']);
  expect(out['__proto__']).toBe('abc');
});
