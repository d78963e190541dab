import { nextDay } from './business-date';
import type { OperatorErrorCode } from './errors';

// The bank's business calendar: weekends and a holiday list per year (reviewed config,
// config/calendars/<country>.json, Peru's by default). A payment taken on a non-business day belongs to
// the next business date, and mainframe files exist for business dates only.

export type Weekday = 'SUN' | 'MON' | 'TUE' | 'WED' | 'THU' | 'FRI' | 'SAT';
const WEEKDAYS: readonly Weekday[] = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export interface BusinessCalendar {
  readonly country: string;
  /** Years with a holiday list; a date in another year counts only weekends (and start-up warns). */
  readonly years: readonly number[];
  isBusinessDay(date: string): boolean;
  /** `date` itself when it is a business day, else the next one. */
  onOrAfter(date: string): string;
  /** The business day before `date`. */
  previous(date: string): string;
  holidayName(date: string): string | undefined;
}

export interface CalendarSource {
  readonly country: string;
  readonly weekend: readonly string[];
  readonly holidays: Readonly<Record<string, readonly { date: string; name: string }[]>>;
}

export class CalendarError extends Error {
  readonly code: OperatorErrorCode = 'calendar_invalid';
}

export function createBusinessCalendar(source: CalendarSource, file = 'calendar'): BusinessCalendar {
  const weekend = new Set<number>();
  for (const d of source.weekend) {
    const i = WEEKDAYS.indexOf(d as Weekday);
    if (i < 0) throw new CalendarError(`${file}: weekend day ${JSON.stringify(d)} is not one of ${WEEKDAYS.join(' ')}`);
    weekend.add(i);
  }
  const holidays = new Map<string, string>();
  const years: number[] = [];
  for (const [year, list] of Object.entries(source.holidays)) {
    if (!/^\d{4}$/.test(year)) throw new CalendarError(`${file}: ${JSON.stringify(year)} is not a year`);
    years.push(Number(year));
    for (const h of list) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(h.date) || Number.isNaN(Date.parse(`${h.date}T00:00:00Z`))) {
        throw new CalendarError(`${file}: holiday ${JSON.stringify(h.date)} is not a YYYY-MM-DD date`);
      }
      if (!h.date.startsWith(year)) throw new CalendarError(`${file}: holiday ${h.date} is listed under ${year}`);
      holidays.set(h.date, h.name);
    }
  }
  const isBusinessDay = (date: string): boolean =>
    !weekend.has(new Date(`${date}T12:00:00Z`).getUTCDay()) && !holidays.has(date);
  if (weekend.size >= 7) throw new CalendarError(`${file}: every day is a weekend day`);
  return Object.freeze({
    country: source.country,
    years: Object.freeze(years.sort()),
    isBusinessDay,
    onOrAfter: (date: string): string => {
      let d = date;
      while (!isBusinessDay(d)) d = nextDay(d);
      return d;
    },
    previous: (date: string): string => {
      let d = previousDay(date);
      while (!isBusinessDay(d)) d = previousDay(d);
      return d;
    },
    holidayName: (date: string) => holidays.get(date),
  });
}

/** Every day a business day: for tests and tools that do not care about the calendar. */
export const EVERY_DAY: BusinessCalendar = createBusinessCalendar({ country: 'ANY', weekend: [], holidays: {} });

export function previousDay(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
