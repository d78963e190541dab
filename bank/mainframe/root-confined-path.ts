import { realpath } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, sep } from 'node:path';

// Maps the paths an SFTP client sends onto one served directory. The client sees that directory as
// `/`: relative paths start there, `..` stops there (as `cd ..` does at a real root), and every
// symlink is resolved and must land inside it. A path that would leave it is refused.

export class PathOutsideRootError extends Error {
  override readonly name = 'PathOutsideRootError';
  readonly code = 'path_outside_root';

  constructor(readonly virtualPath: string) {
    super(`${virtualPath} leads outside the served directory`);
  }
}

export interface RootConfinement {
  /** The served directory with its own symlinks resolved. */
  readonly realRoot: string;
  /** The client's path as a normalised `/`-rooted path, `..` clamped at the root. Purely lexical. */
  virtualOf(clientPath: string): string;
  /**
   * The real path for operations that follow symlinks (open, stat, opendir, setstat, realpath): every
   * symlink resolved; when the last component does not exist, the resolved parent joined with it.
   */
  resolveFollowing(virtualPath: string): Promise<string>;
  /**
   * The real path for operations on the entry itself (lstat, remove, rmdir, mkdir, rename): the parent
   * resolved, the last component kept as it is, so a symlink is acted on and not followed.
   */
  resolveEntry(virtualPath: string): Promise<string>;
  /** The `/`-rooted path a client sees for a real path inside the root. */
  virtualOfReal(realPath: string): string;
}

/** `realRoot` must already be resolved (fs.realpath) by the caller. */
export function createRootConfinement(realRoot: string): RootConfinement {
  const inside = (real: string): boolean => real === realRoot || real.startsWith(realRoot + sep);
  const checked = (real: string, virtualPath: string): string => {
    if (!inside(real)) throw new PathOutsideRootError(virtualPath);
    return real;
  };
  const lexical = (virtualPath: string): string => join(realRoot, ...virtualPath.split('/').filter((p) => p !== ''));

  return Object.freeze({
    realRoot,
    virtualOf(clientPath: string): string {
      return posix.resolve('/', clientPath);
    },
    async resolveFollowing(virtualPath: string): Promise<string> {
      const real = lexical(virtualPath);
      try {
        return checked(await realpath(real), virtualPath);
      } catch (err) {
        if (!isMissing(err) || real === realRoot) throw err;
      }
      // The last component does not exist (or is a dangling symlink, which open() then refuses
      // through O_NOFOLLOW): the parent must resolve inside the root.
      return join(checked(await realpath(dirname(real)), virtualPath), basename(real));
    },
    async resolveEntry(virtualPath: string): Promise<string> {
      const real = lexical(virtualPath);
      if (real === realRoot) return realRoot;
      return join(checked(await realpath(dirname(real)), virtualPath), basename(real));
    },
    virtualOfReal(realPath: string): string {
      const rel = relative(realRoot, checked(realPath, realPath));
      return rel === '' ? '/' : `/${rel.split(sep).join('/')}`;
    },
  });
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}
