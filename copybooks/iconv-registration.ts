import iconv from 'iconv-lite';
import { codePageNames, getCodePage, type CodePage, type CodePageName } from './code-page';
import { decodeText, encodeText } from './text-transcoder';

// Registers our EBCDIC tables with iconv-lite (which ships none), under cpNNN and ibmNNN, so
// `iconv.decode(buf, 'cp037')` works anywhere in the project. Unlike iconv-lite's own single-byte
// codecs, encoding a character the page lacks throws CHAR_NOT_ENCODABLE instead of writing '?'.
// ascii and latin1 are left to iconv-lite's built-ins so other code sees no change there.

const ebcdicNames: readonly CodePageName[] = codePageNames.filter((n) => n !== 'ascii' && n !== 'latin1');

function codecFor(page: CodePage): new () => { encoder: unknown; decoder: unknown } {
  class PageEncoder {
    write(str: string): Buffer {
      return encodeText(page, str);
    }
    end(): undefined {
      return undefined;
    }
  }
  class PageDecoder {
    write(buf: Buffer): string {
      return decodeText(page, buf, 0, buf.length);
    }
    end(): undefined {
      return undefined;
    }
  }
  return class PageCodec {
    encoder = PageEncoder;
    decoder = PageDecoder;
  };
}

let registered = false;

/** Idempotent; call once at start-up (cli/main.ts does it through registerCopybookCommands). */
export function registerCodePagesWithIconv(): void {
  if (registered) return;
  iconv.encodingExists('utf8'); // makes iconv-lite load its built-in table before we add to it
  const encodings = iconv.encodings as unknown as Record<string, unknown> | null;
  if (encodings === null || typeof encodings !== 'object') throw new Error('iconv-lite encodings table not loaded');
  for (const name of ebcdicNames) {
    const page = getCodePage(name);
    const digits = name.slice(2);
    const key = `loanhub${name}`;
    encodings[key] = codecFor(page);
    for (const alias of new Set([name, `ibm${digits}`, `ibm0${digits}`, `cp0${digits}`, `ccsid${digits}`])) {
      encodings[alias] = key;
    }
  }
  registered = true;
}
