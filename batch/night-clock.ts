import { businessDateOf, localMinuteOf, nextDay } from '../domain/business-date';
import type { BusinessCalendar } from '../domain/business-calendar';

// The night's clock in the bank's time zone: which business date is closed, and when a date's
// response deadline falls.

/** The last business date whose cutoff has passed at `now`. */
export function lastClosedBusinessDate(
  now: Date,
  timeZone: string,
  cutoffMinute: number,
  calendar: BusinessCalendar,
): string {
  const today = businessDateOf(now, timeZone);
  if (calendar.isBusinessDay(today) && localMinuteOf(now, timeZone) >= cutoffMinute) return today;
  return calendar.previous(today);
}

/** The instant of `date` at `minuteOfDay` local time in `timeZone`. */
export function instantAt(date: string, minuteOfDay: number, timeZone: string): Date {
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  let guess = new Date(`${date}T${hh}:${mm}:00Z`);
  // Move by the zone's offset at the guess until the local reading matches (two steps cover any DST edge).
  for (let i = 0; i < 3; i += 1) {
    const localDate = businessDateOf(guess, timeZone);
    const localMinute = localMinuteOf(guess, timeZone);
    const dayDiff = (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${localDate}T00:00:00Z`)) / 60_000;
    const diff = dayDiff + minuteOfDay - localMinute;
    if (diff === 0) return guess;
    guess = new Date(guess.getTime() + diff * 60_000);
  }
  return guess;
}

/** A date's responses are due by `deadlineMinute` on the next calendar day (bank time). */
export function responseDeadline(businessDate: string, deadlineMinute: number, timeZone: string): Date {
  return instantAt(nextDay(businessDate), deadlineMinute, timeZone);
}

export function parseClock(value: string, name: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m) throw new Error(`${name} must be HH:MM (24 h), got ${JSON.stringify(value)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}
