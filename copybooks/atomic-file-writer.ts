import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CopybookError } from './copybook-errors';

export interface AtomicFileWriter {
  readonly kind: 'atomic-file-writer';
  /** Buffers the bytes; returns a promise only when the buffer had to be flushed (await it then). */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** Flushes, fsyncs and renames the temp file onto the target. */
  commit(): Promise<void>;
  /** Removes the temp file; the target is untouched. Safe to call after a failure. */
  abort(): Promise<void>;
}

const BUFFER = 1 << 20;

/** Writes to a temp file beside the target, renamed into place only on commit (rename is atomic on POSIX). */
export async function openAtomicFile(target: string): Promise<AtomicFileWriter> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(temp, 'wx');
  const buf = Buffer.allocUnsafe(BUFFER);
  let used = 0;
  const fail = (err: unknown): CopybookError =>
    new CopybookError(
      'OUTPUT_FAILED',
      `cannot write ${basename(target)}: ${err instanceof Error ? err.message : String(err)}`,
      { file: target },
      { cause: err },
    );
  const flush = async (): Promise<void> => {
    if (used === 0 || handle === undefined) return;
    let off = 0;
    while (off < used) {
      const { bytesWritten } = await handle.write(buf, off, used - off);
      off += bytesWritten;
    }
    used = 0;
  };
  return Object.freeze({
    kind: 'atomic-file-writer' as const,
    write(bytes: Uint8Array): Promise<void> | undefined {
      if (used + bytes.length <= BUFFER) {
        buf.set(bytes, used);
        used += bytes.length;
        return undefined;
      }
      return (async () => {
        try {
          await flush();
          if (bytes.length > BUFFER) {
            if (handle !== undefined) await handle.write(bytes);
            return;
          }
          buf.set(bytes, used);
          used += bytes.length;
        } catch (err) {
          throw fail(err);
        }
      })();
    },
    async commit(): Promise<void> {
      try {
        await flush();
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
