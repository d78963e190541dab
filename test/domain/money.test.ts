import fc from 'fast-check';
import { formatAmount, parseAmount, parseMinorUnits } from '../../domain/money';

const MAX = 5_000_000n; // 50,000.00

describe('parseAmount', () => {
  it.each([
    ['125.50', 12550n],
    ['125.5', 12550n],
    ['125', 12500n],
    ['0.01', 1n],
    ['007.10', 710n],
    ['50000.00', 5_000_000n],
  ])('reads %s as %s minor units', (text, minor) => {
    expect(parseAmount(text, MAX)).toEqual({ ok: true, value: minor });
  });

  it.each([
    [125.5, 'amount_not_a_string'],
    [1e21, 'amount_not_a_string'],
    [null, 'amount_not_a_string'],
    ['', 'amount_empty'],
    [' 12.00', 'amount_whitespace'],
    ['12 .00', 'amount_whitespace'],
    ['-10.00', 'amount_sign'],
    ['+10.00', 'amount_sign'],
    ['1e3', 'amount_exponent'],
    ['1.5E2', 'amount_exponent'],
    ['1,000.00', 'amount_grouping'],
    ['10,50', 'amount_grouping'],
    ['10.505', 'amount_too_precise'],
    ['0.001', 'amount_too_precise'],
    ['10.', 'amount_malformed'],
    ['.50', 'amount_malformed'],
    ['abc', 'amount_malformed'],
    ['0x10', 'amount_malformed'],
    ['１２', 'amount_malformed'],
    ['0', 'amount_zero'],
    ['0.00', 'amount_zero'],
    ['50000.01', 'amount_too_large'],
    ['9'.repeat(400), 'amount_too_large'],
  ])('refuses %p with %s', (input, code) => {
    const r = parseAmount(input, MAX);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('round-trips every amount up to the maximum through formatAmount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), (minor) => {
        const text = formatAmount(minor);
        expect(text).toMatch(/^\d+\.\d{2}$/);
        expect(parseAmount(text, MAX)).toEqual({ ok: true, value: minor });
      }),
    );
  });
});

describe('formatAmount', () => {
  it('always writes two fraction digits', () => {
    expect(formatAmount(1n)).toBe('0.01');
    expect(formatAmount(1000n)).toBe('10.00');
    expect(formatAmount(-250n)).toBe('-2.50');
    expect(formatAmount(123456789012345678901234567890n)).toBe('1234567890123456789012345678.90');
  });
});

describe('parseMinorUnits (amounts due, balances)', () => {
  it('reads back what formatAmount writes, zero included', () => {
    expect(parseMinorUnits('0.00')).toBe(0n);
    expect(parseMinorUnits('24874.50')).toBe(2_487_450n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (minor) =>
        expect(parseMinorUnits(formatAmount(minor))).toBe(minor),
      ),
    );
  });

  it.each([['-1.00'], ['1.5'], ['01.00'], ['1e3'], [' 1.00'], [12.5], [null]])('refuses %p', (text) => {
    expect(parseMinorUnits(text)).toBeUndefined();
  });
});
