import { fingerprintOf } from '../../payments/accept-payment';

describe('request fingerprint for idempotency', () => {
  it('ignores key order but not values', () => {
    const a = fingerprintOf({ loanNumber: '100000000017', amount: '10.00', currency: 'PEN', channelReference: 'r1' });
    const b = fingerprintOf({ channelReference: 'r1', currency: 'PEN', amount: '10.00', loanNumber: '100000000017' });
    const c = fingerprintOf({ channelReference: 'r1', currency: 'PEN', amount: '10.01', loanNumber: '100000000017' });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
