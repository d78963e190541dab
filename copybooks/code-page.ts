import { CopybookError } from './copybook-errors';
import { asciiTable } from './code-pages/ascii';
import { cp037Table } from './code-pages/cp037';
import { cp1047Table } from './code-pages/cp1047';
import { cp1140Table } from './code-pages/cp1140';
import { cp1145Table } from './code-pages/cp1145';
import { cp284Table } from './code-pages/cp284';
import { cp500Table } from './code-pages/cp500';
import { latin1Table } from './code-pages/latin1';

export const codePageNames = ['cp037', 'cp1047', 'cp500', 'cp284', 'cp1140', 'cp1145', 'ascii', 'latin1'] as const;
export type CodePageName = (typeof codePageNames)[number];

/** A single-byte code page built from one plain 256-entry table; frozen, shared, stateless. */
export interface CodePage {
  readonly kind: 'code-page';
  readonly name: CodePageName;
  /** Which digit/sign conventions zoned decimals use (EBCDIC zone F, or ASCII 0x30 with {A-I}J-R overpunch). */
  readonly family: 'ebcdic' | 'ascii';
  readonly table: readonly number[];
  /** byte -> UTF-16 code unit; NO_CHAR where the byte has no character. */
  readonly toUnicode: Uint16Array;
  /** UTF-16 code unit -> byte; -1 where the code page has no byte for it. */
  readonly fromUnicode: Int16Array;
  /** True when every byte decodes to U+0000..U+00FF, so text can be built with a latin1 slice. */
  readonly latin1Only: boolean;
  /** True when all 256 bytes have a character (every EBCDIC page and Latin-1; not ASCII). */
  readonly total: boolean;
  readonly space: number;
  readonly zero: number;
  readonly plus: number;
  readonly minus: number;
}

export const NO_CHAR = 0xffff;

const tables: Record<CodePageName, readonly number[]> = {
  cp037: cp037Table,
  cp1047: cp1047Table,
  cp500: cp500Table,
  cp284: cp284Table,
  cp1140: cp1140Table,
  cp1145: cp1145Table,
  ascii: asciiTable,
  latin1: latin1Table,
};

const built = new Map<CodePageName, CodePage>();

function build(name: CodePageName): CodePage {
  const table = tables[name];
  const toUnicode = new Uint16Array(256).fill(NO_CHAR);
  const fromUnicode = new Int16Array(65536).fill(-1);
  let latin1Only = true;
  let total = true;
  for (let b = 0; b < 256; b++) {
    const cp = table[b] ?? -1;
    if (cp < 0 || cp > 0xfffe) {
      total = false;
      continue;
    }
    toUnicode[b] = cp;
    if (fromUnicode[cp] !== -1) throw new Error(`code page ${name} maps two bytes to U+${cp.toString(16)}`);
    fromUnicode[cp] = b;
    if (cp > 0xff) latin1Only = false;
  }
  const byteOf = (ch: string): number => {
    const b = fromUnicode[ch.charCodeAt(0)] ?? -1;
    if (b < 0) throw new Error(`code page ${name} lacks ${ch}`);
    return b;
  };
  return Object.freeze({
    kind: 'code-page',
    name,
    family: name === 'ascii' || name === 'latin1' ? 'ascii' : 'ebcdic',
    table,
    toUnicode,
    fromUnicode,
    latin1Only,
    total,
    space: byteOf(' '),
    zero: byteOf('0'),
    plus: byteOf('+'),
    minus: byteOf('-'),
  });
}

/** Accepts 037, cp037, IBM037, IBM-037, ibm01140, ebcdic-cp-us... and the exact ascii/latin1 names. */
export function codePageNameFor(requested: string): CodePageName | undefined {
  const key = requested.toLowerCase().replace(/[^0-9a-z]/g, '');
  switch (key) {
    case 'ascii':
    case 'usascii':
      return 'ascii';
    case 'latin1':
    case 'iso88591':
      return 'latin1';
    case 'ebcdiccpus':
    case 'ebcdicus':
      return 'cp037';
  }
  const m = /^(?:cp|ibm|ccsid)?0*(\d+)$/.exec(key);
  const n = m?.[1];
  switch (n) {
    case '37':
      return 'cp037';
    case '1047':
      return 'cp1047';
    case '500':
      return 'cp500';
    case '284':
      return 'cp284';
    case '1140':
      return 'cp1140';
    case '1145':
      return 'cp1145';
    default:
      return undefined;
  }
}

/** Looks a code page up by any accepted spelling; an unknown name is an error, never a fallback. */
export function getCodePage(requested: string): CodePage {
  const name = codePageNameFor(requested);
  if (name === undefined) {
    throw new CopybookError(
      'CODE_PAGE_UNKNOWN',
      `unknown code page "${requested}"; supported: 037, 1047, 500, 284, 1140, 1145, ascii, latin1`,
      { codePage: requested },
    );
  }
  let page = built.get(name);
  if (page === undefined) {
    page = build(name);
    built.set(name, page);
  }
  return page;
}
