import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { HubError } from '../../domain/errors';

// The hub's connection pool to PostgreSQL, and the one way the store runs a transaction.
// - Limits: at most `max` connections, a bounded wait for one, statement_timeout and
//   idle_in_transaction_session_timeout set on every session (so a stuck transaction cannot hold locks).
// - A transaction is a function of a client that only talks to the database: nothing in it awaits
//   the network elsewhere (the callers build every row first), so it stays short.
// - Serialization failures and deadlocks (SQLSTATE 40001, 40P01) and lost connections are retried with
//   backoff; when the database stays unreachable the request fails with 503 service_unavailable.

export interface PgSettings {
  readonly url: string;
  /** Connections in the pool (default 10). */
  readonly max?: number;
  readonly statementTimeoutMs?: number;
  readonly idleInTransactionTimeoutMs?: number;
  /** How long a caller waits for a free connection (default 5 s). */
  readonly connectionTimeoutMs?: number;
  /** Tries of a transaction that failed on a retryable error (default 5). */
  readonly attempts?: number;
  /** A schema of its own (tests: one per suite); created when missing. Default: the database's search_path. */
  readonly schema?: string;
  readonly applicationName?: string;
}

export interface PgDatabase {
  readonly pool: Pool;
  readonly schema: string | undefined;
  /** One statement outside a transaction (autocommit), with the same retries. */
  query<R extends QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** `work` in one transaction (READ COMMITTED unless told), retried as a whole on a retryable error. */
  tx<T>(work: (c: PoolClient) => Promise<T>, isolation?: 'read committed' | 'serializable'): Promise<T>;
  close(): Promise<void>;
}

const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown (the server is restarting)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
]);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for an error another try may not have: a lost or refused connection, a serialization failure. */
export function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (RETRYABLE_SQLSTATES.has(code) || code.startsWith('08') || CONNECTION_CODES.has(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  // pg's own words when the socket goes away or the pool cannot hand out a connection in time
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** The error of a database that stays unreachable: a 503 for the API, the cause kept for the log. */
function unavailable(err: unknown): HubError {
  return new HubError(
    'service_unavailable',
    'the database is not reachable; retry shortly',
    { retryAfterSeconds: 1 },
    { cause: err },
  );
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export function openPgDatabase(settings: PgSettings): PgDatabase {
  if (settings.schema !== undefined && !IDENT.test(settings.schema)) {
    throw new RangeError(`schema name ${JSON.stringify(settings.schema)} is not a plain lower-case identifier`);
  }
  const schema = settings.schema;
  const pool = new Pool({
    connectionString: settings.url,
    max: settings.max ?? 10,
    connectionTimeoutMillis: settings.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: settings.statementTimeoutMs ?? 15_000,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs ?? 10_000,
    application_name: settings.applicationName ?? 'loanhub',
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener Node would crash.
  // The client is dropped by the pool; the next query opens a new one.
  pool.on('error', () => undefined);
  // Every client gets a listener of its own for its whole life, so that an 'error' event that comes
  // while no one holds the client (between a release and the pool's idle listener, or while the pool
  // ends a broken one) is never an uncaught exception. Queries in flight still reject as before.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const attempts = Math.max(1, settings.attempts ?? 5);
  let closed = false;

  const withRetry = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt += 1) {
      if (closed) throw new Error('the PostgreSQL store is closed');
      try {
        return await run();
      } catch (err) {
        if (!isRetryable(err)) throw err;
        if (attempt >= attempts) throw unavailable(err);
        // 50, 100, 200, 400 ms … with full jitter: instances that lost the server together come back apart.
        const cap = 50 * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, cap / 2 + Math.random() * (cap / 2)));
      }
    }
  };

  return Object.freeze({
    pool,
    schema,
    query: <R extends QueryResultRow>(sql: string, params: readonly unknown[] = []) =>
      withRetry(async () => (await pool.query<R>(sql, params as unknown[])).rows),
    tx: <T>(work: (c: PoolClient) => Promise<T>, isolation: 'read committed' | 'serializable' = 'read committed') =>
      withRetry(async () => {
        const client = await pool.connect();
        let broken = false;
        // A checked-out client whose server goes away emits 'error' (not only a rejected query): without a
        // listener that would be an uncaught exception. The query in flight rejects too, and is retried.
        const onError = (): void => {
          broken = true;
        };
        client.on('error', onError);
        try {
          await client.query(
            `BEGIN ISOLATION LEVEL ${isolation === 'serializable' ? 'SERIALIZABLE' : 'READ COMMITTED'}`,
          );
          const out = await work(client);
          await client.query('COMMIT');
          return out;
        } catch (err) {
          broken = isRetryable(err);
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw err;
        } finally {
          // A client that lost its connection is destroyed, not given back to the pool.
          client.off('error', onError);
          client.release(broken ? true : undefined);
        }
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  });
}

/** Makes the schema when a test or deployment names one that does not exist yet. */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  if (!IDENT.test(schema)) throw new RangeError(`schema name ${JSON.stringify(schema)} is not a plain identifier`);
  const pool = new Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await pool.end();
  }
}
