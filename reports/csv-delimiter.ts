// The CSV delimiter finance's reports use: `;` or `,`, per the Excel locale of the bank's desks. Set once
// in LOANHUB_REPORT_CSV_DELIMITER for every CSV report (`recon report`, `report daily`); a command's
// `--delimiter` wins; unset, each report keeps its own default.

export type CsvDelimiter = ',' | ';';

export const CSV_DELIMITER_SETTING = 'LOANHUB_REPORT_CSV_DELIMITER';

export function isCsvDelimiter(value: string): value is CsvDelimiter {
  return value === ',' || value === ';';
}

/** The delimiter to use: the option, else LOANHUB_REPORT_CSV_DELIMITER, else `fallback`; a bad setting throws. */
export function csvDelimiterFor(
  option: CsvDelimiter | undefined,
  env: NodeJS.ProcessEnv,
  fallback: CsvDelimiter,
): CsvDelimiter {
  if (option) return option;
  const set = env[CSV_DELIMITER_SETTING];
  if (set === undefined || set === '') return fallback;
  if (!isCsvDelimiter(set)) throw new Error(`${CSV_DELIMITER_SETTING} must be ; or , (got ${JSON.stringify(set)})`);
  return set;
}
