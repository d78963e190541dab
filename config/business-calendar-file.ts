import fs from 'node:fs';
import { createBusinessCalendar, type BusinessCalendar, type CalendarSource } from '../domain/business-calendar';
import peru from './calendars/pe.json';

// Loads the business calendar: LOANHUB_BUSINESS_CALENDAR_FILE (a JSON file in the form of
// config/calendars/pe.json) or Peru's built-in list. A malformed file stops the start with its reason.

export function loadBusinessCalendar(env: NodeJS.ProcessEnv = process.env): BusinessCalendar {
  const file = env.LOANHUB_BUSINESS_CALENDAR_FILE;
  if (!file) return createBusinessCalendar(peru, 'config/calendars/pe.json');
  const source = JSON.parse(fs.readFileSync(file, 'utf8')) as CalendarSource;
  return createBusinessCalendar(source, file);
}
