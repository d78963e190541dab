import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  createReadStream as createLocalReadStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, type SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { startSftpDirServer, type SftpDirServer } from '../../bank/mainframe/sftp-dir-server';
import { ensureKeyPair, fingerprintOf, type SshKeyPair } from '../../bank/mainframe/ssh-key-pair';

// The mainframe simulator's SFTP server, driven by the client the hub uses (ssh2-sftp-client, key
// login, host fingerprint pinned) and by OpenSSH's own sftp command, against a temporary directory.

const USER = 'lhubxfer';
let work: string;
let root: string;
let outside: string;
let server: SftpDirServer;
let clientKey: SshKeyPair;
let strangerKey: SshKeyPair;
const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
const open: SftpClient[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'loanhub-sftp-'));
  root = join(work, 'mainframe');
  outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'not for sftp clients');
  clientKey = ensureKeyPair(join(work, 'keys', 'hub_ed25519'));
  strangerKey = ensureKeyPair(join(work, 'keys', 'stranger_ed25519'));
  server = await startSftpDirServer({
    root,
    hostKeyFile: join(work, 'host', 'ssh_host_ed25519_key'),
    username: USER,
    authorizedKeys: [clientKey.publicKey],
    onLog: (msg, fields) => logs.push({ msg, fields }),
  });
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.end().catch(() => false);
});

afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

function connectOptions(overrides: Partial<SftpClient.ConnectOptions> = {}): SftpClient.ConnectOptions {
  return {
    host: server.host,
    port: server.port,
    username: USER,
    privateKey: readFileSync(clientKey.privateKeyFile),
    // The check the hub makes: the host key's fingerprint must be the pinned one.
    hostVerifier: (key: Buffer) => fingerprintOf(key) === server.hostFingerprint,
    readyTimeout: 10_000,
    ...overrides,
  };
}

async function connect(overrides: Partial<SftpClient.ConnectOptions> = {}): Promise<SftpClient> {
  const c = new SftpClient();
  open.push(c);
  await c.connect(connectOptions(overrides));
  return c;
}

/** Connects with the raw ssh2 SFTP channel too, for requests ssh2-sftp-client does not expose. */
async function connectRaw(): Promise<{ client: SftpClient; sftp: SFTPWrapper }> {
  const client = new SftpClient();
  open.push(client);
  const sftp = await client.connect(connectOptions());
  return { client, sftp };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function collect(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** Runs a command without blocking the event loop, which also serves the SFTP server under test. */
function runCommand(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('file transfer with the hub client (ssh2-sftp-client)', () => {
  test('a buffer put comes back byte for byte, through get to a buffer, a file and a stream', async () => {
    const c = await connect();
    // Every byte value, so no text conversion can hide.
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(100_000)]);
    await c.put(bytes, '/round-trip.bin');

    expect(readFileSync(join(root, 'round-trip.bin')).equals(bytes)).toBe(true);
    const asBuffer = await c.get('/round-trip.bin');
    expect(Buffer.isBuffer(asBuffer) && asBuffer.equals(bytes)).toBe(true);

    const localCopy = join(work, 'round-trip.copy');
    await c.get('/round-trip.bin', localCopy);
    expect(readFileSync(localCopy).equals(bytes)).toBe(true);

    const { sink, bytes: streamed } = collect();
    await c.get('/round-trip.bin', sink);
    expect(streamed().equals(bytes)).toBe(true);

    const st = await c.stat('/round-trip.bin');
    expect(st.size).toBe(bytes.length);
    expect(st.isFile).toBe(true);
    expect(await c.exists('/round-trip.bin')).toBe('-');
    expect(await c.exists('/no-such-file')).toBe(false);
  });

  test('put from a file path and from a stream, fastPut, fastGet, createReadStream and append', async () => {
    const c = await connect();
    const source = join(work, 'source.bin');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(source, bytes);

    await c.put(source, '/from-path.bin');
    await c.put(createLocalReadStream(source), '/from-stream.bin');
    await c.fastPut(source, '/fast.bin');
    for (const name of ['from-path.bin', 'from-stream.bin', 'fast.bin']) {
      expect(sha256(readFileSync(join(root, name)))).toBe(sha256(bytes));
    }

    const fastCopy = join(work, 'fast.copy');
    await c.fastGet('/fast.bin', fastCopy);
    expect(sha256(readFileSync(fastCopy))).toBe(sha256(bytes));

    const { sink, bytes: streamed } = collect();
    await pipeline(c.createReadStream('/from-stream.bin'), sink);
    expect(sha256(streamed())).toBe(sha256(bytes));

    await c.put(Buffer.from('HEADER\n'), '/appended.txt');
    await c.append(Buffer.from('LINE 1\n'), '/appended.txt');
    await c.append(Readable.from([Buffer.from('LINE 2\n'), Buffer.from('LINE 3\n')]), '/appended.txt');
    expect(readFileSync(join(root, 'appended.txt'), 'utf8')).toBe('HEADER\nLINE 1\nLINE 2\nLINE 3\n');
  });

  test('a 50 MB streamed put is stored whole and reads back with the same SHA-256', async () => {
    const c = await connect();
    const size = 50 * 1024 * 1024;
    const sent = createHash('sha256');
    // Generated chunk by chunk, so the test itself never holds the file.
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= size) {
          this.push(null);
          return;
        }
        const chunk = randomBytes(Math.min(1024 * 1024, size - produced));
        produced += chunk.length;
        sent.update(chunk);
        this.push(chunk);
      },
    });
    await c.put(source, '/big.dat');
    const sentDigest = sent.digest('hex');

    expect((await c.stat('/big.dat')).size).toBe(size);
    const onDisk = createHash('sha256');
    await pipeline(createLocalReadStream(join(root, 'big.dat')), onDisk);
    expect(onDisk.digest('hex')).toBe(sentDigest);

    const readBack = createHash('sha256');
    const through = new PassThrough();
    const hashed = pipeline(through, readBack);
    await c.get('/big.dat', through);
    await hashed;
    expect(readBack.digest('hex')).toBe(sentDigest);
  }, 180_000);

  test('rename to a name that exists is refused and both files stay as they were', async () => {
    const c = await connect();
    await c.put(Buffer.from('the new file'), '/LHUB.PAY.CSH.D250102.S01.tmp');
    await c.put(Buffer.from('the file already there'), '/LHUB.PAY.CSH.D250102.S01');

    await expect(c.rename('/LHUB.PAY.CSH.D250102.S01.tmp', '/LHUB.PAY.CSH.D250102.S01')).rejects.toThrow(/exists/);
    expect(readFileSync(join(root, 'LHUB.PAY.CSH.D250102.S01'), 'utf8')).toBe('the file already there');
    expect(readFileSync(join(root, 'LHUB.PAY.CSH.D250102.S01.tmp'), 'utf8')).toBe('the new file');

    await c.rename('/LHUB.PAY.CSH.D250102.S01.tmp', '/LHUB.PAY.CSH.D250102.S02');
    expect(existsSync(join(root, 'LHUB.PAY.CSH.D250102.S01.tmp'))).toBe(false);
    expect(readFileSync(join(root, 'LHUB.PAY.CSH.D250102.S02'), 'utf8')).toBe('the new file');
  });

  test('posixRename is refused by the client: the server cannot advertise the extension', async () => {
    const c = await connect();
    await c.put(Buffer.from('posix'), '/posix-source.txt');
    await expect(c.posixRename('/posix-source.txt', '/posix-target.txt')).rejects.toThrow(
      /does not support this extended request/,
    );
    expect(readFileSync(join(root, 'posix-source.txt'), 'utf8')).toBe('posix');
    expect(existsSync(join(root, 'posix-target.txt'))).toBe(false);
  });

  test('a client that sends posix-rename anyway gets rename(2), replacing the target', async () => {
    const { client, sftp } = await connectRaw();
    await client.put(Buffer.from('replacement'), '/posix-a.txt');
    await client.put(Buffer.from('replaced'), '/posix-b.txt');
    // ssh2's client only sends the extension when the server advertised it; pretend it did.
    (sftp as unknown as { _extensions: Record<string, string> })._extensions['posix-rename@openssh.com'] = '1';
    await new Promise<void>((resolve, reject) =>
      sftp.ext_openssh_rename('/posix-a.txt', '/posix-b.txt', (err) => (err ? reject(err) : resolve())),
    );
    expect(existsSync(join(root, 'posix-a.txt'))).toBe(false);
    expect(readFileSync(join(root, 'posix-b.txt'), 'utf8')).toBe('replacement');
  });

  test('list shows files and directories with their type and size', async () => {
    const c = await connect();
    await c.mkdir('/listing/inbound', true);
    await c.put(Buffer.alloc(200, 0x40), '/listing/LHUB.PAY.MTG.D250102.S01');
    await c.put(Buffer.alloc(0), '/listing/LHUB.PAY.MTG.D250102.S01.OK');

    const entries = await c.list('/listing');
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['LHUB.PAY.MTG.D250102.S01', 'LHUB.PAY.MTG.D250102.S01.OK', 'inbound']);
    expect(byName.get('LHUB.PAY.MTG.D250102.S01')).toMatchObject({ type: '-', size: 200 });
    expect(byName.get('LHUB.PAY.MTG.D250102.S01.OK')).toMatchObject({ type: '-', size: 0 });
    expect(byName.get('inbound')).toMatchObject({ type: 'd' });
    expect(byName.get('LHUB.PAY.MTG.D250102.S01')?.rights.user).toContain('r');
  });

  test('a directory of more entries than one READDIR answer lists them all', async () => {
    const c = await connect();
    await c.mkdir('/many');
    for (let i = 0; i < 250; i++) writeFileSync(join(root, 'many', `F${String(i).padStart(3, '0')}`), '');
    const names = (await c.list('/many')).map((e) => e.name).sort();
    expect(names).toHaveLength(250);
    expect(names[0]).toBe('F000');
    expect(names[249]).toBe('F249');
  });

  test('mkdir (recursive), delete and rmdir change the directory on disk', async () => {
    const c = await connect();
    await c.mkdir('/outbound/2025/01', true);
    expect(await c.exists('/outbound/2025/01')).toBe('d');
    await c.put(Buffer.from('x'), '/outbound/2025/01/file.txt');

    await expect(c.rmdir('/outbound/2025/01')).rejects.toThrow();
    expect(existsSync(join(root, 'outbound', '2025', '01', 'file.txt'))).toBe(true);

    await c.delete('/outbound/2025/01/file.txt');
    expect(existsSync(join(root, 'outbound', '2025', '01', 'file.txt'))).toBe(false);
    await expect(c.delete('/outbound/2025/01/file.txt')).rejects.toThrow(/no such file/i);

    await c.rmdir('/outbound/2025/01');
    expect(existsSync(join(root, 'outbound', '2025', '01'))).toBe(false);
    await c.put(Buffer.from('y'), '/outbound/2025/kept.txt');
    await c.rmdir('/outbound', true);
    expect(existsSync(join(root, 'outbound'))).toBe(false);
  });

  test('files a session leaves open are closed when the session ends', async () => {
    const openFds = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(join('/proc/self/fd', fd)).startsWith(join(root, 'left-open'));
        } catch {
          return false; // the descriptor readdir itself used is gone by now
        }
      }).length;
    const { client, sftp } = await connectRaw();
    await client.put(Buffer.from('abc'), '/left-open.txt');
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        sftp.open('/left-open.txt', 'r', (err) => (err ? reject(err) : resolve())),
      );
    }
    expect(openFds()).toBe(3);
    await client.end();
    for (let i = 0; i < 50 && openFds() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(0);
  });
});

describe('who may connect', () => {
  test('a key that is not authorized is refused', async () => {
    const c = new SftpClient();
    open.push(c);
    await expect(c.connect(connectOptions({ privateKey: readFileSync(strangerKey.privateKeyFile) }))).rejects.toThrow(
      /authentication/i,
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'sftp login refused',
        fields: expect.objectContaining({ reason: 'key not authorized' }),
      }),
    );
  });

  test('the right key under another user name is refused', async () => {
    const c = new SftpClient();
    open.push(c);
    await expect(c.connect(connectOptions({ username: 'root' }))).rejects.toThrow(/authentication/i);
  });

  test('a password login is refused, whatever the password', async () => {
    const c = new SftpClient();
    open.push(c);
    await expect(
      c.connect(connectOptions({ privateKey: undefined, password: 'lhubxfer', tryKeyboard: true })),
    ).rejects.toThrow(/authentication/i);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'sftp login refused', fields: expect.objectContaining({ method: 'password' }) }),
    );
  });

  test('a host whose key does not match the pinned fingerprint is refused and nothing is written', async () => {
    const before = listTree(root);
    const c = new SftpClient();
    open.push(c);
    const otherFingerprint = fingerprintOf(strangerKey.publicKey);
    await expect(
      c.connect(connectOptions({ hostVerifier: (key: Buffer) => fingerprintOf(key) === otherFingerprint })),
    ).rejects.toThrow();
    await expect(c.put(Buffer.from('must not arrive'), '/wrong-host.txt')).rejects.toThrow();
    expect(listTree(root)).toEqual(before);
  });

  test('only the SFTP subsystem is served: exec is refused', async () => {
    const ssh = new Client();
    await new Promise<void>((resolve, reject) => {
      ssh.on('ready', resolve).on('error', reject);
      ssh.connect({
        host: server.host,
        port: server.port,
        username: USER,
        privateKey: readFileSync(clientKey.privateKeyFile),
        hostVerifier: (key: Buffer) => fingerprintOf(key) === server.hostFingerprint,
      });
    });
    try {
      const outcome = await new Promise<string>((resolve) =>
        ssh.exec('touch /tmp/loanhub-exec-ran', (err) => resolve(err ? `refused: ${err.message}` : 'accepted')),
      );
      expect(outcome).toMatch(/^refused/);
      expect(existsSync('/tmp/loanhub-exec-ran')).toBe(false);
      const shell = await new Promise<string>((resolve) =>
        ssh.shell((err) => resolve(err ? `refused: ${err.message}` : 'accepted')),
      );
      expect(shell).toMatch(/^refused/);
    } finally {
      ssh.end();
    }
  });
});

describe('every path stays inside the served directory', () => {
  test('../../etc/passwd and /etc/passwd name files under the root, never the machine’s', async () => {
    const c = await connect();
    await expect(c.get('../../etc/passwd')).rejects.toThrow(/no such file/i);
    await expect(c.get('/etc/passwd')).rejects.toThrow(/no such file/i);

    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'the simulator’s own etc/passwd');
    for (const path of ['/etc/passwd', '../../etc/passwd', '/../../../etc/./passwd', 'etc/../../etc/passwd']) {
      const got = await c.get(path);
      expect(String(got)).toBe('the simulator’s own etc/passwd');
    }
    expect(await c.realPath('../../..')).toBe('/');
    expect(await c.realPath('/a/../../etc')).toBe('/etc');
  });

  test('an upload to ../../ lands in the root', async () => {
    const c = await connect();
    await c.put(Buffer.from('stayed inside'), '../../escaped.txt');
    expect(readFileSync(join(root, 'escaped.txt'), 'utf8')).toBe('stayed inside');
    expect(existsSync(join(work, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(tmpdir(), 'escaped.txt'))).toBe(false);
  });

  test('a symlink inside the root that points outside it is not followed', async () => {
    symlinkSync(outside, join(root, 'way-out'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
    symlinkSync(join(outside, 'planted.txt'), join(root, 'dangling-link'));
    const c = await connect();

    await expect(c.get('/way-out/secret.txt')).rejects.toThrow(/outside the served directory/);
    await expect(c.get('/secret-link')).rejects.toThrow(/outside the served directory/);
    await expect(c.put(Buffer.from('overwrite'), '/secret-link')).rejects.toThrow(/outside the served directory/);
    await expect(c.put(Buffer.from('planted'), '/way-out/new.txt')).rejects.toThrow(/outside the served directory/);
    await expect(c.put(Buffer.from('planted'), '/dangling-link')).rejects.toThrow();
    await expect(c.list('/way-out')).rejects.toThrow(/outside the served directory/);
    await expect(c.realPath('/way-out')).rejects.toThrow(/outside the served directory/);

    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('not for sftp clients');
    const names = new Map((await c.list('/')).map((e) => [e.name, e.type]));
    expect(names.get('way-out')).toBe('l');
    expect(names.get('secret-link')).toBe('l');
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'sftp request failed',
        fields: expect.objectContaining({ path: '/secret-link' }),
      }),
    );
  });

  test('the served directory itself cannot be removed or renamed', async () => {
    const c = await connect();
    mkdirSync(join(root, 'empty-dir'));
    await expect(c.rename('/', '/elsewhere')).rejects.toThrow(/permission denied/i);
    await expect(c.rename('/empty-dir', '/..')).rejects.toThrow(/permission denied/i);
    expect(existsSync(root)).toBe(true);
  });
});

describe("OpenSSH's sftp command line client", () => {
  test('puts, lists, renames and gets a file through the server', async () => {
    const probe = spawnSync('sftp', ['-h'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      throw new Error(
        `OpenSSH's sftp client is needed for this test and could not be run (${probe.error.message}); ` +
          'install it with: apt-get install -y openssh-client',
      );
    }
    const local = join(work, 'openssh');
    mkdirSync(local);
    const bytes = randomBytes(1024 * 1024 + 3);
    writeFileSync(join(local, 'upload.bin'), bytes);
    const batch = join(local, 'batch.txt');
    writeFileSync(
      batch,
      [
        'mkdir /openssh',
        `put ${join(local, 'upload.bin')} /openssh/LHUB.PAY.VEH.D250102.S01.tmp`,
        'rename /openssh/LHUB.PAY.VEH.D250102.S01.tmp /openssh/LHUB.PAY.VEH.D250102.S01',
        'ls -l /openssh',
        `get /openssh/LHUB.PAY.VEH.D250102.S01 ${join(local, 'download.bin')}`,
        '',
      ].join('\n'),
    );
    const run = await runCommand('sftp', [
      '-b',
      batch,
      '-i',
      clientKey.privateKeyFile,
      '-F',
      '/dev/null',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'IdentitiesOnly=yes',
      '-P',
      String(server.port),
      `${USER}@127.0.0.1`,
    ]);
    // The whole result on failure, so OpenSSH's own words show in the test output.
    expect(run).toMatchObject({ status: 0 });
    expect(run.stdout).toMatch(/^-rw\S*\s+1 .*\s1048579 .* LHUB\.PAY\.VEH\.D250102\.S01$/m);
    expect(run.stdout).not.toMatch(/^-.*S01\.tmp$/m);
    expect(readFileSync(join(root, 'openssh', 'LHUB.PAY.VEH.D250102.S01')).equals(bytes)).toBe(true);
    expect(readFileSync(join(local, 'download.bin')).equals(bytes)).toBe(true);
  }, 90_000);
});
