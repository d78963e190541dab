import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { checkConfig, checkConfigAndStore, renderConfigReport, type ConfigReport } from '../../cli/config-command';
import { main } from '../../cli/main';
import { SETTINGS } from '../../config/settings-catalogue';
import { CHANNELS, CORES } from '../../domain/channel';
import { startPrivatePostgres, type PrivatePostgres } from '../e2e/private-postgres';
import { freePorts } from '../integration/hub-fixture';

// `loanhub config check`: what an operator runs before starting a process, with good and bad
// environments, and a PostgreSQL store that can or cannot be reached (a private cluster of this suite:
// test/e2e/private-postgres.ts). The last tests go through main() as `loanhub config check` would.

let dir: string;
let keyFile: string;
let pg: PrivatePostgres;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loanhub-config-'));
  keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n');
  chmodSync(keyFile, 0o600);
  pg = await startPrivatePostgres();
}, 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pg.destroy();
});

/** The private cluster's URL with another port or password. */
function pgUrl(change: { port?: number; password?: string } = {}): string {
  const u = new URL(pg.url);
  if (change.port !== undefined) u.port = String(change.port);
  if (change.password !== undefined) u.password = change.password;
  return u.toString();
}

async function closedPort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}

const FINGERPRINT = 'SHA256:' + 'A'.repeat(42) + 'Q';

function production(): NodeJS.ProcessEnv {
  return {
    PORT: '8080',
    LOANHUB_HOST: '0.0.0.0',
    LOANHUB_TIME_ZONE: 'America/Lima',
    LOANHUB_JWKS_URL: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC/.well-known/jwks.json',
    LOANHUB_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC',
    LOANHUB_SCOPE_PREFIX: 'loanhub/',
    LOANHUB_AMQP_URL: 'amqps://hub:amqp-pass-1@b-1.mq.us-east-1.amazonaws.com:5671',
    LOANHUB_AMQP_MANAGEMENT_URL: 'https://ops:mgmt-pass-2@b-1.mq.us-east-1.amazonaws.com',
    LOANHUB_DB_URL: 'postgres://loanhub:db-pass-3@db.internal:5432/loanhub',
    LOANHUB_CORE_CASH_API_KEY: 'cash-key-4',
    LOANHUB_CHANNEL_APP_CLIENT_IDS: '5abc123cognitoclient',
    LOANHUB_CHANNEL_AGENTS_ALLOWED_NETWORKS: '10.20.0.0/16,192.168.7.1',
    LOANHUB_WEBHOOK_SECRETS_APP: 'whsec_' + Buffer.alloc(32, 7).toString('base64'),
    LOANHUB_MAINFRAME_SFTP_URL: 'sftp://lhub@10.99.0.10:22/lhub',
    LOANHUB_MAINFRAME_SFTP_KEY_FILE: keyFile,
    LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: FINGERPRINT,
    LOANHUB_MAINFRAME_CODEPAGE: '1047',
    LOANHUB_BATCH_CUTOFF: '23:30',
    LOANHUB_BATCH_SCHEDULE: 'off',
  };
}

const problemNames = (r: ConfigReport): string[] => r.problems.map((p) => p.name).sort();
const setting = (r: ConfigReport, name: string) => {
  const s = r.settings.find((x) => x.name === name);
  if (!s) throw new Error(`no setting ${name} in the report`);
  return s;
};

// Every PORT/LOANHUB_* name the code reads, from the sources (the grep the catalogue was written from);
// names built per channel or core end in `_` there and are listed whole in the catalogue.
function namesReadByTheCode(): string[] {
  const root = join(__dirname, '../..');
  const dirs = [
    'api',
    'adapters',
    'bank',
    'batch',
    'channels',
    'cli',
    'config',
    'copybooks',
    'domain',
    'logging',
    'metrics',
    'outbox',
    'payments',
    'runtime',
    'store',
    'webhooks',
  ];
  const names = new Set<string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.name.endsWith('.ts'))
        for (const m of readFileSync(file, 'utf8').matchAll(/LOANHUB_[A-Z0-9_]+/g))
          if (!m[0].endsWith('_')) names.add(m[0]);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return [...names].sort();
}

describe('the settings catalogue', () => {
  test('lists every variable the code reads', () => {
    const known = new Set(SETTINGS.map((s) => s.name));
    const read = namesReadByTheCode();
    expect(read.length).toBeGreaterThan(30);
    expect(read.filter((n) => !known.has(n))).toEqual([]);
  });

  test('lists each per-channel and per-core variable for every channel and core', () => {
    const known = new Set(SETTINGS.map((s) => s.name));
    for (const ch of CHANNELS) {
      for (const suffix of ['CLIENT_IDS', 'CALLBACK_URL', 'ALLOWED_NETWORKS'])
        expect(known.has(`LOANHUB_CHANNEL_${ch.toUpperCase()}_${suffix}`)).toBe(true);
      expect(known.has(`LOANHUB_WEBHOOK_SECRETS_${ch.toUpperCase()}`)).toBe(true);
    }
    for (const core of CORES)
      for (const suffix of ['URL', 'PORT', 'TIMEOUT_MS'])
        expect(known.has(`LOANHUB_CORE_${core.toUpperCase()}_${suffix}`)).toBe(true);
  });

  test('every entry is described, and a name appears once', () => {
    const names = SETTINGS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const s of SETTINGS) expect(s.description.length).toBeGreaterThan(10);
  });
});

describe('loanhub config check', () => {
  test('an empty environment is the embedded hub: every setting from its default or a file, no problem', () => {
    const r = checkConfig({});
    expect(r.ok).toBe(true);
    expect(r.settings.map((s) => s.name)).toEqual(SETTINGS.map((s) => s.name));
    expect(setting(r, 'PORT')).toMatchObject({ source: 'default', value: '8080' });
    expect(setting(r, 'LOANHUB_MAINFRAME_CODEPAGE')).toMatchObject({ source: 'default', value: 'cp037' });
    expect(setting(r, 'LOANHUB_CHANNEL_APP_CLIENT_IDS')).toMatchObject({ source: 'file' });
    expect(setting(r, 'LOANHUB_DB_URL')).toMatchObject({ source: 'default', value: null });
    // A development default of a secret is still not printed.
    expect(setting(r, 'LOANHUB_CORE_CASH_API_KEY')).toMatchObject({ source: 'default', value: '****', secret: true });
  });

  test('a production environment passes, with its sources and every secret masked', () => {
    const env = production();
    const r = checkConfig(env);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(setting(r, 'LOANHUB_HOST')).toMatchObject({ source: 'env', value: '0.0.0.0' });
    expect(setting(r, 'LOANHUB_DB_URL').value).toBe('postgres://loanhub:****@db.internal:5432/loanhub');
    expect(setting(r, 'LOANHUB_AMQP_URL').value).toBe('amqps://hub:****@b-1.mq.us-east-1.amazonaws.com:5671');
    expect(setting(r, 'LOANHUB_AMQP_MANAGEMENT_URL').value).toBe('https://****:****@b-1.mq.us-east-1.amazonaws.com/');
    expect(setting(r, 'LOANHUB_CORE_CASH_API_KEY')).toMatchObject({ source: 'env', value: '****' });
    // The key file's path is not secret (its content is, and is never read into the report).
    expect(setting(r, 'LOANHUB_MAINFRAME_SFTP_KEY_FILE').value).toBe(keyFile);
    const printed = JSON.stringify(r) + renderConfigReport(r).out;
    for (const secret of [
      'amqp-pass-1',
      'mgmt-pass-2',
      'ops:',
      'db-pass-3',
      'cash-key-4',
      env.LOANHUB_WEBHOOK_SECRETS_APP,
    ]) {
      expect(printed).not.toContain(secret);
    }
  });

  test('each wrong value is named with what is wrong with it', () => {
    const env: NodeJS.ProcessEnv = {
      ...production(),
      LOANHUB_TIME_ZONE: 'Mars/Olympus_Mons',
      LOANHUB_DB_URL: 'postgres//no-colon',
      LOANHUB_JWKS_URL: 'not a url',
      LOANHUB_MAINFRAME_SFTP_KEY_FILE: join(dir, 'missing-key'),
      LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: 'MD5:12:34:56',
      LOANHUB_MAINFRAME_CODEPAGE: 'latin1',
      LOANHUB_BATCH_CUTOFF: '24:30',
      LOANHUB_BATCH_SCHEDULE: 'yes',
      LOANHUB_CHANNEL_AGENTS_ALLOWED_NETWORKS: '10.0.0.0/33',
      LOANHUB_WEBHOOK_SECRETS_APP: 'plain-text-secret',
      PORT: '70000',
    };
    const r = checkConfig(env);
    expect(r.ok).toBe(false);
    expect(problemNames(r)).toEqual(
      [
        'LOANHUB_BATCH_CUTOFF',
        'LOANHUB_BATCH_SCHEDULE',
        'LOANHUB_CHANNEL_AGENTS_ALLOWED_NETWORKS',
        'LOANHUB_DB_URL',
        'LOANHUB_JWKS_URL',
        'LOANHUB_MAINFRAME_CODEPAGE',
        'LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT',
        'LOANHUB_MAINFRAME_SFTP_KEY_FILE',
        'LOANHUB_TIME_ZONE',
        'LOANHUB_WEBHOOK_SECRETS_APP',
        'PORT',
      ].sort(),
    );
    const message = (name: string): string => r.problems.find((p) => p.name === name)?.message ?? '';
    expect(message('LOANHUB_TIME_ZONE')).toMatch(/not a known IANA time zone/);
    expect(message('LOANHUB_MAINFRAME_SFTP_KEY_FILE')).toMatch(/not readable \(ENOENT\)/);
    expect(message('LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT')).toMatch(/SHA256:/);
    expect(message('LOANHUB_DB_URL')).toMatch(/not a URL/);
    // A URL that does not parse is masked whole: it could hold a password anywhere.
    expect(setting(r, 'LOANHUB_DB_URL').value).toBe('****');
  });

  test('settings that only work together are reported missing', () => {
    const env = production();
    delete env.LOANHUB_ISSUER;
    delete env.LOANHUB_MAINFRAME_SFTP_KEY_FILE;
    delete env.LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT;
    const r = checkConfig(env);
    expect(problemNames(r)).toEqual([
      'LOANHUB_ISSUER',
      'LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT',
      'LOANHUB_MAINFRAME_SFTP_KEY_FILE',
    ]);
    expect(r.problems.every((p) => p.message.startsWith('missing'))).toBe(true);
  });

  test('an sftp URL without its user or base directory, or with a password, is refused', () => {
    for (const url of ['sftp://10.99.0.10:22/lhub', 'sftp://lhub@10.99.0.10:22', 'sftp://lhub:pw@10.99.0.10/lhub']) {
      const r = checkConfig({ ...production(), LOANHUB_MAINFRAME_SFTP_URL: url });
      expect(problemNames(r)).toEqual(['LOANHUB_MAINFRAME_SFTP_URL']);
    }
  });

  test('a LOANHUB_ variable that nothing reads is a warning, not a failure', () => {
    const r = checkConfig({ ...production(), LOANHUB_TIMEZONE: 'America/Lima' });
    expect(r.ok).toBe(true);
    expect(r.unknown).toEqual(['LOANHUB_TIMEZONE']);
    expect(renderConfigReport(r).err).toMatch(/LOANHUB_TIMEZONE is set but no part of loanhub reads it/);
  });

  describe('the store', () => {
    test('a PostgreSQL store that answers and takes the login passes', async () => {
      const r = await checkConfigAndStore({ ...production(), LOANHUB_DB_URL: pg.url });
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
    });

    test('a closed port is named at once, not after the timeout', async () => {
      const port = await closedPort();
      const t0 = Date.now();
      const r = await checkConfigAndStore({ ...production(), LOANHUB_DB_URL: pgUrl({ port }) }, 10_000);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => p.name)).toEqual(['LOANHUB_DB_URL']);
      expect(r.problems[0]?.message).toMatch(/^the store cannot be reached: connection refused at 127\.0\.0\.1:/);
    });

    test('a wrong password is named as a refused login, and the password is not printed', async () => {
      const r = await checkConfigAndStore({ ...production(), LOANHUB_DB_URL: pgUrl({ password: 'wrong-pass-5' }) });
      expect(r.problems.map((p) => p.name)).toEqual(['LOANHUB_DB_URL']);
      expect(r.problems[0]?.message).toMatch(/refused the login: password authentication failed for user "loanhub"/);
      expect(JSON.stringify(r) + renderConfigReport(r).out + renderConfigReport(r).err).not.toContain('wrong-pass-5');
    });

    test('a server that accepts and never answers is given up on after the connect timeout', async () => {
      const sockets: net.Socket[] = [];
      const silent = net.createServer((s) => sockets.push(s));
      const [port] = await freePorts(1);
      await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
      try {
        const t0 = Date.now();
        const r = await checkConfigAndStore({ ...production(), LOANHUB_DB_URL: pgUrl({ port }) }, 500);
        expect(Date.now() - t0).toBeLessThan(3_000);
        expect(r.problems).toEqual([
          {
            name: 'LOANHUB_DB_URL',
            message: `the store cannot be reached: no answer from 127.0.0.1:${String(port)} within 0.5 s`,
          },
        ]);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    test('a URL with a problem of its own is not tried, and the embedded store needs no connection', async () => {
      const bad = await checkConfigAndStore({ ...production(), LOANHUB_DB_URL: 'postgres//no-colon' });
      expect(bad.problems.filter((p) => p.name === 'LOANHUB_DB_URL')).toHaveLength(1);
      expect(bad.problems.find((p) => p.name === 'LOANHUB_DB_URL')?.message).toMatch(/not a URL/);
      const embedded = production();
      delete embedded.LOANHUB_DB_URL;
      expect((await checkConfigAndStore(embedded)).ok).toBe(true);
    });
  });

  describe('through the command line', () => {
    const saved = { ...process.env };
    let out: string[];
    let err: string[];
    beforeEach(() => {
      out = [];
      err = [];
      jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => out.push(String(c)) > 0);
      jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => err.push(String(c)) > 0);
    });
    afterEach(() => {
      jest.restoreAllMocks();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      process.exitCode = undefined;
    });
    const only = (env: NodeJS.ProcessEnv): void => {
      for (const k of Object.keys(process.env)) if (k === 'PORT' || k.startsWith('LOANHUB_')) delete process.env[k];
      Object.assign(process.env, env);
    };

    test('loanhub config check --json exits 0 on a good environment whose store answers', async () => {
      only({ ...production(), LOANHUB_DB_URL: pg.url });
      const code = await main(['node', 'loanhub', 'config', 'check', '--json']);
      expect(code).toBe(0);
      const report = JSON.parse(out.join('')) as ConfigReport;
      expect(report.ok).toBe(true);
      expect(report.settings.find((s) => s.name === 'LOANHUB_DB_URL')?.value).toBe(
        `postgres://loanhub:****@127.0.0.1:${String(pg.port)}/loanhub_test`,
      );
    });

    test('loanhub config check --json exits 1 naming a store that cannot be reached', async () => {
      const port = await closedPort();
      only({ ...production(), LOANHUB_DB_URL: pgUrl({ port }) });
      const code = await main(['node', 'loanhub', 'config', 'check', '--json']);
      expect(code).toBe(1);
      const report = JSON.parse(out.join('')) as ConfigReport;
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        {
          name: 'LOANHUB_DB_URL',
          message: `the store cannot be reached: connection refused at 127.0.0.1:${String(port)} (is PostgreSQL running and listening there?)`,
        },
      ]);
    });

    test('loanhub config check names a wrong password on stderr, without printing it', async () => {
      only({ ...production(), LOANHUB_DB_URL: pgUrl({ password: 'wrong-pass-5' }) });
      const code = await main(['node', 'loanhub', 'config', 'check']);
      expect(code).toBe(1);
      expect(err.join('')).toMatch(
        /LOANHUB_DB_URL: the store cannot be reached: 127\.0\.0\.1:\d+ refused the login: password authentication failed for user "loanhub"/,
      );
      expect(out.join('') + err.join('')).not.toContain('wrong-pass-5');
    });

    test('loanhub config check --no-connect checks the values only', async () => {
      only({ ...production(), LOANHUB_DB_URL: pgUrl({ port: await closedPort() }) });
      expect(await main(['node', 'loanhub', 'config', 'check', '--no-connect', '--json'])).toBe(0);
    });

    test('loanhub config check exits 1 and names the bad variable on stderr', async () => {
      only({ ...production(), LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: 'ab:cd:ef' });
      const code = await main(['node', 'loanhub', 'config', 'check', '--no-connect']);
      expect(code).toBe(1);
      expect(out.join('')).toMatch(/^SETTING\s+SOURCE\s+VALUE/);
      expect(out.join('')).toMatch(/LOANHUB_DB_URL\s+env\s+postgres:\/\/loanhub:\*\*\*\*@db.internal:5432\/loanhub/);
      expect(err.join('')).toMatch(/LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: must be SHA256:/);
    });
  });
});
