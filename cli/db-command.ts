import type { Command } from 'commander';
import { loadConfig } from '../config/config';
import { describeSchema, migrateHubStore, type SchemaReport } from '../store/schema-admin';

// `loanhub db migrate|status [--json]`: the hub's schema in its database (PostgreSQL with LOANHUB_DB_URL,
// else the data dir's SQLite file). `serve` and `start` migrate at start too; `db migrate` lets a
// deployment do it as its own step before the new instances come up. A database newer than this code
// is refused by both, naming the versions it does not know.
// Exit codes: 0 ok; 1 the database is newer than the code, has steps to apply (status), or failed; 2 usage.

function print(text: string): void {
  process.stdout.write(text);
}

function human(r: SchemaReport): string {
  const lines = [
    `database: ${r.where}`,
    `applied: ${r.applied.length === 0 ? '(none)' : r.applied.map((a) => a.version).join(', ')}`,
    `pending: ${r.pending.length === 0 ? '(none)' : r.pending.map((p) => `${p.version} ${p.name}`).join('; ')}`,
  ];
  if (r.unknown.length > 0) {
    lines.push(`NEWER THAN THIS CODE: version(s) ${r.unknown.join(', ')} are unknown to this LoanHub`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description("the hub's database schema (SQLite file or PostgreSQL)");

  db.command('migrate')
    .description('apply the schema steps the database does not have yet (refused on a database newer than the code)')
    .option('--json', 'print { database, ran, applied } as JSON')
    .action(async (flags: { json?: boolean }) => {
      const config = loadConfig();
      try {
        const r = await migrateHubStore({ dataDir: config.dataDir, dbUrl: config.dbUrl, schema: config.dbSchema });
        if (flags.json) print(`${JSON.stringify({ database: r.where, ran: r.ran, applied: r.applied.length })}\n`);
        else print(`${r.where}: ${r.ran.length === 0 ? 'up to date' : `applied ${r.ran.join(', ')}`}\n`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (flags.json) print(`${JSON.stringify({ error: message, code: codeOf(err) })}\n`);
        else process.stderr.write(`loanhub db migrate: ${message}\n`);
        process.exitCode = 1;
      }
    });

  db.command('status')
    .description('applied and pending schema steps; exit 1 when steps are pending or the database is newer')
    .option('--json', 'print { database, applied, pending, unknown } as JSON')
    .action(async (flags: { json?: boolean }) => {
      const config = loadConfig();
      try {
        const r = await describeSchema({ dataDir: config.dataDir, dbUrl: config.dbUrl, schema: config.dbSchema });
        if (flags.json) {
          print(
            `${JSON.stringify({
              database: r.where,
              applied: r.applied,
              pending: r.pending.map((p) => ({ version: p.version, name: p.name })),
              unknown: r.unknown,
            })}\n`,
          );
        } else print(human(r));
        if (r.pending.length > 0 || r.unknown.length > 0) process.exitCode = 1;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (flags.json) print(`${JSON.stringify({ error: message, code: codeOf(err) })}\n`);
        else process.stderr.write(`loanhub db status: ${message}\n`);
        process.exitCode = 1;
      }
    });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'db_failed';
}
