import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../integration/hub-fixture';

// A PostgreSQL cluster of a test's own: initdb into a temp dir, its own port on 127.0.0.1, started and
// stopped with pg_ctl as the user scripts/test-servers/start.sh uses (PostgreSQL refuses root). The shared
// test PostgreSQL (LOANHUB_TEST_PG_URL) serves suites running in parallel, so a test that restarts the
// server for real needs one of these. Recipe and timings: /work/shared/SERVICES.md (initdb 0.34 s, start
// 0.12 s, fast stop 0.11 s); fsync=off as there: throwaway data, a crash of postgres itself loses nothing.

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://loanhub:loanhub@127.0.0.1:PORT/loanhub_test (password login over TCP, as production). */
  readonly url: string;
  readonly port: number;
  /** The temp dir: data/, postgres.log and the Unix socket. */
  readonly dir: string;
  /** pg_ctl start -w: resolves once it accepts connections (a no-op when it is up). */
  start(): Promise<void>;
  /** pg_ctl stop -m fast -w: open connections are ended; the data stays for the next start. */
  stop(): Promise<void>;
  /** Stops, keeps it down for downMs (clients are refused), starts again. */
  restart(downMs: number): Promise<void>;
  /** The last lines of the server's log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops it and removes the directory. */
  destroy(): Promise<void>;
}

/** The newest installed major version's bin directory (/usr/lib/postgresql/N/bin), as start.sh picks it. */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions[versions.length - 1];
  if (newest === undefined) {
    throw new Error(`no PostgreSQL under ${root}: scripts/test-servers/start.sh installs postgresql-15`);
  }
  return path.join(root, newest, 'bin');
}

async function osUser(): Promise<{ name: string; uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined; // not root: run the binaries as ourselves
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number((await run('id', ['-u', name])).stdout.trim());
      const gid = Number((await run('id', ['-g', name])).stdout.trim());
      return { name, uid, gid };
    } catch {
      // no such user; try the next
    }
  }
  throw new Error('neither user postgres nor nobody exists to run PostgreSQL as (it refuses root)');
}

/** Runs a command to its end with stdio not held (pg_ctl's postmaster outlives it); rejects with stderr. */
function runQuiet(cmd: string, args: readonly string[], timeoutMs = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${String(code ?? signal)}): ${err.trim()}`));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const user = await osUser();
  const as = (cmd: string, args: readonly string[]): [string, string[]] =>
    user ? ['runuser', ['-u', user.name, '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), [...args]];
  // short: the socket path (DIR/.s.PGSQL.PORT) must stay under 107 bytes
  const dir = fs.mkdtempSync('/tmp/lhpg-');
  fs.chmodSync(dir, 0o755);
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'postgres.log');
  const logTail = (lines = 20): string => {
    try {
      return fs.readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const pwfile = path.join(dir, 'pwfile');
  fs.writeFileSync(pwfile, 'loanhub\n', { mode: 0o600 });
  if (user) fs.chownSync(pwfile, user.uid, user.gid);
  const ctl = (...args: string[]): Promise<void> => runQuiet(...as('pg_ctl', ['-D', data, ...args]));
  const start = async (): Promise<void> => {
    await ctl(
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${String(port)} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- postgres.log ---\n${logTail()}`);
    });
  };
  const stop = async (): Promise<void> => {
    if (!fs.existsSync(path.join(data, 'postmaster.pid'))) return;
    await ctl('-m', 'fast', '-w', '-t', '60', 'stop');
  };
  try {
    await runQuiet(
      ...as('initdb', [
        '-D',
        data,
        '-U',
        'loanhub',
        `--pwfile=${pwfile}`,
        '-A',
        'scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '-N',
      ]),
    );
    fs.rmSync(pwfile);
    await start();
    await runQuiet(path.join(bin, 'createdb'), ['-h', dir, '-p', String(port), '-U', 'loanhub', 'loanhub_test']);
  } catch (err) {
    await stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://loanhub:loanhub@127.0.0.1:${String(port)}/loanhub_test`,
    port,
    dir,
    start,
    stop,
    async restart(downMs) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    logTail,
    async destroy() {
      await stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
