import { timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Server, utils, type AuthContext, type Connection, type ParsedKey } from 'ssh2';
import { createRootConfinement } from './root-confined-path';
import { serveSftpSession, type SftpLog } from './sftp-dir-session';
import { ensureKeyPair, fingerprintOf } from './ssh-key-pair';
import { SshServerError } from './ssh-server-errors';

// The mainframe simulator's SFTP endpoint: one directory served over SSH to one user, who logs in with
// a public key and gets the SFTP subsystem and nothing else (no shell, no exec, no forwarding), as a
// bank's z/OS SFTP drop is set up for a partner. The hub connects to it with the same client, key and
// pinned host fingerprint it uses against the real mainframe.

export interface SftpDirServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** `SHA256:<base64 without padding>` exactly as `ssh-keygen -lf` prints it for the host key */
  readonly hostFingerprint: string;
  close(): Promise<void>;
}

export interface SftpDirServerOptions {
  /** The directory clients see as `/`; created when missing. */
  readonly root: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port, read back from `port`. */
  readonly port?: number;
  /** Private host key; generated (ed25519, OpenSSH format, mode 0600) when missing. */
  readonly hostKeyFile: string;
  readonly username: string;
  /** OpenSSH public key lines, `ssh-ed25519 AAAA… comment`. */
  readonly authorizedKeys: readonly string[];
  readonly onLog?: SftpLog;
}

/** Time a connection has to log in, as OpenSSH's LoginGraceTime, so idle sockets do not pile up. */
const LOGIN_GRACE_MS = 60_000;

interface AuthorizedKey {
  readonly key: ParsedKey;
  readonly blob: Buffer;
}

export async function startSftpDirServer(opts: SftpDirServerOptions): Promise<SftpDirServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = safeLog(opts.onLog);
  const confinement = createRootConfinement(prepareRoot(opts.root));
  const authorized = parseAuthorizedKeys(opts.authorizedKeys);
  const wantedUser = Buffer.from(opts.username, 'utf8');

  ensureKeyPair(opts.hostKeyFile, { comment: 'loanhub-mainframe-simulator' });
  // The fingerprint is taken from the key the server actually loads, not from a .pub file beside it.
  const hostKeyText = readFileSync(opts.hostKeyFile);
  const hostKey = utils.parseKey(hostKeyText);
  if (hostKey instanceof Error) {
    throw new SshServerError('ssh_key_invalid', `cannot read ${opts.hostKeyFile}: ${hostKey.message}`, {
      file: opts.hostKeyFile,
    });
  }
  const hostFingerprint = fingerprintOf(hostKey.getPublicSSH());

  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKeyText], ident: 'LoanHub_MainframeSimulator' }, (client, info) => {
    const remote = `${info.ip}:${info.port}`;
    connections.add(client);
    const grace = setTimeout(() => {
      log('sftp login timed out', { remote });
      client.end();
    }, LOGIN_GRACE_MS);
    grace.unref();

    client.on('authentication', (ctx) => {
      const refusal = refusalOf(ctx, wantedUser, authorized);
      if (refusal === undefined) {
        ctx.accept();
        return;
      }
      // 'none' is how every client asks which methods exist (RFC 4252 §5.2): not worth a line.
      if (ctx.method !== 'none')
        log('sftp login refused', { remote, username: ctx.username, method: ctx.method, reason: refusal });
      ctx.reject(['publickey']);
    });

    client.on('ready', () => {
      clearTimeout(grace);
      const logFields = { remote, username: opts.username };
      log('sftp client logged in', logFields);
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          log('sftp session started', logFields);
          const sftp = acceptSftp();
          serveSftpSession(sftp, { confinement, log, logFields });
          sftp.on('end', () => log('sftp session ended', logFields));
        });
        session.on('exec', (_accept, reject, request) => {
          log('sftp exec refused', { ...logFields, command: request.command.slice(0, 80) });
          reject();
        });
        session.on('shell', (_accept, reject) => {
          log('sftp shell refused', logFields);
          reject();
        });
        session.on('subsystem', (_accept, reject, request) => {
          log('sftp subsystem refused', { ...logFields, subsystem: request.name });
          reject();
        });
      });
    });

    client.on('error', (err: Error) => log('sftp connection error', { remote, error: err.message }));
    client.on('close', () => {
      clearTimeout(grace);
      connections.delete(client);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err: Error) => log('sftp server error', { error: err.message }));
  const port = (server.address() as AddressInfo).port;
  log('sftp server listening', { host, port, root: confinement.realRoot, hostFingerprint });

  let closing: Promise<void> | undefined;
  return Object.freeze({
    host,
    port,
    username: opts.username,
    hostFingerprint,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const client of connections) client.end();
      });
      return closing;
    },
  });
}

/** Why a login is refused, or undefined to accept it. Public keys only, verified as in ssh2's server example. */
function refusalOf(ctx: AuthContext, wantedUser: Buffer, authorized: readonly AuthorizedKey[]): string | undefined {
  if (ctx.method !== 'publickey') return `method ${ctx.method} not allowed`;
  const userMatches = sameBytes(Buffer.from(ctx.username, 'utf8'), wantedUser);
  const match = authorized.find((k) => sameBytes(ctx.key.data, k.blob));
  if (!userMatches) return 'unknown user';
  if (match === undefined) return 'key not authorized';
  // Without a signature the client only asks whether the key would do (RFC 4252 §7); ssh2 answers
  // PK_OK on accept and the client then signs. Nothing is granted until a signature verifies.
  if (ctx.signature === undefined) return undefined;
  if (ctx.blob === undefined || match.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
    return 'signature does not verify';
  }
  return undefined;
}

function parseAuthorizedKeys(lines: readonly string[]): AuthorizedKey[] {
  return lines.map((line, index) => {
    const key = utils.parseKey(line.trim());
    if (key instanceof Error) {
      throw new SshServerError('authorized_key_invalid', `authorized key ${index + 1}: ${key.message}`, { index });
    }
    if (key.isPrivateKey()) {
      throw new SshServerError('authorized_key_invalid', `authorized key ${index + 1} is a private key`, { index });
    }
    return { key, blob: key.getPublicSSH() };
  });
}

function prepareRoot(root: string): string {
  try {
    mkdirSync(root, { recursive: true });
    const real = realpathSync(root);
    if (!statSync(real).isDirectory()) throw new Error('not a directory');
    return real;
  } catch (err) {
    const reason = messageOf(err);
    throw new SshServerError('sftp_root_invalid', `cannot serve ${root}: ${reason}`, { root }, { cause: err });
  }
}

/** Compares in constant time for equal lengths, so a probe cannot learn a user name or key byte by byte. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A log sink that throws must not take the server down with it. */
function safeLog(onLog: SftpLog | undefined): SftpLog {
  if (onLog === undefined) return () => undefined;
  return (msg, fields) => {
    try {
      onLog(msg, fields);
    } catch (err) {
      process.emitWarning(`sftp server log sink failed: ${messageOf(err)}`);
    }
  };
}

function messageOf(err: unknown): string {
  // Not `instanceof Error`: errors from Node's own modules come from another realm under jest's vm.
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  return String(err);
}
