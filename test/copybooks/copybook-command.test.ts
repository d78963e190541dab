import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCopybookCommands } from '../../cli/copybook-command';

const fixtures = join(__dirname, '..', 'fixtures', 'copybooks');
const copybook = join(fixtures, 'loan-payment-record.cpy');
const jsonl = join(fixtures, 'loan-payments.jsonl');

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs `loanhub copybook ...` in-process the way cli/main.ts does: exit code from process.exitCode, usage errors -> 2. */
async function loanhub(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  process.exitCode = undefined;
  const program = new Command('loanhub')
    .exitOverride()
    .configureOutput({ writeErr: (s) => void process.stderr.write(s), writeOut: (s) => void process.stdout.write(s) });
  registerCopybookCommands(program);
  let code: number;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (x) {
    if (!(x instanceof CommanderError)) throw x;
    code = x.exitCode === 0 ? 0 : 2;
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
  return { code, out, err };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'copybook-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loanhub copybook layout', () => {
  test('prints the operator table', async () => {
    const r = await loanhub('copybook', 'layout', copybook);
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(fixtures, 'loan-payment-record.layout.txt'), 'utf8'));
  });

  test('--json gives every field with offsets', async () => {
    const r = await loanhub('copybook', 'layout', copybook, '--json');
    const json = JSON.parse(r.out) as { recordLength: number; fields: { path: string; start: number; end: number }[] };
    expect(json.recordLength).toBe(200);
    expect(json.fields.find((f) => f.path === 'LOAN-PAYMENT-RECORD.AMOUNT')).toMatchObject({
      start: 115,
      end: 122,
      usage: 'COMP-3',
      digits: 15,
      scale: 2,
    });
  });

  test('a broken copybook exits 1 with file, line and column on stderr', async () => {
    const bad = join(dir, 'bad.cpy');
    writeFileSync(bad, '       01 R.\n          05 A PIC X(2)\n          05 B PIC X.\n');
    const r = await loanhub('copybook', 'layout', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^COPYBOOK_SYNTAX: .*\(bad\.cpy, line 3 col 11\)/);
  });
});

describe('loanhub copybook encode then decode', () => {
  test('JSON lines -> EBCDIC bytes (the golden file) -> the same JSON lines', async () => {
    const data = join(dir, 'pay.dat');
    const enc = await loanhub('copybook', 'encode', copybook, jsonl, '--out', data, '--codepage', '037');
    expect(enc).toEqual({ code: 0, out: '', err: '' });
    const bytes = readFileSync(data);
    expect(bytes.length).toBe(600);
    expect(bytes).toEqual(readFileSync(join(fixtures, 'loan-payments.cp037.dat')));
    const dec = await loanhub('copybook', 'decode', copybook, data);
    expect(dec.code).toBe(0);
    const want = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(
      dec.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(want);
  });

  test('encode takes CRLF, blank lines, spaces and any key order; decode prints JSON.stringify of each record', async () => {
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
    const [a = '', b = '', c = ''] = lines;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(b) as object).reverse()));
    const input = join(dir, 'mixed.jsonl');
    writeFileSync(input, `${a}\r\n\r\n  \n${reordered}\r${c.replace(',', ' , ')}`);
    const data = join(dir, 'pay.dat');
    expect(await loanhub('copybook', 'encode', copybook, input, '--out', data)).toEqual({ code: 0, out: '', err: '' });
    expect(readFileSync(data)).toEqual(readFileSync(join(fixtures, 'loan-payments.cp037.dat')));
    const dec = await loanhub('copybook', 'decode', copybook, data);
    expect(dec.out).toBe(lines.map((l) => `${JSON.stringify(JSON.parse(l))}\n`).join(''));
  });

  test('VB with RDWs and CSV output', async () => {
    const data = join(dir, 'pay.vb');
    expect((await loanhub('copybook', 'encode', copybook, jsonl, '--out', data, '--recfm', 'vb')).code).toBe(0);
    const bytes = readFileSync(data);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('00cc0000');
    const dec = await loanhub('copybook', 'decode', copybook, data, '--recfm', 'vb', '--format', 'csv');
    const lines = dec.out.trim().split('\n');
    expect(lines[0]?.split(',').slice(0, 3)).toEqual(['RECORD-TYPE', 'PAYMENT-ID', 'LOAN-ACCOUNT']);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain("O'Brien & Sons Ltd.");
  });

  test('a bad record is reported on stderr, the rest still decode, and the exit code says so', async () => {
    const data = join(dir, 'pay.dat');
    await loanhub('copybook', 'encode', copybook, jsonl, '--out', data);
    const bytes = readFileSync(data);
    bytes[200 + 114] = 0xf0; // first byte of AMOUNT in record 2: packed 0xF0 is not a digit pair
    writeFileSync(data, bytes);
    const r = await loanhub('copybook', 'decode', copybook, data);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toHaveLength(2);
    expect(r.err).toContain('RECORD_INVALID');
    expect(r.err).toMatch(
      /PACKED_INVALID: .*\(pay\.dat, record 2, offset 314, field LOAN-PAYMENT-RECORD\.AMOUNT, bytes F09999999999999D\)/,
    );
    expect(r.err).toContain('2 records decoded, 1 failed');
    const strict = await loanhub('copybook', 'decode', copybook, data, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.out.trim().split('\n')).toHaveLength(1);
  });

  test('a truncated file: the good records come out and the truncation is an error', async () => {
    const data = join(dir, 'pay.dat');
    await loanhub('copybook', 'encode', copybook, jsonl, '--out', data);
    writeFileSync(data, readFileSync(data).subarray(0, 450));
    const r = await loanhub('copybook', 'decode', copybook, data);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/RECORD_TRUNCATED: the file ends 50 bytes into a record \(pay\.dat, record 3, offset 400/);
  });

  test('encode writes atomically: a bad line leaves neither the file nor a temp file behind', async () => {
    const input = join(dir, 'in.jsonl');
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
    writeFileSync(
      input,
      [lines[0], lines[1]?.replace('"1234567.89"', '"12345678.9"'), lines[2], '{"RECORD-TYPE":"PDX"}'].join('\n'),
    );
    const out = join(dir, 'out.dat');
    const r = await loanhub('copybook', 'encode', copybook, input, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /VALUE_TOO_MANY_DIGITS: "12345678.9" needs 9 digits; the picture holds 9|VALUE_TOO_MANY_DIGITS/,
    );
    expect(r.err).toMatch(/record 2, .*field LOAN-PAYMENT-RECORD\.FEES/);
    expect(r.err).toMatch(/record 4/);
    expect(r.err).toContain('2 of 4 records failed; ');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['in.jsonl']);
  });

  test('an existing target is replaced only when the whole encode succeeds', async () => {
    const out = join(dir, 'out.dat');
    writeFileSync(out, 'previous');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"NOT-A-FIELD":1}\n');
    expect((await loanhub('copybook', 'encode', copybook, bad, '--out', out)).code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect((await loanhub('copybook', 'encode', copybook, jsonl, '--out', out)).code).toBe(0);
    expect(readFileSync(out).length).toBe(600);
  });

  test('missing fields are an error unless --defaults blank is asked for', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"RECORD-TYPE":"PD","AMOUNT":"5.00"}\n');
    const out = join(dir, 'out.dat');
    const strict = await loanhub('copybook', 'encode', copybook, input, '--out', out);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/VALUE_MISSING: .*field LOAN-PAYMENT-RECORD\.PAYMENT-ID/);
    expect((await loanhub('copybook', 'encode', copybook, input, '--out', out, '--defaults', 'blank')).code).toBe(0);
    const dec = await loanhub('copybook', 'decode', copybook, out);
    expect(JSON.parse(dec.out)).toMatchObject({ 'RECORD-TYPE': 'PD', AMOUNT: '5.00', FEES: '0.00', 'PAYMENT-ID': '' });
  });

  test('no progress bar when stderr is not a terminal', async () => {
    const data = join(dir, 'pay.dat');
    await loanhub('copybook', 'encode', copybook, jsonl, '--out', data);
    const r = await loanhub('copybook', 'decode', copybook, data);
    expect(r.err).toBe('');
  });
});

describe('usage errors exit 2', () => {
  test.each([
    [['copybook', 'decode', 'x.cpy', 'x.dat', '--codepage', '273']],
    [['copybook', 'decode', 'x.cpy', 'x.dat', '--recfm', 'vbs']],
    [['copybook', 'decode', 'x.cpy', 'x.dat', '--lrecl', 'ten']],
    [['copybook', 'encode', 'x.cpy', 'x.jsonl']],
    [['copybook', 'layout']],
  ])('%j', async (args) => {
    const r = await loanhub(...args);
    expect(r.code).toBe(2);
    expect(r.err).not.toBe('');
  });

  test('--help lists the options', async () => {
    const r = await loanhub('copybook', 'decode', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--codepage', '--recfm', '--lrecl', '--format', '--strict', '--out'])
      expect(r.out).toContain(flag);
  });
});
