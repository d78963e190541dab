import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { OPS_CLIENT_ID, openEmbeddedIssuer } from '../api/auth/embedded-issuer';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { loadBusinessCalendar } from '../config/business-calendar-file';
import { loadConfig } from '../config/config';
import { businessDateOf } from '../domain/business-date';
import { buildDailyStatement } from '../reports/daily-statement';
import { csvDelimiterFor, type CsvDelimiter } from '../reports/csv-delimiter';
import { renderStatementCsv } from '../reports/daily-statement-csv';
import { renderStatementHtml } from '../reports/daily-statement-html';
import { renderStatementJson } from '../reports/daily-statement-json';
import { openHubStore, sqliteFile } from '../store/open-store';

// `loanhub report daily`: the daily consolidated statement of a business date as CSV, JSON or HTML,
// from the hub's store (PostgreSQL with LOANHUB_DB_URL, else the data dir's SQLite file; read-only, a
// running hub may keep working). `loanhub ops client|token`: the
// operations client of the embedded issuer, for the /ops page's log-in and for curl.

type Format = 'csv' | 'json' | 'html';

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('finance reports from the hub’s store');
  report
    .command('daily')
    .description(
      'the daily consolidated statement: per channel, core and currency, payments accepted, applied, rejected, ' +
        'reversed, posted and post-rejected (count and amount), and the day’s net',
    )
    .option(
      '--date <YYYY-MM-DD>',
      'business date (default: today in LOANHUB_TIME_ZONE, or the next business day)',
      parseDate,
    )
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json', 'html']).default('csv'))
    .addOption(
      new Option('--delimiter <char>', 'CSV delimiter (default: LOANHUB_REPORT_CSV_DELIMITER, else ,)').choices([
        ',',
        ';',
      ]),
    )
    .option('--out <file>', 'write to this file (default: standard output)')
    .addHelpText(
      'after',
      '\nEnvironment: LOANHUB_DATA_DIR (the hub’s data dir) or LOANHUB_DB_URL (PostgreSQL), LOANHUB_TIME_ZONE,\n' +
        'LOANHUB_REPORT_CSV_DELIMITER (; or ,).',
    )
    .action(async (opts: { date?: string; format: Format; delimiter?: CsvDelimiter; out?: string }) => {
      const config = loadConfig();
      let delimiter: CsvDelimiter;
      try {
        delimiter = csvDelimiterFor(opts.delimiter, process.env, ',');
      } catch (err) {
        process.stderr.write(`loanhub report: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      if (!config.dbUrl && !fs.existsSync(sqliteFile(config.dataDir))) {
        process.stderr.write(
          `loanhub report: no hub store in ${config.dataDir} (set LOANHUB_DATA_DIR, or LOANHUB_DB_URL for PostgreSQL)\n`,
        );
        process.exitCode = 1;
        return;
      }
      const { store } = await openHubStore({
        dataDir: config.dataDir,
        dbUrl: config.dbUrl,
        ...(config.dbSchema !== undefined ? { schema: config.dbSchema } : {}),
      });
      try {
        if (!store.reports) throw new Error(`the ${store.kind} store has no report queries`);
        const date = opts.date ?? loadBusinessCalendar().onOrAfter(businessDateOf(new Date(), config.timeZone));
        const statement = await buildDailyStatement(store.reports, date);
        const text =
          opts.format === 'csv'
            ? renderStatementCsv(statement, delimiter)
            : opts.format === 'json'
              ? renderStatementJson(statement)
              : renderStatementHtml(statement);
        if (opts.out) {
          const tmp = `${opts.out}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, text);
          fs.renameSync(tmp, opts.out);
          process.stderr.write(`wrote ${opts.out}: daily statement of ${date} (${statement.lines.length} lines)\n`);
        } else {
          process.stdout.write(text);
        }
      } finally {
        await store.close();
      }
    });

  const ops = program.command('ops').description('the operations client of the embedded issuer (/ops page)');
  ops
    .command('client')
    .description('print the operations client’s id and secret (log in to /ops with them)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const client = (await openIssuer()).opsClient();
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ clientId: client.clientId, clientSecret: client.secret }, null, 2)}\n`
          : `${client.clientId} ${client.secret}\n`,
      );
    });
  ops
    .command('token')
    .description(`print an access token with scope ops:read for ${OPS_CLIENT_ID} (for curl /ops/api/…)`)
    .option('--json', 'print the whole token response as JSON')
    .action(async (opts: { json?: boolean }) => {
      const token = await (await openIssuer()).issueToken(OPS_CLIENT_ID);
      process.stdout.write(opts.json ? `${JSON.stringify(token, null, 2)}\n` : `${token.access_token}\n`);
    });
}

async function openIssuer() {
  const config = loadConfig();
  return openEmbeddedIssuer({
    dataDir: config.dataDir,
    issuer: config.issuer,
    audience: config.audience ?? 'loanhub-api',
    ttlSeconds: config.tokenTtlSeconds,
    catalogue: createChannelCatalogue(),
  });
}

function parseDate(value: string): string {
  const d = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new InvalidArgumentError(`not a YYYY-MM-DD date: ${value}`);
  }
  return value;
}
