import { businessDateOf, businessDateWithCutoff, localMinuteOf, nextDay } from '../../domain/business-date';

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

describe('cutoff (hora de corte)', () => {
  it('a payment after the cutoff belongs to the next business date', () => {
    // 21:30 in Lima is 02:30 UTC the next day.
    const at = new Date('2026-11-24T02:30:00Z');
    expect(businessDateWithCutoff(at, 'America/Lima', 21 * 60)).toBe('2026-11-24');
    expect(businessDateWithCutoff(at, 'America/Lima', 22 * 60)).toBe('2026-11-23');
    expect(localMinuteOf(at, 'America/Lima')).toBe(21 * 60 + 30);
  });

  it('rolls over month and year ends', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });
});
