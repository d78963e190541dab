import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CopybookError } from './copybook-errors';

export interface AtomicFileWriter {
  readonly kind: 'atomic-file-writer';
  /** Buffers the bytes; returns a promise only when the buffer had to be flushed (await it then). */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /**
   * Makes room for up to `max` bytes at `position` in `buffer`, so a producer can write them there
   * itself (no copy); returns a promise only when it must wait for an earlier flush (await it then).
   * The bytes count once `advance` is called; a producer that fails simply does not call it.
   */
  reserve(max: number): Promise<void> | undefined;
  /** The buffer `reserve` made room in: valid until the next reserve, write, commit or abort. */
  readonly buffer: Uint8Array;
  /** Where the next bytes go in `buffer`. */
  readonly position: number;
  /** Counts n bytes written at `position` (at most what the last reserve asked for). */
  advance(n: number): void;
  /** Flushes, fsyncs and renames the temp file onto the target. */
  commit(): Promise<void>;
  /** Removes the temp file; the target is untouched. Safe to call after a failure. */
  abort(): Promise<void>;
}

const BUFFER = 1 << 20;

/**
 * Writes to a temp file beside the target, renamed into place only on commit (rename is atomic on
 * POSIX). Two buffers: while one is written (in the thread pool), the producer fills the other, so a
 * full buffer costs the producer nothing unless the write before it has not finished yet. A failed
 * write is reported by the next reserve/write (after its flush), commit or abort is then the caller's.
 */
export async function openAtomicFile(target: string): Promise<AtomicFileWriter> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(temp, 'wx');
  let buf: Buffer = Buffer.allocUnsafe(BUFFER);
  let spare: Buffer | undefined = Buffer.allocUnsafe(BUFFER);
  let used = 0;
  // The write of the other buffer while it runs; `failure` holds its error once it failed.
  let inFlight: Promise<void> | undefined;
  let failure: unknown;
  const fail = (err: unknown): CopybookError =>
    err instanceof CopybookError
      ? err
      : new CopybookError(
          'OUTPUT_FAILED',
          `cannot write ${basename(target)}: ${err instanceof Error ? err.message : String(err)}`,
          { file: target },
          { cause: err },
        );
  const writeAll = async (bytes: Uint8Array, length: number): Promise<void> => {
    let off = 0;
    while (off < length) {
      if (handle === undefined) throw new Error('the file is closed');
      const { bytesWritten } = await handle.write(bytes, off, length - off);
      off += bytesWritten;
    }
  };
  /** Waits for the write in flight; rethrows its failure. */
  const settle = async (): Promise<void> => {
    if (inFlight !== undefined) await inFlight;
    if (failure !== undefined) throw fail(failure);
  };
  /** Starts writing the filled buffer and switches to the spare one (the caller settled the last write). */
  const startFlush = (): void => {
    if (used === 0) return;
    const full = buf;
    const length = used;
    buf = spare ?? Buffer.allocUnsafe(full.length);
    spare = undefined;
    used = 0;
    const done = writeAll(full, length).then(
      () => {
        spare = full;
        if (inFlight === done) inFlight = undefined;
      },
      (err: unknown) => {
        failure ??= err;
        if (inFlight === done) inFlight = undefined;
      },
    );
    inFlight = done;
  };
  /** Room for `max` bytes after the pending ones: flush (and grow the buffer for a larger record). */
  const makeRoom = async (max: number): Promise<void> => {
    await settle();
    startFlush();
    if (buf.length < max) buf = Buffer.allocUnsafe(max);
  };
  const reserve = (max: number): Promise<void> | undefined => {
    if (failure !== undefined) return Promise.reject(fail(failure));
    if (used + max <= buf.length) return undefined;
    if (inFlight === undefined && max <= BUFFER) {
      startFlush();
      return undefined;
    }
    return makeRoom(max);
  };
  return Object.freeze({
    kind: 'atomic-file-writer' as const,
    write(bytes: Uint8Array): Promise<void> | undefined {
      const room = reserve(bytes.length);
      if (room === undefined) {
        buf.set(bytes, used);
        used += bytes.length;
        return undefined;
      }
      return room.then(() => {
        buf.set(bytes, used);
        used += bytes.length;
      });
    },
    reserve,
    get buffer(): Uint8Array {
      return buf;
    },
    get position(): number {
      return used;
    },
    advance(n: number): void {
      used += n;
    },
    async commit(): Promise<void> {
      try {
        await settle();
        startFlush();
        await settle();
        if (handle !== undefined) {
          await handle.sync();
          await handle.close();
          handle = undefined;
        }
        await rename(temp, target);
      } catch (err) {
        throw fail(err);
      }
    },
    async abort(): Promise<void> {
      if (inFlight !== undefined) await inFlight;
      if (handle !== undefined) {
        await handle.close().catch(() => undefined);
        handle = undefined;
      }
      await unlink(temp).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  });
}
