import { businessDateOf } from '../../domain/business-date';

describe("business date in the bank's time zone", () => {
  it('is still the previous day in Lima late in the evening, whatever UTC says', () => {
    // 2026-11-24 03:30 UTC is 2026-11-23 22:30 in Lima (UTC-5).
    expect(businessDateOf(new Date('2026-11-24T03:30:00Z'), 'America/Lima')).toBe('2026-11-23');
    expect(businessDateOf(new Date('2026-11-24T05:00:00Z'), 'America/Lima')).toBe('2026-11-24');
  });

  it('follows a configured zone', () => {
    expect(businessDateOf(new Date('2026-11-24T03:30:00Z'), 'Asia/Tokyo')).toBe('2026-11-24');
  });

  it('refuses an unknown zone', () => {
    expect(() => businessDateOf(new Date(), 'Mars/Olympus')).toThrow(RangeError);
  });
});
