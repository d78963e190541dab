import { execFileSync } from 'node:child_process';
import iconv from 'iconv-lite';
import { codePageNames, getCodePage, type CodePageName } from '../../copybooks/code-page';
import { CopybookError } from '../../copybooks/copybook-errors';
import { registerCodePagesWithIconv } from '../../copybooks/iconv-registration';
import { decodeText, encodeText } from '../../copybooks/text-transcoder';

// Every table is checked against an independent source, glibc iconv, for all 256 bytes both ways.
const glibcName: Record<CodePageName, string> = {
  cp037: 'IBM037',
  cp1047: 'IBM1047',
  cp500: 'IBM500',
  cp284: 'IBM284',
  cp1140: 'IBM1140',
  cp1145: 'IBM1145',
  ascii: 'ANSI_X3.4-1968',
  latin1: 'ISO-8859-1',
};

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function glibcDecode(name: string, byte: number): string | undefined {
  try {
    return execFileSync('iconv', ['-f', name, '-t', 'UTF-8'], {
      input: Buffer.from([byte]),
      stdio: ['pipe', 'pipe', 'ignore'],
    }).toString('utf8');
  } catch {
    return undefined; // glibc has no character for this byte
  }
}

describe('code pages agree with glibc iconv on all 256 bytes, both ways', () => {
  test.each(codePageNames)('%s', (name) => {
    const page = getCodePage(name);
    const iconvName = glibcName[name];
    // Decoding: the whole table in one call for the total pages, byte by byte where some bytes are undefined.
    const ours: (string | undefined)[] = [];
    for (let b = 0; b < 256; b++) {
      try {
        ours.push(decodeText(page, allBytes, b, b + 1));
      } catch (err) {
        expect(err).toBeInstanceOf(CopybookError);
        ours.push(undefined);
      }
    }
    if (page.total) {
      expect(ours).toEqual([
        ...execFileSync('iconv', ['-f', iconvName, '-t', 'UTF-16LE'], { input: allBytes }).toString('utf16le'),
      ]);
    } else {
      // iconv -c drops the bytes it cannot decode: what is left must be exactly our defined characters.
      const kept = execFileSync('iconv', ['-c', '-f', iconvName, '-t', 'UTF-16LE'], {
        input: allBytes,
        stdio: ['pipe', 'pipe', 'ignore'],
      }).toString('utf16le');
      expect(ours.filter((c) => c !== undefined).join('')).toBe(kept);
      for (let b = 0; b < 256; b++) if (ours[b] === undefined) expect(glibcDecode(iconvName, b)).toBeUndefined();
    }
    // Encoding: every character the page has goes back to its byte through glibc too.
    const chars = ours.filter((c): c is string => c !== undefined).join('');
    const glibcBytes = execFileSync('iconv', ['-f', 'UTF-8', '-t', iconvName], { input: Buffer.from(chars, 'utf8') });
    expect(encodeText(page, chars)).toEqual(glibcBytes);
    expect(decodeText(page, glibcBytes, 0, glibcBytes.length)).toBe(chars);
  });

  test('the euro sign is 0x9F in 1140 and 1145 and absent from 037 and 284', () => {
    expect(encodeText(getCodePage('1140'), '€')).toEqual(Buffer.from([0x9f]));
    expect(encodeText(getCodePage('1145'), '€')).toEqual(Buffer.from([0x9f]));
    expect(() => encodeText(getCodePage('037'), '€')).toThrow(expect.objectContaining({ code: 'CHAR_NOT_ENCODABLE' }));
    expect(() => encodeText(getCodePage('284'), 'a€')).toThrow(/U\+20AC at position 2/);
  });
});

describe('code page names', () => {
  test('IBM, CP and CCSID spellings all find the same table', () => {
    for (const spelling of ['037', '37', 'cp037', 'IBM037', 'ibm-037', 'CCSID37', 'ebcdic-cp-us'])
      expect(getCodePage(spelling).name).toBe('cp037');
    expect(getCodePage('IBM01140').name).toBe('cp1140');
    expect(getCodePage('1047').name).toBe('cp1047');
  });

  test('an unknown code page is an error, never a fallback to a default', () => {
    expect(() => getCodePage('273')).toThrow(expect.objectContaining({ code: 'CODE_PAGE_UNKNOWN' }));
    expect(() => getCodePage('utf8')).toThrow(/supported: 037, 1047, 500, 284, 1140, 1145, ascii, latin1/);
  });
});

describe('iconv-lite registration', () => {
  beforeAll(() => registerCodePagesWithIconv());

  test('iconv.decode(buf, "cp037") works anywhere once registered', () => {
    expect(iconv.decode(Buffer.from('C8C5D3D3D640E6D6D9D3C4', 'hex'), 'cp037')).toBe('HELLO WORLD');
    expect(iconv.encode('Año €5', 'IBM1145').toString('hex')).toBe(
      encodeText(getCodePage('1145'), 'Año €5').toString('hex'),
    );
    expect(iconv.encodingExists('ibm500')).toBe(true);
    expect(iconv.encodingExists('cp1047')).toBe(true);
  });

  test('a character the page lacks is an error through iconv-lite too, not "?"', () => {
    expect(() => iconv.encode('price €1', 'cp037')).toThrow(expect.objectContaining({ code: 'CHAR_NOT_ENCODABLE' }));
  });

  test('registering twice changes nothing', () => {
    registerCodePagesWithIconv();
    expect(iconv.decode(Buffer.from([0x5b]), 'cp037')).toBe('$');
  });
});
