// The business date (fecha contable) is the calendar date in the bank's time zone, never the server's.

export const DEFAULT_BANK_TIME_ZONE = 'America/Lima';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

// Zones change offset on whole minutes: one Intl call per zone and minute is enough (it was a few
// percent of the API's CPU when made for every payment).
const lastDate = new Map<string, { minute: number; date: string }>();
const lastMinuteOfDay = new Map<string, { minute: number; value: number }>();

/** `YYYY-MM-DD` of `instant` in `timeZone`. Throws RangeError for an unknown zone. */
export function businessDateOf(instant: Date, timeZone: string): string {
  const minute = Math.floor(instant.getTime() / 60_000);
  const cached = lastDate.get(timeZone);
  if (cached && cached.minute === minute) return cached.date;
  const parts = formatterFor(timeZone).formatToParts(instant);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const date = `${get('year')}-${get('month')}-${get('day')}`;
  lastDate.set(timeZone, { minute, date });
  return date;
}

export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight of `instant` in `timeZone` (0..1439). */
export function localMinuteOf(instant: Date, timeZone: string): number {
  const minute = Math.floor(instant.getTime() / 60_000);
  const cached = lastMinuteOfDay.get(timeZone);
  if (cached && cached.minute === minute) return cached.value;
  let f = clockFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(instant);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? '0');
  const value = hour * 60 + Number(parts.find((p) => p.type === 'minute')?.value ?? '0');
  lastMinuteOfDay.set(timeZone, { minute, value });
  return value;
}

/** The calendar day after `date` (`YYYY-MM-DD`). */
export function nextDay(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * The business date a payment taken at `instant` belongs to: today in the bank's zone, or the next
 * day once the channel's cutoff (hora de corte) has passed.
 */
export function businessDateWithCutoff(instant: Date, timeZone: string, cutoffMinute: number): string {
  const today = businessDateOf(instant, timeZone);
  return localMinuteOf(instant, timeZone) >= cutoffMinute ? nextDay(today) : today;
}
