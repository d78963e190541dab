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

/** `YYYY-MM-DD` of `instant` in `timeZone`. Throws RangeError for an unknown zone. */
export function businessDateOf(instant: Date, timeZone: string): string {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight of `instant` in `timeZone` (0..1439). */
export function localMinuteOf(instant: Date, timeZone: string): number {
  let f = clockFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(instant);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? '0');
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? '0');
  return hour * 60 + minute;
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
