import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { startSftpDirServer } from '../../bank/mainframe/sftp-dir-server';
import { ensureKeyPair, fingerprintOf, openSshLine } from '../../bank/mainframe/ssh-key-pair';
import { SshServerError } from '../../bank/mainframe/ssh-server-errors';

// Fingerprints are what an operator compares by eye with what the mainframe team sends, so ours must
// be exactly what OpenSSH's ssh-keygen prints.

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'loanhub-keys-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sshKeygenFingerprint(file: string): string {
  const run = spawnSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
  if (run.error !== undefined) {
    throw new Error(
      `OpenSSH's ssh-keygen is needed for this test and could not be run (${run.error.message}); ` +
        'install it with: apt-get install -y openssh-client',
    );
  }
  expect(run).toMatchObject({ status: 0 });
  // "256 SHA256:abc… comment (ED25519)"
  const fingerprint = run.stdout.split(' ')[1];
  if (fingerprint === undefined) throw new Error(`unexpected ssh-keygen output: ${run.stdout}`);
  return fingerprint;
}

test('a missing key is generated as ed25519, OpenSSH format, mode 0600, with its .pub beside it', () => {
  const file = join(work, 'new', 'id_ed25519');
  const pair = ensureKeyPair(file, { comment: 'hub@loanhub' });

  expect(pair.privateKeyFile).toBe(file);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ hub@loanhub$/);
  expect(readFileSync(`${file}.pub`, 'utf8')).toBe(`${pair.publicKey}\n`);
  expect(pair.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('the fingerprint is the one ssh-keygen -lf prints, for the .pub and for the private key', () => {
  const file = join(work, 'fp', 'id_ed25519');
  const pair = ensureKeyPair(file);
  expect(pair.fingerprint).toBe(sshKeygenFingerprint(`${file}.pub`));
  expect(pair.fingerprint).toBe(sshKeygenFingerprint(file));
  expect(fingerprintOf(pair.publicKey)).toBe(pair.fingerprint);
  const blob = Buffer.from(pair.publicKey.split(' ')[1] ?? '', 'base64');
  expect(fingerprintOf(blob)).toBe(pair.fingerprint);
});

test('a key made by ssh-keygen is read as it is, and its fingerprint agrees', () => {
  const file = join(work, 'made-by-ssh-keygen');
  const run = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@bank', '-f', file], {
    encoding: 'utf8',
  });
  expect(run).toMatchObject({ status: 0 });
  const before = readFileSync(file, 'utf8');
  const pair = ensureKeyPair(file);
  expect(readFileSync(file, 'utf8')).toBe(before);
  expect(pair.publicKey).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
  expect(pair.fingerprint).toBe(sshKeygenFingerprint(`${file}.pub`));

  const rsa = join(work, 'rsa-by-ssh-keygen');
  spawnSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa]);
  expect(fingerprintOf(readFileSync(`${rsa}.pub`, 'utf8'))).toBe(sshKeygenFingerprint(`${rsa}.pub`));
});

test('an existing key is kept: a second call returns the same key', () => {
  const file = join(work, 'kept', 'id_ed25519');
  const first = ensureKeyPair(file);
  const second = ensureKeyPair(file);
  expect(second).toEqual(first);
});

test('a key file that cannot be used is an error, never silently replaced', () => {
  const garbage = join(work, 'garbage-key');
  writeFileSync(garbage, 'this is not a key\n', { mode: 0o600 });
  expect(() => ensureKeyPair(garbage)).toThrow(expect.objectContaining({ code: 'ssh_key_invalid' }));
  expect(readFileSync(garbage, 'utf8')).toBe('this is not a key\n');

  const publicOnly = join(work, 'public-only');
  writeFileSync(publicOnly, `${ensureKeyPair(join(work, 'src', 'k')).publicKey}\n`);
  expect(() => ensureKeyPair(publicOnly)).toThrow(SshServerError);
  expect(() => ensureKeyPair(publicOnly)).toThrow(expect.objectContaining({ code: 'ssh_key_not_private' }));

  const encrypted = join(work, 'encrypted');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', encrypted]);
  expect(() => ensureKeyPair(encrypted)).toThrow(expect.objectContaining({ code: 'ssh_key_invalid' }));

  expect(() => fingerprintOf('ssh-ed25519 not-base64')).toThrow(expect.objectContaining({ code: 'ssh_key_invalid' }));
});

test('openSshLine gives the public line of a private key', () => {
  const file = join(work, 'line-test');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'line-test', '-f', file]);
  const key = utils.parseKey(readFileSync(file, 'utf8'));
  if (key instanceof Error) throw key;
  expect(openSshLine(key)).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
});

test('every generated key can be read back (ssh2 drops a leading zero byte of about one key in 256)', () => {
  // 1,000 keys: with the defect unhandled, the chance that none of them is malformed is about 2%.
  for (let i = 0; i < 1000; i++) {
    const file = join(work, 'many', `k${i}`);
    const pair = ensureKeyPair(file);
    expect(ensureKeyPair(file)).toEqual(pair);
  }
});

test("the server's host fingerprint is ssh-keygen's for the host key file it generated", async () => {
  const hostKeyFile = join(work, 'host', 'ssh_host_ed25519_key');
  const client = ensureKeyPair(join(work, 'client', 'id_ed25519'));
  const server = await startSftpDirServer({
    root: join(work, 'served'),
    hostKeyFile,
    username: 'u',
    authorizedKeys: [client.publicKey],
  });
  try {
    expect(statSync(hostKeyFile).mode & 0o777).toBe(0o600);
    expect(server.hostFingerprint).toBe(sshKeygenFingerprint(hostKeyFile));
  } finally {
    await server.close();
  }
  // Restarted on the same file, the server keeps its identity.
  const again = await startSftpDirServer({
    root: join(work, 'served'),
    hostKeyFile,
    username: 'u',
    authorizedKeys: [],
  });
  try {
    expect(again.hostFingerprint).toBe(sshKeygenFingerprint(hostKeyFile));
  } finally {
    await again.close();
  }
});

test('authorized keys that are not OpenSSH public key lines stop the server from starting', async () => {
  const base = { root: join(work, 'served2'), hostKeyFile: join(work, 'host2', 'key'), username: 'u' };
  await expect(startSftpDirServer({ ...base, authorizedKeys: ['ssh-ed25519 garbage'] })).rejects.toMatchObject({
    code: 'authorized_key_invalid',
  });
  const priv = join(work, 'as-authorized');
  ensureKeyPair(priv);
  chmodSync(priv, 0o600);
  await expect(startSftpDirServer({ ...base, authorizedKeys: [readFileSync(priv, 'utf8')] })).rejects.toMatchObject({
    code: 'authorized_key_invalid',
  });
});
