import { coreForLoan, isLoanNumber, productPrefixOf } from '../../domain/core-routing';
import { CORES } from '../../domain/channel';

describe('routing a loan number to its core', () => {
  it.each([
    ['100000000017', 'cash'],
    ['200000000101', 'mortgage'],
    ['300000000555', 'vehicle'],
  ])('%s belongs to %s', (loan, core) => {
    expect(coreForLoan(loan)).toBe(core);
  });

  it.each(['400000000001', '000000000001', '99'])('%s has no core', (loan) => {
    expect(coreForLoan(loan)).toBeUndefined();
  });

  it.each(['10000000001', '1000000000170', '10000000001a', '10000000001 ', "1000' OR 1=1", '１０００００００００１７'])(
    '%p is not a loan number',
    (loan) => {
      expect(isLoanNumber(loan)).toBe(false);
      expect(coreForLoan(loan)).toBeUndefined();
    },
  );

  it('every core has exactly one product prefix and it routes back to it', () => {
    for (const core of CORES) expect(coreForLoan(`${productPrefixOf(core)}0000000001`)).toBe(core);
  });
});
