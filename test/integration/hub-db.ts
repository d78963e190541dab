import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool, types } from 'pg';

// A test's read-only window on a hub's own store, whichever it is: the SQLite file in the data dir, or
// (LOANHUB_DB_URL) the hub's schema in PostgreSQL (LOANHUB_DB_SCHEMA). Tests check what was written with
// plain SQL that both dialects understand, `?` for parameters; every integer comes back as a bigint on
// both (count(*), sums and integer columns), so one assertion holds for either store.

export interface HubDb {
  readonly kind: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  close(): Promise<void>;
}

/** `?` placeholders as `$1, $2, …` (the tests' SQL has no `?` inside its literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${String((n += 1))}`);
}

const bigIntOrText = (v: string): bigint | string => (/^-?\d+$/.test(v) ? BigInt(v) : v);
const PG_INTEGERS = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (v: string) => unknown {
    // int8, int2, int4, and numeric (what sum() over a bigint gives): bigint, as better-sqlite3's safe integers
    if (oid === 20 || oid === 21 || oid === 23) return (v: string) => BigInt(v);
    if (oid === 1700) return bigIntOrText;
    return types.getTypeParser(oid, format ?? 'text') as (v: string) => unknown;
  },
};

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the store the hub with this environment uses (LOANHUB_DB_URL and LOANHUB_DB_SCHEMA, else
 * LOANHUB_DATA_DIR's hub.db), read-only. The SQLite file must already exist (the hub made it).
 */
export function openHubDb(env: NodeJS.ProcessEnv): HubDb {
  const url = env.LOANHUB_DB_URL;
  if (url) {
    const schema = env.LOANHUB_DB_SCHEMA;
    if (schema !== undefined && !IDENT.test(schema)) throw new RangeError(`not a schema name: ${schema}`);
    const pool = new Pool({
      connectionString: url,
      max: 2,
      // a probe that cannot connect or query fails with a reason instead of holding its test until jest's timeout
      connectionTimeoutMillis: 10_000,
      statement_timeout: 20_000,
      types: PG_INTEGERS,
      options: `${schema ? `-c search_path=${schema} ` : ''}-c default_transaction_read_only=on`,
    });
    pool.on('error', () => undefined);
    const all = async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> =>
      (await pool.query(numbered(sql), params as unknown[])).rows as T[];
    return {
      kind: 'postgres',
      all,
      get: async <T>(sql: string, params?: readonly unknown[]) => (await all<T>(sql, params))[0],
      close: () => pool.end(),
    };
  }
  const dataDir = env.LOANHUB_DATA_DIR;
  if (!dataDir) throw new Error('openHubDb: neither LOANHUB_DB_URL nor LOANHUB_DATA_DIR in the environment');
  const db = new Database(path.join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  return {
    kind: 'sqlite',
    all: <T>(sql: string, params: readonly unknown[] = []) => Promise.resolve(db.prepare(sql).all(...params) as T[]),
    get: <T>(sql: string, params: readonly unknown[] = []) =>
      Promise.resolve(db.prepare(sql).get(...params) as T | undefined),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** `?, ?, …` for an IN list of n values. */
export function placeholders(n: number): string {
  if (n < 1) throw new RangeError('an IN list needs at least one value');
  return Array.from({ length: n }, () => '?').join(', ');
}
