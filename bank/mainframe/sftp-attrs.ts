import { constants, type Stats } from 'node:fs';
import type { Attributes } from 'ssh2';

// What an SFTP server says about a file: the ATTRS of SFTP v3 (draft-ietf-secsh-filexfer-02 §5) and
// the `ls -l` style longname of a READDIR entry. Clients read the file type from the longname's first
// character (ssh2-sftp-client's list() does), so it is laid out the way OpenSSH's sftp-server does it.

export function attrsOf(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

// Node's fs.constants lacks the set-id and sticky bits; their values are fixed by POSIX <sys/stat.h>.
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = (365 * 24 * 60 * 60 * 1000) / 2;

/** OpenSSH's ls_file(): `-rw-r--r--    1 0        0            1234 Jan  5 12:00 name`. */
export function longnameOf(name: string, st: Stats, now: Date = new Date()): string {
  const mtime = new Date(st.mtimeMs);
  const day = String(mtime.getDate()).padStart(2, ' ');
  const recent = Math.abs(now.getTime() - st.mtimeMs) < SIX_MONTHS_MS;
  const when = recent ? `${pad2(mtime.getHours())}:${pad2(mtime.getMinutes())}` : ` ${String(mtime.getFullYear())}`;
  const month = MONTHS[mtime.getMonth()] ?? '???';
  // Owners are shown by number: the simulator has no business looking up the machine's user names.
  return [
    `${modeString(st.mode)} `,
    String(st.nlink).padStart(3, ' '),
    String(st.uid).padEnd(8, ' '),
    String(st.gid).padEnd(8, ' '),
    String(st.size).padStart(8, ' '),
    `${month} ${day} ${when}`,
    name,
  ].join(' ');
}

/** `strmode(3)` without its trailing space: type character and nine permission characters. */
export function modeString(mode: number): string {
  const bit = (mask: number, ch: string): string => ((mode & mask) !== 0 ? ch : '-');
  const special = (exec: number, flag: number, on: string): string => {
    const x = (mode & exec) !== 0;
    if ((mode & flag) === 0) return x ? 'x' : '-';
    return x ? on : on.toUpperCase();
  };
  return [
    typeChar(mode),
    bit(constants.S_IRUSR, 'r'),
    bit(constants.S_IWUSR, 'w'),
    special(constants.S_IXUSR, S_ISUID, 's'),
    bit(constants.S_IRGRP, 'r'),
    bit(constants.S_IWGRP, 'w'),
    special(constants.S_IXGRP, S_ISGID, 's'),
    bit(constants.S_IROTH, 'r'),
    bit(constants.S_IWOTH, 'w'),
    special(constants.S_IXOTH, S_ISVTX, 't'),
  ].join('');
}

function typeChar(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return 'd';
    case constants.S_IFLNK:
      return 'l';
    case constants.S_IFCHR:
      return 'c';
    case constants.S_IFBLK:
      return 'b';
    case constants.S_IFIFO:
      return 'p';
    case constants.S_IFSOCK:
      return 's';
    default:
      return '-';
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
