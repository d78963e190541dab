import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { main } from '../../cli/main';
import { createLogger } from '../../logging/logger';
import { reconcileAfterResponses } from '../../recon/recon-scheduler';
import { openPgStore } from '../../store/postgres/pg-store';
import { dropSchema, freshSchemaName, testPgUrl } from '../store/contract/test-databases';
import { accept, move, openFixture, type ReconFixture } from './recon-fixture';

// The finance commands as a scheduled job or a person runs them: loanhub recon run|breaks|resolve|report
// through main(), with their exit codes and JSON; and the scheduler's entry points.

const D = '2026-11-23';
let fx: ReconFixture;
let out: string[];
let restore: () => void;

async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  out.length = 0;
  process.exitCode = undefined;
  const code = await main(['node', 'loanhub', ...args]);
  process.exitCode = undefined;
  return { code, stdout: out.join('') };
}

beforeAll(async () => {
  fx = openFixture('recon-cli');
  const env = process.env.LOANHUB_DATA_DIR;
  process.env.LOANHUB_DATA_DIR = fx.dir;
  out = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  restore = () => {
    o.mockRestore();
    e.mockRestore();
    if (env === undefined) delete process.env.LOANHUB_DATA_DIR;
    else process.env.LOANHUB_DATA_DIR = env;
  };
  for (let i = 0; i < 3; i++) {
    const p = await accept(fx.store, {
      channel: 'agents',
      loanNumber: '100000000001',
      amount: 2500n + BigInt(i),
      businessDate: D,
    });
    await move(fx.store, p.id, { type: 'core_applied' });
  }
});

afterAll(async () => {
  restore();
  await fx.close();
});

test('recon run --json --fail-on-breaks exits 4 with the date, status, totals and every break with its evidence', async () => {
  const file = path.join(fx.dir, 'agents.csv');
  expect(
    (await cli('simulate', 'settlement', '--channel', 'agents', '--date', D, '--out', file, '--extra', '1')).code,
  ).toBe(0);
  expect((await cli('settlement', 'import', '--channel', 'agents', file)).code).toBe(0);
  const run = await cli('recon', 'run', '--date', D, '--json', '--fail-on-breaks', '--no-extracts');
  expect(run.code).toBe(4);
  const body = JSON.parse(run.stdout) as {
    date: string;
    status: string;
    totals: { source: string; amount: string; count: number }[];
    breaks: {
      id: string;
      type: string;
      status: string;
      channel: string | null;
      channelReference: string | null;
      paymentId: string | null;
      evidence: Record<string, unknown>;
    }[];
  };
  expect(body).toMatchObject({ date: D, status: 'UNBALANCED' });
  expect(body.totals).toEqual(
    expect.arrayContaining([
      { source: 'hub', channel: 'agents', core: 'cash', currency: 'PEN', count: 3, amount: '75.03' },
      { source: 'channel', channel: 'agents', core: 'cash', currency: 'PEN', count: 4, amount: '87.37' },
    ]),
  );
  // No core extract and no mainframe file yet: the cash core is a missing source, the three payments unposted.
  expect(body.breaks.map((b) => b.type).sort()).toEqual([
    'APPLIED_NOT_POSTED',
    'APPLIED_NOT_POSTED',
    'APPLIED_NOT_POSTED',
    'CHANNEL_UNKNOWN_TO_HUB',
    'SOURCE_MISSING',
  ]);
  const unknown = body.breaks.find((b) => b.type === 'CHANNEL_UNKNOWN_TO_HUB');
  expect(unknown).toMatchObject({
    status: 'open',
    channel: 'agents',
    paymentId: null,
    evidence: { channel: [{ amount: '12.34' }] },
  });
  expect(unknown?.channelReference).toMatch(/^AG\d{6}-\d{8}$/);

  const listed = await cli(
    'recon',
    'breaks',
    '--date',
    D,
    '--status',
    'open',
    '--type',
    'CHANNEL_UNKNOWN_TO_HUB',
    '--json',
  );
  expect((JSON.parse(listed.stdout) as { id: string }[]).map((b) => b.id)).toEqual([unknown?.id]);
  const resolved = await cli(
    'recon',
    'resolve',
    unknown?.id ?? '',
    '--note',
    'agent refunded the customer',
    '--by',
    'ana',
    '--json',
  );
  expect(JSON.parse(resolved.stdout)).toMatchObject({
    status: 'resolved',
    resolution: { by: 'ana', note: 'agent refunded the customer' },
  });
  expect((await cli('recon', 'resolve', 'BRK-NOPE', '--note', 'x', '--by', 'y')).code).toBe(1);

  const again = JSON.parse((await cli('recon', 'run', '--date', D, '--json', '--no-extracts')).stdout) as typeof body;
  expect(again.breaks.find((b) => b.id === unknown?.id)).toMatchObject({ status: 'resolved' });

  const html = path.join(fx.dir, 'r.html');
  expect((await cli('recon', 'report', '--date', D, '--format', 'html', '--out', html)).code).toBe(0);
  expect(fs.readFileSync(html, 'utf8')).toContain(`<tr id="${unknown?.id}">`);
  const csv = path.join(fx.dir, 'r.csv');
  expect((await cli('recon', 'report', '--date', D, '--format', 'csv', '--out', csv, '--delimiter', ',')).code).toBe(0);
  expect(fs.readFileSync(csv, 'utf8')).toMatch(/^\uFEFFsection,business_date,source,/);
  expect((await cli('recon', 'report', '--date', '2026-11-01', '--format', 'json', '--out', csv)).code).toBe(1);
  expect((await cli('recon', 'run', '--date', '2026-13-01')).code).toBe(2);
});

test('the scheduler entry point reconciles the date it is given and never throws', async () => {
  const logger = createLogger({ level: 'silent' });
  const deps = { recon: fx.recon, extracts: {}, now: () => new Date('2026-11-24T07:00:00Z'), logger };
  const result = await reconcileAfterResponses(deps, D);
  expect(result?.run.businessDate).toBe(D);
  const broken = { ...deps, recon: { ...fx.recon, run: () => Promise.reject(new Error('disk full')) } };
  expect(await reconcileAfterResponses(broken, D)).toBeNull();
});

test('with LOANHUB_DB_URL the commands work on PostgreSQL: import a file, run, list, resolve', async () => {
  const url = testPgUrl();
  const schema = freshSchemaName('recon');
  const pg = await openPgStore({ url, schema, max: 2 });
  const saved = { ...process.env };
  try {
    for (let i = 0; i < 2; i++) {
      const p = await accept(pg, {
        channel: 'stores',
        loanNumber: '200000000001',
        amount: 990n + BigInt(i),
        businessDate: D,
      });
      await move(pg, p.id, { type: 'core_applied' });
    }
    Object.assign(process.env, { LOANHUB_DB_URL: url, LOANHUB_DB_SCHEMA: schema });
    const file = path.join(fx.dir, 'stores-pg.txt');
    expect(
      (await cli('simulate', 'settlement', '--channel', 'stores', '--date', D, '--out', file, '--extra', '1')).code,
    ).toBe(0);
    expect((await cli('settlement', 'import', '--channel', 'stores', file)).code).toBe(0);
    const run = await cli('recon', 'run', '--date', D, '--json', '--no-extracts', '--fail-on-breaks');
    expect(run.code).toBe(4);
    const body = JSON.parse(run.stdout) as {
      totals: { source: string; amount: string }[];
      breaks: { id: string; type: string }[];
    };
    expect(body.totals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'hub', channel: 'stores', core: 'mortgage', amount: '19.81' }),
      ]),
    );
    const unknown = body.breaks.find((b) => b.type === 'CHANNEL_UNKNOWN_TO_HUB');
    expect(unknown?.id).toMatch(/^BRK-20261123-/);
    expect((await cli('recon', 'resolve', unknown?.id ?? '', '--note', 'n', '--by', 'b')).code).toBe(0);
    const listed = JSON.parse((await cli('recon', 'breaks', '--date', D, '--status', 'resolved', '--json')).stdout) as {
      id: string;
    }[];
    expect(listed.map((b) => b.id)).toEqual([unknown?.id]);
  } finally {
    for (const k of ['LOANHUB_DB_URL', 'LOANHUB_DB_SCHEMA']) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await pg.close();
    await dropSchema(url, schema);
  }
});

test("recon run reaches the embedded simulators on LOANHUB_CORE_<CORE>_PORT, and names a missing core's source", async () => {
  // A port nobody listens on (taken, then freed): the run's failure says it tried that port, not 8181.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  const saved = { ...process.env };
  try {
    for (const c of ['CASH', 'MORTGAGE', 'VEHICLE']) delete process.env[`LOANHUB_CORE_${c}_URL`];
    process.env.LOANHUB_CORE_CASH_PORT = String(port);
    process.env.LOANHUB_LOG_LEVEL = 'silent';
    const run = await cli('recon', 'run', '--date', D, '--json');
    const body = JSON.parse(run.stdout) as { extractFailures: { core: string; error: string }[] };
    expect(body.extractFailures.find((f) => f.core === 'cash')?.error).toContain(`127.0.0.1:${port}`);
    // A LOANHUB_CORE_CASH_URL still wins over the port.
    process.env.LOANHUB_CORE_CASH_URL = 'http://127.0.0.1:1';
    const viaUrl = JSON.parse((await cli('recon', 'run', '--date', D, '--json')).stdout) as typeof body;
    expect(viaUrl.extractFailures.find((f) => f.core === 'cash')?.error).toContain('127.0.0.1:1)');
    // The text listing names the core a SOURCE_MISSING break is about (no payment, no reference).
    const text = await cli('recon', 'run', '--date', D, '--no-extracts');
    expect(text.stdout).toMatch(/open\s+high\s+SOURCE_MISSING\s+cash\n/);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('LOANHUB_REPORT_CSV_DELIMITER sets the delimiter of both finance CSVs; --delimiter wins; a bad value is exit 2', async () => {
  const saved = process.env.LOANHUB_REPORT_CSV_DELIMITER;
  const recon = path.join(fx.dir, 'recon-setting.csv');
  const daily = path.join(fx.dir, 'daily-setting.csv');
  const head = (file: string): string => fs.readFileSync(file, 'utf8').split('\r\n')[0] ?? '';
  try {
    // Unset: each report's own default (recon ;, daily ,).
    delete process.env.LOANHUB_REPORT_CSV_DELIMITER;
    expect((await cli('recon', 'report', '--date', D, '--format', 'csv', '--out', recon)).code).toBe(0);
    expect(head(recon)).toMatch(/^\uFEFFsection;business_date;/);
    expect((await cli('report', 'daily', '--date', D, '--format', 'csv', '--out', daily)).code).toBe(0);
    expect(head(daily)).toMatch(/^\uFEFFbusiness_date,channel,/);
    // Set once for the desks' Excel: both follow it.
    process.env.LOANHUB_REPORT_CSV_DELIMITER = ',';
    expect((await cli('recon', 'report', '--date', D, '--format', 'csv', '--out', recon)).code).toBe(0);
    expect(head(recon)).toMatch(/^\uFEFFsection,business_date,/);
    process.env.LOANHUB_REPORT_CSV_DELIMITER = ';';
    expect((await cli('report', 'daily', '--date', D, '--format', 'csv', '--out', daily)).code).toBe(0);
    expect(head(daily)).toMatch(/^\uFEFFbusiness_date;channel;/);
    expect(
      (await cli('report', 'daily', '--date', D, '--format', 'csv', '--out', daily, '--delimiter', ',')).code,
    ).toBe(0);
    expect(head(daily)).toMatch(/^\uFEFFbusiness_date,channel,/);
    process.env.LOANHUB_REPORT_CSV_DELIMITER = '|';
    expect((await cli('recon', 'report', '--date', D, '--format', 'csv', '--out', recon)).code).toBe(2);
    expect((await cli('report', 'daily', '--date', D, '--format', 'csv', '--out', daily)).code).toBe(2);
  } finally {
    if (saved === undefined) delete process.env.LOANHUB_REPORT_CSV_DELIMITER;
    else process.env.LOANHUB_REPORT_CSV_DELIMITER = saved;
  }
});
