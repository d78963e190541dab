import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { main } from '../../cli/main';
import { openPgStore } from '../../store/postgres/pg-store';
import { SchemaTooNewError } from '../../store/schema-version';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { dropSchema, freshSchemaName, testPgUrl } from './contract/test-databases';

// `loanhub db migrate|status` on both databases, and the refusal of a database newer than the code.

interface Run {
  code: number;
  out: string;
  err: string;
}

async function loanhub(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('LOANHUB_')) delete process.env[k];
  Object.assign(process.env, env);
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => out.push(String(c)) > 0);
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => err.push(String(c)) > 0);
  try {
    const code = await main(['node', 'loanhub', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    process.exitCode = undefined;
  }
}

describe('loanhub db on SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-db-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('status names pending steps (exit 1), migrate applies them, then status is clean (exit 0)', async () => {
    const env = { LOANHUB_DATA_DIR: dir };
    const before = await loanhub(env, 'db', 'status', '--json');
    expect(before.code).toBe(1);
    expect((JSON.parse(before.out) as { pending: unknown[] }).pending.length).toBeGreaterThan(0);
    const migrated = await loanhub(env, 'db', 'migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.out)).toMatchObject({ ran: expect.arrayContaining([1, 2, 3, 101, 201, 301]) });
    const after = await loanhub(env, 'db', 'status');
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/pending: \(none\)/);
    expect((await loanhub(env, 'db', 'migrate')).out).toMatch(/up to date/);
  });

  test('a database newer than the code is refused at open and by db migrate, naming the version', async () => {
    const file = path.join(dir, 'hub.db');
    await openSqliteStore({ file }).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'x')").run();
    db.close();
    expect(() => openSqliteStore({ file })).toThrow(SchemaTooNewError);
    const status = await loanhub({ LOANHUB_DATA_DIR: dir }, 'db', 'status', '--json');
    expect(status.code).toBe(1);
    expect(JSON.parse(status.out)).toMatchObject({ unknown: [99] });
    const migrate = await loanhub({ LOANHUB_DATA_DIR: dir }, 'db', 'migrate');
    expect(migrate.code).toBe(1);
    expect(migrate.err).toMatch(/schema version\(s\) 99 that this LoanHub does not know/);
  });
});

describe('loanhub db on PostgreSQL', () => {
  const url = testPgUrl();
  const schema = freshSchemaName('db');
  afterAll(() => dropSchema(url, schema));

  test('migrate applies every step once, status is clean, a newer database is refused', async () => {
    const env = { LOANHUB_DB_URL: url, LOANHUB_DB_SCHEMA: schema, LOANHUB_DATA_DIR: os.tmpdir() };
    const first = await loanhub(env, 'db', 'migrate', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ ran: [1, 2, 3, 4, 101, 201, 301, 401] });
    expect(JSON.parse((await loanhub(env, 'db', 'migrate', '--json')).out)).toMatchObject({ ran: [] });
    const status = await loanhub(env, 'db', 'status', '--json');
    expect(status.code).toBe(0);
    expect(status.out).not.toContain('loanhub:loanhub'); // no credentials printed
    const pool = new Pool({ connectionString: url, max: 1 });
    await pool.query(`INSERT INTO ${schema}.schema_migrations VALUES (202, 'from the future', 'x')`);
    await pool.end();
    await expect(openPgStore({ url, schema })).rejects.toThrow(SchemaTooNewError);
    const refused = await loanhub(env, 'db', 'migrate', '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ code: 'schema_too_new' });
  });
});
