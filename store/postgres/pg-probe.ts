import { Client } from 'pg';

// Whether the PostgreSQL store of a URL can be reached and logged into, for `loanhub config check`: one
// connection with a short timeout, one `SELECT 1`, closed again. The answer says why not in words an
// operator can act on, and never carries the password.

export interface StoreProbe {
  readonly ok: boolean;
  /** Why not, when not ok (e.g. "connection refused at 127.0.0.1:5432"). */
  readonly reason?: string;
}

/** Connects once (at most timeoutMs for the connection and the query) and says whether that worked. */
export async function probePgStore(url: string, timeoutMs: number): Promise<StoreProbe> {
  let where = 'the server';
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return { ok: false, reason: 'the URL does not parse' };
  }
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'loanhub config check',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: reasonOf(err, where, timeoutMs) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function reasonOf(err: unknown, where: string, timeoutMs: number): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${where} (is PostgreSQL running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found: ${where.slice(0, where.lastIndexOf(':'))}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable from here (${code})`;
    case '28P01':
    case '28000':
      // PostgreSQL's own words name the user, never the password
      return `${where} refused the login: ${message}`;
    case '3D000':
      return `${where}: ${message}`;
    default:
      break;
  }
  if (/timeout/i.test(message)) return `no answer from ${where} within ${String(timeoutMs / 1000)} s`;
  return `${where}: ${message}${code ? ` (${code})` : ''}`;
}
