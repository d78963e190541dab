import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { utils, type ParsedKey } from 'ssh2';
import { SshServerError } from './ssh-server-errors';

// SSH key files as OpenSSH keeps them: the private key in OpenSSH format, readable by its owner only,
// with `<file>.pub` beside it, and fingerprints printed the way `ssh-keygen -lf` prints them, so an
// operator can compare what a log line says with what the mainframe team sends.

export interface SshKeyPair {
  readonly privateKeyFile: string;
  /** The public key as one OpenSSH line: `ssh-ed25519 AAAA… comment`. */
  readonly publicKey: string;
  /** `SHA256:<base64 without padding>` of the public key blob. */
  readonly fingerprint: string;
}

/**
 * Reads the private key at `privateKeyFile`, or generates an ed25519 key there (mode 0600, with the
 * public line in `<file>.pub`) when the file does not exist. Any other problem reading it is an error:
 * a key that exists but cannot be read is never replaced, since that would change the fingerprint
 * every client has pinned.
 */
export function ensureKeyPair(privateKeyFile: string, opts: { comment?: string } = {}): SshKeyPair {
  const text = readOrGenerate(privateKeyFile, opts.comment ?? basename(privateKeyFile));
  const key = utils.parseKey(text);
  if (key instanceof Error) {
    throw new SshServerError('ssh_key_invalid', `cannot read ${privateKeyFile}: ${key.message}`, {
      file: privateKeyFile,
    });
  }
  if (!key.isPrivateKey()) {
    throw new SshServerError('ssh_key_not_private', `${privateKeyFile} holds a public key`, { file: privateKeyFile });
  }
  const publicKey = openSshLine(key);
  return Object.freeze({ privateKeyFile, publicKey, fingerprint: fingerprintOf(key.getPublicSSH()) });
}

/**
 * The SHA-256 fingerprint of a public key, as `ssh-keygen -lf` prints it. Takes an OpenSSH public key
 * line, or the raw key blob (what ssh2's `hostVerifier` is handed).
 */
export function fingerprintOf(publicKeyLineOrBlob: string | Uint8Array): string {
  const blob = typeof publicKeyLineOrBlob === 'string' ? parsePublicLine(publicKeyLineOrBlob) : publicKeyLineOrBlob;
  // OpenSSH prints the base64 digest without its '=' padding (sshkey_fingerprint, SSH_FP_BASE64).
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The OpenSSH public key line of a parsed key (public or private). */
export function openSshLine(key: ParsedKey): string {
  const line = `${key.type} ${key.getPublicSSH().toString('base64')}`;
  return key.comment === '' ? line : `${line} ${key.comment}`;
}

function parsePublicLine(line: string): Buffer {
  const key = utils.parseKey(line.trim());
  if (key instanceof Error) {
    throw new SshServerError('ssh_key_invalid', `not an OpenSSH public key line: ${key.message}`);
  }
  return key.getPublicSSH();
}

function readOrGenerate(file: string, comment: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') {
      throw new SshServerError('ssh_key_invalid', `cannot read ${file}: ${messageOf(err)}`, { file }, { cause: err });
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const pair = generateParsableKeyPair(comment);
  try {
    // 'wx': if another process created the key in the meantime, keep theirs rather than overwrite it.
    writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return readFileSync(file, 'utf8');
    throw new SshServerError('ssh_key_invalid', `cannot write ${file}: ${messageOf(err)}`, { file }, { cause: err });
  }
  writeFileSync(`${file}.pub`, `${pair.public.trim()}\n`, { mode: 0o644 });
  return pair.private;
}

/**
 * ssh2's ed25519 generator strips leading zero bytes from the 32-byte public key, so about one key in
 * 256 comes out malformed and `parseKey` refuses it (mscdex/ssh2#1390, #1513). Such a key is
 * discarded and another one drawn before anything is written; the chance of three bad draws in a row
 * is below one in ten million, and a fourth would be a real fault worth an error.
 */
function generateParsableKeyPair(comment: string): { private: string; public: string } {
  for (let attempt = 1; attempt <= 4; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
  }
  throw new SshServerError('ssh_key_invalid', 'ssh2 generated four ed25519 keys it cannot read back');
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function messageOf(err: unknown): string {
  // Not `instanceof Error`: errors from Node's own modules come from another realm under jest's vm.
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  return String(err);
}
