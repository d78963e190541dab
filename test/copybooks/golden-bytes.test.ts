import { getCodePage } from '../../copybooks/code-page';
import { layoutFromText } from '../../copybooks/copybook-layout';
import { createRecordDecoder } from '../../copybooks/record-decoder';
import { createRecordEncoder } from '../../copybooks/record-encoder';

// Exact bytes for each numeric form, checked both ways: value -> bytes is the golden hex, and the
// golden hex decodes back to the same value. Byte rules: IBM Enterprise COBOL Programming Guide,
// "Formats for numeric data" (zoned sign in the last digit's zone, packed sign in the last nibble,
// binary big-endian two's complement).

function field(pic: string, page = '037'): { enc: (v: string) => string; dec: (hex: string) => string } {
  const layout = layoutFromText(`       01 R.\n          05 F ${pic}.\n`);
  const codePage = getCodePage(page);
  const e = createRecordEncoder(layout, { codePage });
  const d = createRecordDecoder(layout, { codePage });
  return {
    enc: (v) =>
      Buffer.from(e.encode({ F: v }))
        .toString('hex')
        .toUpperCase(),
    dec: (hex) => {
      const out = d.decode(Buffer.from(hex, 'hex'));
      return String(out['F']);
    },
  };
}

const cases: [string, string, string, string][] = [
  // picture, value, golden hex, code page
  ['PIC S9(5) COMP-3', '12345', '12345C', '037'],
  ['PIC S9(5) COMP-3', '-12345', '12345D', '037'],
  ['PIC S9(5) COMP-3', '0', '00000C', '037'],
  ['PIC S9(4) COMP-3', '1234', '01234C', '037'],
  ['PIC S9(4) COMP-3', '-1', '00001D', '037'],
  ['PIC 9(4) COMP-3', '1234', '01234F', '037'],
  ['PIC 9(3) COMP-3', '0', '000F', '037'],
  ['PIC S9(7)V99 COMP-3', '-1234567.89', '123456789D', '037'],
  ['PIC S9(7)V99 COMP-3', '0.05', '000000005C', '037'],
  ['PIC S9(1) COMP-3', '-7', '7D', '037'],
  ['PIC S9(5)', '12345', 'F1F2F3F4C5', '037'],
  ['PIC S9(5)', '-12345', 'F1F2F3F4D5', '037'],
  ['PIC S9(5)', '0', 'F0F0F0F0C0', '037'],
  ['PIC 9(4)', '42', 'F0F0F4F2', '037'],
  ['PIC S9(3)V99', '-1.50', 'F0F0F1F5D0', '037'],
  ['PIC S9(4) SIGN LEADING', '-123', 'D0F1F2F3', '037'],
  ['PIC S9(4) SIGN LEADING', '123', 'C0F1F2F3', '037'],
  ['PIC S9(4) SIGN LEADING SEPARATE', '-123', '60F0F1F2F3', '037'],
  ['PIC S9(4) SIGN TRAILING SEPARATE', '123', 'F0F1F2F34E', '037'],
  ['PIC S9(4) SIGN TRAILING SEPARATE', '0', 'F0F0F0F04E', '037'],
  ['PIC S9(3)V9 SIGN LEADING SEPARATE', '-12.5', '2D30313235', 'ascii'],
  ['PIC S9(4)', '-1234', '3132334D', 'ascii'],
  ['PIC S9(4)', '1230', '3132337B', 'ascii'],
  ['PIC S9(4)', '-1230', '3132337D', 'ascii'],
  ['PIC S9(4)', '1234', '31323344', 'ascii'],
  ['PIC S9(4) COMP', '-2', 'FFFE', '037'],
  ['PIC S9(4) COMP', '1234', '04D2', '037'],
  ['PIC S9(4) COMP', '0', '0000', '037'],
  ['PIC 9(4) COMP', '9999', '270F', '037'],
  ['PIC S9(9) COMP', '-123456789', 'F8A432EB', '037'],
  ['PIC 9(9) BINARY', '999999999', '3B9AC9FF', '037'],
  ['PIC S9(18) COMP', '-1', 'FFFFFFFFFFFFFFFF', '037'],
  ['PIC S9(18) COMP', '123456789012345678', '01B69B4BA630F34E', '037'],
  ['PIC S9(7)V99 COMP', '-0.01', 'FFFFFFFF', '037'],
  ['PIC 9(4) COMP-5', '65535', 'FFFF', '037'],
  ['PIC S9(5)PPP COMP-3', '12345000', '12345C', '037'],
  ['PIC SVPPP9(3) COMP-3', '-0.000123', '123D', '037'],
  ['PIC X(5)', 'AB', 'C1C2404040', '037'],
  ['PIC X(3)', 'a€', '819F40', '1140'],
];

describe('golden bytes for every numeric form', () => {
  test.each(cases)('%s %s <-> %s (%s)', (pic, value, hex, page) => {
    const f = field(pic, page);
    expect(f.enc(value)).toBe(hex);
    expect(f.dec(hex)).toBe(value);
  });
});

describe('values that do not fit are typed errors, never rounded, cut or padded', () => {
  test.each([
    ['PIC S9(3)V99 COMP-3', '1234.5', 'VALUE_TOO_MANY_DIGITS'],
    ['PIC S9(3)V99 COMP-3', '1.234', 'VALUE_TOO_MANY_DECIMALS'],
    ['PIC S9(3)V99 COMP-3', '1.230', 'VALUE_TOO_MANY_DECIMALS'],
    ['PIC 9(3)V99', '-1.23', 'VALUE_NEGATIVE_UNSIGNED'],
    ['PIC 9(4) COMP', '10000', 'VALUE_TOO_MANY_DIGITS'],
    ['PIC S9(4) COMP-5', '40000', 'VALUE_TOO_MANY_DIGITS'],
    ['PIC X(3)', 'ABCD', 'TEXT_TOO_LONG'],
    ['PIC X(3)', '€', 'CHAR_NOT_ENCODABLE'],
    ['PIC A(3)', 'A1', 'TEXT_NOT_ALPHABETIC'],
    ['PIC S9(5)', '1e3', 'VALUE_NOT_DECIMAL'],
    ['PIC S9(5)', ' 12', 'VALUE_NOT_DECIMAL'],
    ['PIC S9(5)PPP COMP-3', '12345600', 'VALUE_TOO_MANY_DIGITS'],
  ])('%s given %j is %s', (pic, value, code) => {
    const f = field(pic);
    expect(() => f.enc(value)).toThrow(
      expect.objectContaining({ code, context: expect.objectContaining({ field: 'R.F' }) }),
    );
  });

  test('a float JS number is refused: decimals travel as strings', () => {
    const layout = layoutFromText('       01 R.\n          05 F PIC S9(3)V99 COMP-3.\n');
    const e = createRecordEncoder(layout, { codePage: getCodePage('037') });
    expect(() => e.encode({ F: 1.5 })).toThrow(expect.objectContaining({ code: 'VALUE_TYPE' }));
    expect(Buffer.from(e.encode({ F: 12 })).toString('hex')).toBe('01200c');
  });
});

describe('bytes that are not a value are typed errors with the raw hex', () => {
  test.each([
    ['PIC S9(5) COMP-3', '12345A', '12345'],
    ['PIC S9(5) COMP-3', '1234FC', 'PACKED_INVALID'],
    ['PIC S9(5) COMP-3', '123451', 'PACKED_INVALID'],
    ['PIC 9(5) COMP-3', '12345D', 'SIGN_INVALID'],
    ['PIC S9(4) COMP-3', '11234C', 'PACKED_INVALID'],
    ['PIC S9(3)', 'F1F213', 'ZONED_INVALID'],
    ['PIC S9(3)', 'F1C2C3', 'ZONED_INVALID'],
    ['PIC S9(3)', '404040', 'ZONED_INVALID'],
    ['PIC 9(3)', 'F1F2D3', 'SIGN_INVALID'],
    ['PIC S9(3) SIGN LEADING SEPARATE', '4BF1F2F3', 'SIGN_INVALID'],
    ['PIC 9(4) COMP', '2710', 'BINARY_OUT_OF_RANGE'],
  ])('%s from %s', (pic, hex, outcome) => {
    const f = field(pic);
    if (/^\d+$/.test(outcome)) {
      expect(f.dec(hex)).toBe(outcome);
      return;
    }
    expect(() => f.dec(hex)).toThrow(
      expect.objectContaining({
        code: 'RECORD_INVALID',
        errors: [
          expect.objectContaining({
            code: outcome,
            context: expect.objectContaining({ field: 'R.F', offset: 0, hex }),
          }),
        ],
      }),
    );
  });

  test('A, B, E and F zones are accepted on read; C/D are what we write', () => {
    const f = field('PIC S9(3)');
    expect(f.dec('F1F2A3')).toBe('123');
    expect(f.dec('F1F2B3')).toBe('-123');
    expect(f.dec('F1F2E3')).toBe('123');
    expect(f.dec('F1F2F3')).toBe('123');
    expect(f.enc('123')).toBe('F1F2C3');
  });

  test('negative zero keeps its sign so that its bytes survive a round trip', () => {
    const f = field('PIC S9(3)V9 COMP-3');
    expect(f.dec('00000D')).toBe('-0.0');
    expect(f.enc('-0.0')).toBe('00000D');
  });
});

describe('COMP-1 / COMP-2 (IBM hexadecimal floating point)', () => {
  test.each([
    ['COMP-1', '1', '41100000'],
    ['COMP-1', '-118.625', 'C276A000'],
    ['COMP-1', '0.5', '40800000'],
    ['COMP-2', '0.1328125', '4022000000000000'],
    ['COMP-2', '0', '0000000000000000'],
  ])('%s %s <-> %s', (usage, value, hex) => {
    const f = field(usage);
    expect(f.enc(value)).toBe(hex);
    expect(f.dec(hex)).toBe(value);
  });

  test('a value the format cannot hold exactly is FLOAT_NOT_EXACT', () => {
    expect(() => field('COMP-1').enc('0.1')).toThrow(expect.objectContaining({ code: 'FLOAT_NOT_EXACT' }));
  });
});
