import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { writeSettlementFile } from '../../bank/channels/settlement-simulator';
import {
  loadSettlementMappings,
  settlementMapping,
  SettlementMappingError,
} from '../../channels/settlement/settlement-mapping';
import { main } from '../../cli/main';
import { crossSettingProblems } from '../../config/settings-catalogue';
import { importSettlementFile } from '../../recon/import-settlement';
import { describeProblem } from '../../recon/settlement-file-reader';
import { accept, move, openFixture, type ReconFixture } from './recon-fixture';

// Settlement files: the agents' fixed Latin-1 layout and the layouts we chose, written by the
// simulated channel, imported, recognised when sent twice, bad lines reported with their line number.

const DATE = '2026-11-23';
let fx: ReconFixture;

beforeEach(() => {
  fx = openFixture('settlement');
});
afterEach(async () => {
  await fx.close();
});

async function seed(channel: 'agents' | 'atm' | 'stores', n: number): Promise<string[]> {
  const refs: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = await accept(fx.store, {
      channel,
      loanNumber: '100000000001',
      amount: 12550n + BigInt(i),
      businessDate: DATE,
    });
    await move(fx.store, p.id, { type: 'core_applied' });
    refs.push(p.channelReference);
  }
  return refs;
}

const now = (): Date => new Date('2026-11-24T08:00:00Z');
const fail = (): never => {
  throw new Error('missing');
};

test('every channel mapping is valid, and a broken one is refused with every problem at once', () => {
  expect([...loadSettlementMappings().keys()].sort()).toEqual(['agents', 'app', 'atm', 'stores', 'web']);
  const bad = { ...JSON.parse(fs.readFileSync('channels/settlement/atm.json', 'utf8')), bom: true, encoding: 'latin1' };
  bad.fields = { ...bad.fields, amount: 'importe' };
  bad.patterns = { atm_reference: 'ATM.*' };
  try {
    loadSettlementMappings({ atm: bad });
    throw new Error('not refused');
  } catch (err) {
    expect(err).toBeInstanceOf(SettlementMappingError);
    expect((err as SettlementMappingError).problems).toEqual([
      'channels/settlement/atm.json: fields.amount: column importe is not in the header',
      'channels/settlement/atm.json: patterns.atm_reference: must be anchored (^…$)',
      'channels/settlement/atm.json: bom: only a UTF-8 file has a byte-order mark',
    ]);
  }
});

test('a broken mapping is named by loanhub config check (and refused by the hub at start, the same loader)', () => {
  jest.isolateModules(() => {
    const real = JSON.parse(fs.readFileSync('channels/settlement/stores.json', 'utf8')) as Record<string, unknown>;
    jest.doMock('../../channels/settlement/stores.json', () => ({ ...real, dateFormat: 'MM/DD/YY' }));
    const isolated = require('../../config/settings-catalogue') as typeof import('../../config/settings-catalogue');
    const found = isolated.crossSettingProblems({}).filter((p) => p.name === 'channels/settlement');
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toContain('channels/settlement/stores.json: dateFormat');
  });
  jest.dontMock('../../channels/settlement/stores.json');
  expect(crossSettingProblems({}).filter((p) => p.name === 'channels/settlement')).toEqual([]);
});

test("the agents' file is Latin-1 with CRLF, no BOM, the fixed header, DD/MM/YYYY and decimal commas", async () => {
  const refs = await seed('agents', 3);
  const out = path.join(fx.dir, 'agents.csv');
  await writeSettlementFile({
    mapping: settlementMapping('agents'),
    businessDate: DATE,
    payments: fx.recon.collectedPayments('agents', DATE, 2),
    out,
  });
  const bytes = fs.readFileSync(out);
  expect(bytes.subarray(0, 3).toString('latin1')).toBe('FEC');
  const text = bytes.toString('latin1');
  const lines = text.split('\r\n');
  expect(lines[0]).toBe('FECHA;AGENTE;OPERACION;PRESTAMO;MONEDA;IMPORTE');
  const [agent, op] = (refs[0] ?? '').slice(2).split('-');
  expect(lines[1]).toBe(`23/11/2026;${agent};${op};100000000001;PEN;125,50`);
  expect(lines).toHaveLength(5);
  expect(lines[4]).toBe('');
});

test('import keeps the good lines, reports every bad one with its line number, and a second import counts nothing', async () => {
  await seed('agents', 4);
  const out = path.join(fx.dir, 'agents.csv');
  await writeSettlementFile({
    mapping: settlementMapping('agents'),
    businessDate: DATE,
    payments: fx.recon.collectedPayments('agents', DATE, 10),
    out,
  });
  // Broken lines as an agents' network really sends them, in Latin-1.
  const broken = [
    '23/11/2026;AÑ0001;00000001;100000000001;PEN;10,00', // line 6: a letter in AGENTE (Ñ read as Latin-1)
    '31/11/2026;004501;00000002;100000000001;PEN;10,00', // line 7: no such date
    '23/11/2026;004501;00000003;100000000001;EUR;10,00', // line 8: currency
    '23/11/2026;004501;00000004;100000000001;PEN;1.000,00', // line 9: grouping
    '23/11/2026;004501;00000005;100000000001', // line 10: short
    '23/11/2026;004501;00000006;10000000001;PEN;10,001', // line 11: loan and amount
  ];
  fs.appendFileSync(out, iconv.encode(broken.join('\r\n') + '\r\n', 'latin1'));
  const first = await importSettlementFile({
    store: fx.recon,
    channel: 'agents',
    mapping: settlementMapping('agents'),
    file: out,
    now,
  });
  if (first.kind !== 'imported') throw new Error(first.kind);
  expect(first.file).toMatchObject({ businessDate: DATE, lines: 10, goodLines: 4, badLines: 6 });
  expect(first.problems.map((p) => [p.line, p.code, p.field, p.value])).toEqual([
    [6, 'settlement_field_invalid', 'AGENTE', 'AÑ0001'],
    [7, 'settlement_date_invalid', 'FECHA', '31/11/2026'],
    [8, 'settlement_currency_invalid', 'MONEDA', 'EUR'],
    [9, 'settlement_amount_invalid', 'IMPORTE', '1.000,00'],
    [10, 'settlement_column_count', null, '23/11/2026;004501;00000005;100000000001'],
    [11, 'settlement_loan_invalid', 'PRESTAMO', '10000000001'],
    [11, 'settlement_amount_invalid', 'IMPORTE', '10,001'],
  ]);
  expect(describeProblem(first.problems[0] ?? fail())).toBe(
    'agents.csv: line 6 field AGENTE value "AÑ0001": does not match ^[0-9]{6}$ (settlement_field_invalid)',
  );
  expect(first.file.problems).toHaveLength(7);
  const again = await importSettlementFile({
    store: fx.recon,
    channel: 'agents',
    mapping: settlementMapping('agents'),
    file: out,
    now,
  });
  expect(again).toMatchObject({ kind: 'duplicate', file: { id: first.file.id } });
  expect(await fx.recon.listSettlementFiles(DATE)).toHaveLength(1);
  const strict = path.join(fx.dir, 'strict.csv');
  fs.writeFileSync(strict, Buffer.concat([fs.readFileSync(out), Buffer.from('x\r\n')]));
  const refused = await importSettlementFile({
    store: fx.recon,
    channel: 'agents',
    mapping: settlementMapping('agents'),
    file: strict,
    strict: true,
    now,
  });
  expect(refused).toMatchObject({ kind: 'refused', lines: 11 });
  expect(await fx.recon.listSettlementFiles(DATE)).toHaveLength(1);
});

test('atm (UTF-8 with BOM) and stores (no BOM, pipes, YYYYMMDD) round-trip through the simulator with its drills', async () => {
  const atmRefs = await seed('atm', 4);
  const storeRefs = await seed('stores', 2);
  const atmFile = path.join(fx.dir, 'atm.csv');
  const written = await writeSettlementFile({
    mapping: settlementMapping('atm'),
    businessDate: DATE,
    payments: fx.recon.collectedPayments('atm', DATE, 3),
    out: atmFile,
    drills: {
      omit: [atmRefs[0] ?? ''],
      extra: 1,
      changeAmount: new Map([[atmRefs[1] ?? '', 99n]]),
      duplicate: [atmRefs[2] ?? ''],
      nextDay: [atmRefs[3] ?? ''],
      broken: 2,
    },
  });
  expect(fs.readFileSync(atmFile).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  expect(written.extraReferences).toEqual([expect.stringMatching(/^ATM\d{4}-\d{6}$/)]);
  const atm = await importSettlementFile({
    store: fx.recon,
    channel: 'atm',
    mapping: settlementMapping('atm'),
    file: atmFile,
    now,
  });
  if (atm.kind !== 'imported') throw new Error(atm.kind);
  expect(atm.file).toMatchObject({ businessDate: DATE, lines: 7, goodLines: 5, badLines: 2 });
  expect(atm.problems.map((p) => [p.line, p.code])).toEqual([
    [7, 'settlement_field_invalid'],
    [7, 'settlement_date_invalid'],
    [7, 'settlement_loan_invalid'],
    [7, 'settlement_currency_invalid'],
    [7, 'settlement_amount_invalid'],
    [8, 'settlement_column_count'],
  ]);
  const storesFile = path.join(fx.dir, 'stores.txt');
  await writeSettlementFile({
    mapping: settlementMapping('stores'),
    businessDate: DATE,
    payments: fx.recon.collectedPayments('stores', DATE, 10),
    out: storesFile,
  });
  const text = fs.readFileSync(storesFile, 'utf8');
  expect(text.split('\n')[0]).toBe('FECHA_CONTABLE|TIENDA|TICKET|CREDITO|MONEDA|MONTO');
  expect(text.split('\n')[1]).toMatch(/^20261123\|\d+\|\d{6}\|100000000001\|PEN\|125\.5\d$/);
  const stores = await importSettlementFile({
    store: fx.recon,
    channel: 'stores',
    mapping: settlementMapping('stores'),
    file: storesFile,
    now,
  });
  expect(stores).toMatchObject({ kind: 'imported', file: { goodLines: 2, badLines: 0 } });
  expect(storeRefs).toHaveLength(2);
});

test('loanhub settlement import and simulate settlement from the command line (exit codes, --json, --strict)', async () => {
  await seed('agents', 2);
  const env = process.env.LOANHUB_DATA_DIR;
  process.env.LOANHUB_DATA_DIR = fx.dir;
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const errWrite = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const file = path.join(fx.dir, 'ag.csv');
    process.exitCode = undefined;
    expect(
      await main([
        'node',
        'loanhub',
        'simulate',
        'settlement',
        '--channel',
        'agents',
        '--date',
        DATE,
        '--out',
        file,
        '--broken',
        '1',
      ]),
    ).toBe(0);
    process.exitCode = undefined;
    expect(
      await main(['node', 'loanhub', 'settlement', 'import', '--channel', 'agents', file, '--strict', '--json']),
    ).toBe(3);
    process.exitCode = undefined;
    out.length = 0;
    expect(await main(['node', 'loanhub', 'settlement', 'import', '--channel', 'agents', file, '--json'])).toBe(1);
    const body = JSON.parse(out.join('')) as { outcome: string; goodLines: number; problems: { line: number }[] };
    expect(body).toMatchObject({ outcome: 'imported', goodLines: 2, problems: new Array(6).fill({ line: 4 }) });
    process.exitCode = undefined;
    out.length = 0;
    expect(await main(['node', 'loanhub', 'settlement', 'import', '--channel', 'agents', file])).toBe(0);
    expect(out.join('')).toMatch(/^already imported: ag\.csv/);
    process.exitCode = undefined;
    expect(await main(['node', 'loanhub', 'settlement', 'import', '--channel', 'nope', file])).toBe(2);
  } finally {
    write.mockRestore();
    errWrite.mockRestore();
    process.exitCode = undefined;
    if (env === undefined) delete process.env.LOANHUB_DATA_DIR;
    else process.env.LOANHUB_DATA_DIR = env;
  }
});

test('a garbage file keeps the first 1,000 problems and counts the rest', async () => {
  const file = path.join(fx.dir, 'garbage.csv');
  const header = 'FECHA;AGENTE;OPERACION;PRESTAMO;MONEDA;IMPORTE\r\n';
  fs.writeFileSync(
    file,
    header + '23/11/2026;x\r\n'.repeat(1200) + '23/11/2026;004501;00000001;100000000001;PEN;1,00\r\n',
  );
  const out = await importSettlementFile({
    store: fx.recon,
    channel: 'agents',
    mapping: settlementMapping('agents'),
    file,
    now,
  });
  if (out.kind !== 'imported') throw new Error(out.kind);
  expect(out.problemCount).toBe(1200);
  expect(out.problems).toHaveLength(1000);
  expect(out.problems[999]?.line).toBe(1001);
  expect(out.file).toMatchObject({ lines: 1201, goodLines: 1, badLines: 1200 });
  expect(out.file.problems).toHaveLength(1001);
  expect(out.file.problems[1000]).toBe('… and 200 more problems');
});
