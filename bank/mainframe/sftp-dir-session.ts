import { constants, type Dir, type Stats } from 'node:fs';
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  open,
  opendir,
  rename,
  rmdir,
  stat,
  truncate,
  unlink,
  utimes,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { utils, type Attributes, type SFTPWrapper } from 'ssh2';
import { attrsOf, longnameOf } from './sftp-attrs';
import { PathOutsideRootError, type RootConfinement } from './root-confined-path';

// One SFTP session over the served directory: SFTP v3 requests (draft-ietf-secsh-filexfer-02) answered
// from the file system, every path confined to the root. Requests on one handle run one after another
// in arrival order, so appends land in order and a CLOSE waits for the writes sent before it; requests
// on different handles and paths run concurrently. Nothing holds more than one read or write chunk in
// memory: how much is in flight is bounded by the client's own request window (64 requests of 32 KiB
// for OpenSSH and ssh2).

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Largest READ answer; clients ask for 32 KiB and accept shorter answers. */
const MAX_READ = 256 * 1024;
/** Entries per READDIR answer. */
const DIR_BATCH = 100;
/** Open files and directories per session, so one client cannot exhaust the process's descriptors. */
const MAX_HANDLES = 256;

export type SftpLog = (msg: string, fields?: Record<string, unknown>) => void;

export interface SftpSessionContext {
  readonly confinement: RootConfinement;
  readonly log: SftpLog;
  /** Fields every log line of the session carries (remote address, user). */
  readonly logFields: Readonly<Record<string, unknown>>;
}

interface HandleBase {
  readonly virtualPath: string;
  /** The tail of this handle's queue of requests. */
  tail: Promise<void>;
}
interface FileEntry extends HandleBase {
  readonly kind: 'file';
  readonly file: FileHandle;
  bytesWritten: number;
}
interface DirEntry extends HandleBase {
  readonly kind: 'dir';
  readonly dir: Dir;
  readonly real: string;
  dotsSent: boolean;
  done: boolean;
}
type OpenEntry = FileEntry | DirEntry;

// @types/ssh2 makes a name entry's attrs mandatory; ssh2 itself sends empty ATTRS when they are left
// out (SFTP.md, name(): "attrs - optional"), which is what OpenSSH answers REALPATH with.
interface NameEntry {
  readonly filename: string;
  readonly longname: string;
  readonly attrs?: Attributes;
}
type SendNames = (reqId: number, names: readonly NameEntry[]) => void;

/** Answers the requests of one accepted SFTP channel until it ends; then closes what it left open. */
export function serveSftpSession(sftp: SFTPWrapper, ctx: SftpSessionContext): void {
  const { confinement } = ctx;
  const handles = new Map<number, OpenEntry>();
  let nextHandle = 0;
  let ended = false;
  const sendNames = sftp.name.bind(sftp) as SendNames;

  const fail = (reqId: number, op: string, virtualPath: string, err: unknown): void => {
    const answer = statusOf(err, op, virtualPath);
    if (answer.log) ctx.log('sftp request failed', { ...ctx.logFields, op, path: virtualPath, error: answer.message });
    sftp.status(reqId, answer.code, answer.message);
  };

  /** Runs a request on a path; any error becomes the status the client gets. */
  const onPath = (
    reqId: number,
    op: string,
    clientPath: string,
    task: (virtualPath: string) => Promise<void>,
  ): void => {
    const virtualPath = confinement.virtualOf(clientPath);
    task(virtualPath).catch((err: unknown) => fail(reqId, op, virtualPath, err));
  };

  /** Queues a request behind the earlier ones on the same handle. */
  const onHandle = <K extends OpenEntry['kind']>(
    reqId: number,
    op: string,
    handle: Buffer,
    kinds: readonly K[],
    task: (entry: Extract<OpenEntry, { kind: K }>) => Promise<void>,
  ): void => {
    const entry = handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined;
    if (entry === undefined || !(kinds as readonly string[]).includes(entry.kind)) {
      sftp.status(reqId, STATUS_CODE.FAILURE, `${op}: invalid handle`);
      return;
    }
    const typed = entry as Extract<OpenEntry, { kind: K }>;
    entry.tail = entry.tail.then(() => task(typed).catch((err: unknown) => fail(reqId, op, entry.virtualPath, err)));
  };

  const register = (entry: OpenEntry): Buffer => {
    const id = nextHandle;
    nextHandle = (nextHandle + 1) >>> 0;
    handles.set(id, entry);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id, 0);
    return buf;
  };

  const release = (entry: OpenEntry): Promise<void> => (entry.kind === 'file' ? entry.file.close() : entry.dir.close());

  const closeAll = (): void => {
    if (ended) return;
    ended = true;
    for (const entry of handles.values()) {
      entry.tail = entry.tail.then(() =>
        release(entry).catch((err: unknown) =>
          ctx.log('sftp handle close failed', { ...ctx.logFields, path: entry.virtualPath, error: messageOf(err) }),
        ),
      );
    }
    if (handles.size > 0) ctx.log('sftp session ended with open handles', { ...ctx.logFields, open: handles.size });
    handles.clear();
  };
  sftp.on('end', () => {
    closeAll();
    // The client sent EOF: close our side of the channel too. OpenSSH's ssh waits for this close
    // before it exits, so without it an `sftp -b` run never ends.
    sftp.end();
  });
  sftp.on('close', closeAll);

  sftp.on('OPEN', (reqId: number, filename: string, pflags: number, attrs: Partial<Attributes>) =>
    onPath(reqId, 'open', filename, async (virtualPath) => {
      if (handles.size >= MAX_HANDLES) {
        sftp.status(reqId, STATUS_CODE.FAILURE, `open ${virtualPath}: too many open handles`);
        return;
      }
      const real = await confinement.resolveFollowing(virtualPath);
      // O_NOFOLLOW: the path is already resolved, so a symlink here can only be a dangling one or one
      // swapped in since; either could point outside the root.
      const file = await open(real, fsFlagsOf(pflags) | constants.O_NOFOLLOW, permissionsOf(attrs, 0o666));
      if (ended) {
        await file.close();
        return;
      }
      sftp.handle(reqId, register({ kind: 'file', file, virtualPath, tail: Promise.resolve(), bytesWritten: 0 }));
    }),
  );

  sftp.on('READ', (reqId: number, handle: Buffer, offset: number, length: number) =>
    onHandle(reqId, 'read', handle, ['file'], async (entry) => {
      const want = Math.min(length, MAX_READ);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await entry.file.read(buf, 0, want, offset);
      if (bytesRead === 0) sftp.status(reqId, STATUS_CODE.EOF);
      else sftp.data(reqId, bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }),
  );

  sftp.on('WRITE', (reqId: number, handle: Buffer, offset: number, data: Buffer) =>
    onHandle(reqId, 'write', handle, ['file'], async (entry) => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await entry.file.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
      entry.bytesWritten += done;
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('FSTAT', (reqId: number, handle: Buffer) =>
    onHandle(reqId, 'fstat', handle, ['file', 'dir'], async (entry) => {
      const st = entry.kind === 'file' ? await entry.file.stat() : await stat(entry.real);
      sftp.attrs(reqId, attrsOf(st));
    }),
  );

  sftp.on('FSETSTAT', (reqId: number, handle: Buffer, attrs: Partial<Attributes>) =>
    onHandle(reqId, 'fsetstat', handle, ['file', 'dir'], async (entry) => {
      await applyAttrs(entry.kind === 'file' ? entry.file : pathTarget(entry.real), attrs);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('CLOSE', (reqId: number, handle: Buffer) =>
    onHandle(reqId, 'close', handle, ['file', 'dir'], async (entry) => {
      handles.delete(handle.readUInt32BE(0));
      await release(entry);
      if (entry.kind === 'file' && entry.bytesWritten > 0) {
        ctx.log('sftp file written', { ...ctx.logFields, path: entry.virtualPath, bytes: entry.bytesWritten });
      }
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('OPENDIR', (reqId: number, path: string) =>
    onPath(reqId, 'opendir', path, async (virtualPath) => {
      if (handles.size >= MAX_HANDLES) {
        sftp.status(reqId, STATUS_CODE.FAILURE, `opendir ${virtualPath}: too many open handles`);
        return;
      }
      const real = await confinement.resolveFollowing(virtualPath);
      const dir = await opendir(real);
      if (ended) {
        await dir.close();
        return;
      }
      const entry: DirEntry = {
        kind: 'dir',
        dir,
        real,
        virtualPath,
        tail: Promise.resolve(),
        dotsSent: false,
        done: false,
      };
      sftp.handle(reqId, register(entry));
    }),
  );

  sftp.on('READDIR', (reqId: number, handle: Buffer) =>
    onHandle(reqId, 'readdir', handle, ['dir'], async (entry) => {
      const names = await readDirBatch(entry, confinement.realRoot);
      if (names.length === 0) sftp.status(reqId, STATUS_CODE.EOF);
      else sendNames(reqId, names);
    }),
  );

  sftp.on('STAT', (reqId: number, path: string) =>
    onPath(reqId, 'stat', path, async (virtualPath) => {
      sftp.attrs(reqId, attrsOf(await stat(await confinement.resolveFollowing(virtualPath))));
    }),
  );

  sftp.on('LSTAT', (reqId: number, path: string) =>
    onPath(reqId, 'lstat', path, async (virtualPath) => {
      sftp.attrs(reqId, attrsOf(await lstat(await confinement.resolveEntry(virtualPath))));
    }),
  );

  sftp.on('SETSTAT', (reqId: number, path: string, attrs: Partial<Attributes>) =>
    onPath(reqId, 'setstat', path, async (virtualPath) => {
      await applyAttrs(pathTarget(await confinement.resolveFollowing(virtualPath)), attrs);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('REMOVE', (reqId: number, path: string) =>
    onPath(reqId, 'remove', path, async (virtualPath) => {
      await unlink(await entryBelowRoot(confinement, virtualPath));
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('RMDIR', (reqId: number, path: string) =>
    onPath(reqId, 'rmdir', path, async (virtualPath) => {
      await rmdir(await entryBelowRoot(confinement, virtualPath));
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('MKDIR', (reqId: number, path: string, attrs: Partial<Attributes>) =>
    onPath(reqId, 'mkdir', path, async (virtualPath) => {
      await mkdir(await confinement.resolveEntry(virtualPath), { mode: permissionsOf(attrs, 0o777) });
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('RENAME', (reqId: number, oldPath: string, newPath: string) =>
    onPath(reqId, 'rename', oldPath, async (virtualPath) => {
      const from = await entryBelowRoot(confinement, virtualPath);
      const to = await entryBelowRoot(confinement, confinement.virtualOf(newPath));
      await renameNoReplace(from, to);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('REALPATH', (reqId: number, path: string) =>
    onPath(reqId, 'realpath', path, async (virtualPath) => {
      const resolved = confinement.virtualOfReal(await confinement.resolveFollowing(virtualPath));
      sendNames(reqId, [{ filename: resolved, longname: resolved }]);
    }),
  );

  // Links are not part of what the hub and the mainframe exchange, and a client-made symlink is the
  // easiest way out of a served directory.
  sftp.on('READLINK', (reqId: number) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, 'readlink is not supported'));
  sftp.on('SYMLINK', (reqId: number) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, 'symlink is not supported'));

  sftp.on('EXTENDED', (reqId: number, extName: string, extData: Buffer | undefined) => {
    if (extName !== 'posix-rename@openssh.com') {
      sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, `${extName} is not supported`);
      return;
    }
    // ssh2's server cannot advertise extensions in its VERSION packet, so well-behaved clients (ssh2,
    // OpenSSH) never send this; a client that sends it anyway gets POSIX rename(2), replacing the target.
    const paths = extData === undefined ? undefined : readTwoStrings(extData);
    if (paths === undefined) {
      sftp.status(reqId, STATUS_CODE.BAD_MESSAGE, 'posix-rename: malformed request');
      return;
    }
    onPath(reqId, 'posix-rename', paths[0], async (virtualPath) => {
      const from = await entryBelowRoot(confinement, virtualPath);
      const to = await entryBelowRoot(confinement, confinement.virtualOf(paths[1]));
      await rename(from, to);
      sftp.status(reqId, STATUS_CODE.OK);
    });
  });
}

/** SFTP open flags to open(2) flags, as OpenSSH's sftp-server maps them (flags_from_portable). */
export function fsFlagsOf(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & OPEN_MODE.WRITE) !== 0;
  let flags = read && write ? constants.O_RDWR : write ? constants.O_WRONLY : constants.O_RDONLY;
  if ((pflags & OPEN_MODE.APPEND) !== 0) flags |= constants.O_APPEND;
  if ((pflags & OPEN_MODE.CREAT) !== 0) flags |= constants.O_CREAT;
  if ((pflags & OPEN_MODE.TRUNC) !== 0) flags |= constants.O_TRUNC;
  if ((pflags & OPEN_MODE.EXCL) !== 0) flags |= constants.O_EXCL;
  return flags;
}

/**
 * RENAME as OpenSSH's sftp-server does it: the target must not exist (SFTP v3 leaves this to the
 * server; OpenSSH refuses). A regular file is hard-linked to the new name and then unlinked, so the
 * refusal is atomic; where hard links are not possible, and for other entries, existence is checked
 * first.
 */
async function renameNoReplace(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  if (st.isFile()) {
    try {
      await link(from, to);
    } catch (err) {
      if (!LINK_UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
      await refuseExisting(to);
      await rename(from, to);
      return;
    }
    try {
      await unlink(from);
    } catch (err) {
      await unlink(to);
      throw err;
    }
    return;
  }
  await refuseExisting(to);
  await rename(from, to);
}

const LINK_UNSUPPORTED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'ENOSYS', 'EXDEV', 'EPERM', 'EMLINK']);

async function refuseExisting(path: string): Promise<void> {
  try {
    await lstat(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  throw Object.assign(new Error('EEXIST: file already exists'), { code: 'EEXIST' });
}

/** The entry for a request that removes or moves it: the served directory itself is never one. */
async function entryBelowRoot(confinement: RootConfinement, virtualPath: string): Promise<string> {
  if (virtualPath === '/') throw Object.assign(new Error('EPERM: the served directory itself'), { code: 'EPERM' });
  return confinement.resolveEntry(virtualPath);
}

async function readDirBatch(entry: DirEntry, realRoot: string): Promise<NameEntry[]> {
  const names: NameEntry[] = [];
  const now = new Date();
  if (!entry.dotsSent) {
    entry.dotsSent = true;
    // `..` of the served directory is the directory itself: nothing above it is shown.
    const parent = entry.real === realRoot ? entry.real : dirname(entry.real);
    names.push(nameEntry('.', await stat(entry.real), now), nameEntry('..', await stat(parent), now));
  }
  while (!entry.done && names.length < DIR_BATCH) {
    const dirent = await entry.dir.read();
    if (dirent === null) {
      entry.done = true;
      break;
    }
    try {
      names.push(nameEntry(dirent.name, await lstat(join(entry.real, dirent.name)), now));
    } catch (err) {
      // Removed between readdir and lstat: it is no longer there to list.
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
  }
  return names;
}

function nameEntry(filename: string, st: Stats, now: Date): NameEntry {
  return { filename, longname: longnameOf(filename, st, now), attrs: attrsOf(st) };
}

interface AttrTarget {
  truncate(len: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
}

function pathTarget(real: string): AttrTarget {
  return {
    truncate: (len) => truncate(real, len),
    chmod: (mode) => chmod(real, mode),
    utimes: (atime, mtime) => utimes(real, atime, mtime),
    chown: (uid, gid) => chown(real, uid, gid),
  };
}

/** SETSTAT/FSETSTAT in OpenSSH's order: size, permissions, times, owner. */
async function applyAttrs(target: AttrTarget, attrs: Partial<Attributes>): Promise<void> {
  if (attrs.size !== undefined) await target.truncate(attrs.size);
  if (attrs.mode !== undefined) await target.chmod(attrs.mode & 0o7777);
  if (attrs.atime !== undefined && attrs.mtime !== undefined) await target.utimes(attrs.atime, attrs.mtime);
  if (attrs.uid !== undefined && attrs.gid !== undefined) await target.chown(attrs.uid, attrs.gid);
}

function permissionsOf(attrs: Partial<Attributes> | undefined, fallback: number): number {
  return attrs?.mode !== undefined ? attrs.mode & 0o7777 : fallback;
}

interface StatusAnswer {
  readonly code: number;
  readonly message: string;
  /** Worth a log line: failures the client did not cause by asking about a missing file. */
  readonly log: boolean;
}

/**
 * A file-system error as an SFTP status. Messages name the client's path, never the real one, so the
 * layout of the machine behind the served directory does not leak.
 */
export function statusOf(err: unknown, op: string, virtualPath: string): StatusAnswer {
  if (err instanceof PathOutsideRootError) {
    return {
      code: STATUS_CODE.PERMISSION_DENIED,
      message: `${op} ${virtualPath}: outside the served directory`,
      log: true,
    };
  }
  const errno = errnoOf(err);
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: STATUS_CODE.NO_SUCH_FILE, message: `${op} ${virtualPath}: no such file or directory`, log: false };
    case 'EACCES':
    case 'EPERM':
      return { code: STATUS_CODE.PERMISSION_DENIED, message: `${op} ${virtualPath}: permission denied`, log: true };
    case 'ELOOP':
      return { code: STATUS_CODE.PERMISSION_DENIED, message: `${op} ${virtualPath}: symbolic link refused`, log: true };
    default:
      return { code: STATUS_CODE.FAILURE, message: `${op} ${virtualPath}: ${describe(err, errno)}`, log: true };
  }
}

/** `EEXIST: file already exists` out of Node's `EEXIST: file already exists, mkdir '/real/path'`. */
function describe(err: unknown, errno: string | undefined): string {
  const message = messageOf(err);
  const head = /^([A-Z0-9]+: [^,]+)/.exec(message);
  if (head?.[1] !== undefined) return head[1];
  return errno ?? 'failed';
}

function readTwoStrings(data: Buffer): [string, string] | undefined {
  if (data.length < 4) return undefined;
  const firstLen = data.readUInt32BE(0);
  const secondAt = 4 + firstLen;
  if (data.length < secondAt + 4) return undefined;
  const secondLen = data.readUInt32BE(secondAt);
  if (data.length < secondAt + 4 + secondLen) return undefined;
  return [data.toString('utf8', 4, secondAt), data.toString('utf8', secondAt + 4, secondAt + 4 + secondLen)];
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
