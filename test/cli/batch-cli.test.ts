import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// The night as an operator runs it on the embedded defaults, with the compiled CLI: `loanhub start`
// (which serves a simulated mainframe over SFTP with the ssh2 server), a payment through the API,
// `loanhub batch run` in another process sends the file over SFTP, the simulator answers, `batch fetch`
// applies the response, `batch status --json` and `batch show` tell the story; `batch schedule --port`
// serves /healthz, /readyz and /metrics. Exit codes and --help as a script would rely on them.

const ROOT = path.join(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/loanhub.js');
const exec = promisify(execFile);

let dataDir: string;
let hub: ChildProcess | undefined;
let url = '';

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('LOANHUB_') || k.startsWith('LOANHUB_TEST_')),
  );
  return {
    ...clean,
    LOANHUB_DATA_DIR: dataDir,
    LOANHUB_LOG_LEVEL: 'warn',
    LOANHUB_BATCH_SCHEDULE: 'off',
    PORT: '0',
    LOANHUB_CORE_CASH_PORT: '0',
    LOANHUB_CORE_MORTGAGE_PORT: '0',
    LOANHUB_CORE_VEHICLE_PORT: '0',
    ...extra,
  };
}

async function loanhub(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env: env(extra), maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts a long-running command and resolves once it printed a line matching `ready` on stderr. */
function startProcess(
  args: string[],
  ready: RegExp,
  extra: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${stderr}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = stderr.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`));
    });
  });
}

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (npm test does)');
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-batch-cli-'));
  const started = await startProcess(['start'], /listening on (http:\/\/\S+)/);
  hub = started.child;
  url = started.match[1] ?? '';
}, 60_000);

afterAll(async () => {
  await stopProcess(hub);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a payment goes to the simulated mainframe and comes back POSTED, all from the CLI', async () => {
  const token = (await loanhub(['token', '--channel', 'app'])).stdout.trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/app/payments`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': 'cli-night-1' },
    body: JSON.stringify({
      loanNumber: '100000000001',
      amount: '42.10',
      currency: 'PEN',
      channelReference: 'APP-clinight1',
    }),
  });
  expect(created.status).toBe(201);
  const payment = (await created.json()) as { paymentId: string; businessDate: string };
  const statusOf = async (): Promise<string> =>
    ((await (await fetch(`${url}/v1/app/payments/${payment.paymentId}`, { headers })).json()) as { status: string })
      .status;
  for (let i = 0; i < 400 && (await statusOf()) !== 'APPLIED'; i++) await new Promise((r) => setTimeout(r, 25));
  expect(await statusOf()).toBe('APPLIED');

  const date = payment.businessDate;
  const yymmdd = date.slice(2).replace(/-/g, '');
  // A dry run writes the file that would be built, and records and sends nothing.
  const dryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-batch-dry-'));
  const dry = await loanhub(['batch', 'run', '--dry-run', '--out', dryDir, '--date', date, '--core', 'cash', '--json']);
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout)).toMatchObject({
    dryRun: true,
    files: [{ core: 'cash', name: `LHUB.PAY.CSH.D${yymmdd}.S01`, records: 1 }],
  });
  const dryBytes = fs.readFileSync(path.join(dryDir, `LHUB.PAY.CSH.D${yymmdd}.S01`));
  expect(dryBytes.length).toBe(600);
  const inbound = path.join(dataDir, 'mainframe', 'root', 'inbound');
  expect(fs.existsSync(inbound) ? fs.readdirSync(inbound) : []).toEqual([]);
  const waiting = JSON.parse((await loanhub(['batch', 'status', '--date', date, '--json'])).stdout) as {
    cores: { core: string; files: unknown[]; waiting: { count: number } }[];
  };
  expect(waiting.cores.find((c) => c.core === 'cash')).toMatchObject({ files: [], waiting: { count: 1 } });
  expect((await loanhub(['batch', 'run', '--dry-run', '--date', date])).code).toBe(2);

  const run = await loanhub(['batch', 'run', '--date', date, '--core', 'cash', '--json']);
  expect(run).toMatchObject({ code: 0 });
  const sent = JSON.parse(run.stdout) as {
    cores: { core: string; files: { name: string; outcome: string; records: number }[] }[];
  };
  expect(sent.cores[0]?.files[0]).toMatchObject({ name: `LHUB.PAY.CSH.D${yymmdd}.S01`, outcome: 'sent' });

  // The embedded simulator polls its inbound directory; fetch until the response is there.
  let applied: { applied: { name: string; posted: number; rejected: number }[] } = { applied: [] };
  for (let i = 0; i < 100 && applied.applied.length === 0; i++) {
    const fetched = await loanhub(['batch', 'fetch', '--date', date, '--json']);
    expect(fetched.code).toBe(0);
    applied = JSON.parse(fetched.stdout) as typeof applied;
    if (applied.applied.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  expect(applied.applied).toEqual([{ name: `LHUB.PAY.CSH.D${yymmdd}.S01`, posted: 1, rejected: 0 }]);
  expect(await statusOf()).toBe('POSTED');

  const status = await loanhub(['batch', 'status', '--date', date, '--json']);
  const parsed = JSON.parse(status.stdout) as {
    cores: { core: string; files: { state: string; totalPen: string }[] }[];
  };
  expect(parsed.cores.find((c) => c.core === 'cash')?.files).toEqual([
    expect.objectContaining({ state: 'COMPLETE', totalPen: '42.10' }),
  ]);
  const text = await loanhub(['batch', 'status', '--date', date]);
  expect(text.stdout).toMatch(/LHUB\.PAY\.CSH\.D\d{6}\.S01\s+COMPLETE\s+1\s+42\.10/);

  // The archived request file decodes with `batch show`; the second run sends nothing.
  const archived = findFile(path.join(dataDir, 'batch'), `LHUB.PAY.CSH.D${yymmdd}.S01`);
  // The same payments give the same bytes, CREATED-AT (header positions 59-72) aside.
  const sentBytes = fs.readFileSync(archived);
  expect(Buffer.concat([sentBytes.subarray(0, 58), sentBytes.subarray(72)])).toEqual(
    Buffer.concat([dryBytes.subarray(0, 58), dryBytes.subarray(72)]),
  );
  fs.rmSync(dryDir, { recursive: true, force: true });
  const shown = await loanhub(['batch', 'show', archived, '--json']);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain(payment.paymentId);
  const decoded = JSON.parse(shown.stdout) as { ok: boolean; trailer: Record<string, unknown>; details: unknown[] };
  expect(decoded.ok).toBe(true);
  expect(decoded.trailer).toMatchObject({ recordCount: 1, totalPen: '42.10', totalUsd: '0.00' });
  expect(decoded.details[0]).toMatchObject({ paymentId: payment.paymentId, amount: '42.10' });
  const again = await loanhub(['batch', 'run', '--date', date, '--core', 'cash']);
  expect(again).toMatchObject({ code: 0 });
  expect(again.stdout).toContain('nothing sent');
}, 120_000);

test('batch schedule --port serves /healthz, /readyz and /metrics, and stops on SIGTERM', async () => {
  const { child, match } = await startProcess(['batch', 'schedule', '--port', '0'], /\/metrics on (http:\/\/\S+?);/);
  try {
    const base = match[1] ?? '';
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', checks: { store: true } }]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('loanhub_batch_files_overdue');
    expect(metrics).toContain('# TYPE loanhub_batch_files gauge');
    expect(metrics).toContain('# TYPE loanhub_batch_last_success_timestamp_seconds gauge');
    const missing = await fetch(`${base}/nope`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json']);
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 60_000);

test('operators get --help, a clear message and a non-zero exit on bad input', async () => {
  const help = await loanhub(['batch', '--help']);
  expect(help.code).toBe(0);
  for (const sub of ['run', 'status', 'fetch', 'resend', 'show', 'schedule']) expect(help.stdout).toContain(sub);
  const badDate = await loanhub(['batch', 'run', '--date', '2026-13-40']);
  expect(badDate.code).not.toBe(0);
  expect(badDate.stderr).toContain('not a YYYY-MM-DD date');
  const notAFile = path.join(dataDir, 'garbage.bin');
  fs.writeFileSync(notAFile, Buffer.alloc(200, 0x40));
  const shown = await loanhub(['batch', 'show', notAFile]);
  expect(shown.code).toBe(1);
  expect(shown.stdout + shown.stderr).toMatch(/garbage\.bin/);
});

test('batch show checks a response against the request it answers, beside it or in the archive, and says when it cannot', async () => {
  const fixtures = path.join(ROOT, 'test/fixtures/batch');
  const request = fs.readFileSync(path.join(fixtures, 'LHUB.PAY.CSH.D261123.S01.cp037'));
  const response = fs.readFileSync(path.join(fixtures, 'LHUB.RSP.CSH.D261123.S01.cp037'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-batch-show-'));
  const noArchive = { LOANHUB_DATA_DIR: path.join(work, 'empty-data') };
  type Shown = {
    kind: string;
    ok: boolean;
    requestFile: string | null;
    computed: Record<string, unknown>;
    trailer: Record<string, unknown>;
    problems: { code: string; field?: string; stated?: string; computed?: string }[];
  };
  const show = async (file: string, extra: NodeJS.ProcessEnv): Promise<{ code: number; json: Shown }> => {
    const r = await loanhub(['batch', 'show', file, '--json'], extra);
    return { code: r.code, json: JSON.parse(r.stdout) as Shown };
  };
  try {
    // Beside it: the posted totals are recomputed from the request's amounts (the response has none).
    const beside = path.join(work, 'beside');
    fs.mkdirSync(beside);
    fs.writeFileSync(path.join(beside, 'LHUB.PAY.CSH.D261123.S01'), request);
    fs.writeFileSync(path.join(beside, 'LHUB.RSP.CSH.D261123.S01'), response);
    const good = await show(path.join(beside, 'LHUB.RSP.CSH.D261123.S01'), noArchive);
    expect(good.code).toBe(0);
    expect(good.json).toMatchObject({
      kind: 'RSP',
      ok: true,
      requestFile: path.join(beside, 'LHUB.PAY.CSH.D261123.S01'),
    });
    expect(good.json.computed).toEqual({
      postedCount: 2,
      rejectedCount: 1,
      postedPen: '125.50',
      postedUsd: '1234567.89',
    });
    expect(good.json.trailer).toMatchObject({ postedPen: '125.50', postedUsd: '1234567.89' });

    // The request's first amount changed by one nibble: the response's posted totals no longer agree.
    const changed = Buffer.from(request);
    const at = 200 + 118 + 6; // detail 1 (record 2), AMOUNT (positions 119-126), a byte of digits only
    changed[at] = ((changed[at] ?? 0) & 0x0f) | (((((changed[at] ?? 0) >> 4) + 1) % 10) << 4);
    fs.writeFileSync(path.join(beside, 'LHUB.PAY.CSH.D261123.S01'), changed);
    const bad = await show(path.join(beside, 'LHUB.RSP.CSH.D261123.S01'), noArchive);
    expect(bad.code).toBe(1);
    expect(bad.json.ok).toBe(false);
    expect(bad.json.problems).toEqual([
      expect.objectContaining({ code: 'TOTAL_MISMATCH', field: expect.stringMatching(/^POSTED-(PEN|USD)$/) }),
    ]);

    // In the hub's archive (<data dir>/batch/sent/) when it is not beside the response.
    const dataDir2 = path.join(work, 'data');
    fs.mkdirSync(path.join(dataDir2, 'batch', 'sent'), { recursive: true });
    fs.writeFileSync(path.join(dataDir2, 'batch', 'sent', 'LHUB.PAY.CSH.D261123.S01'), request);
    const alone = path.join(work, 'alone');
    fs.mkdirSync(alone);
    fs.writeFileSync(path.join(alone, 'LHUB.RSP.CSH.D261123.S01'), response);
    const archived = await show(path.join(alone, 'LHUB.RSP.CSH.D261123.S01'), { LOANHUB_DATA_DIR: dataDir2 });
    expect(archived.json).toMatchObject({
      ok: true,
      requestFile: path.join(dataDir2, 'batch', 'sent', 'LHUB.PAY.CSH.D261123.S01'),
    });

    // Nowhere: the posted totals are left out (not shown as 0.00) and the text says they went unchecked.
    // The copy has another name and four records (400 bytes, two request records' worth): the header,
    // not the size, says it is a response; its dropped detail is still caught by the counts.
    const renamed = path.join(alone, 'from-the-mainframe-team.bin');
    fs.writeFileSync(renamed, Buffer.concat([response.subarray(0, 300), response.subarray(400)]));
    const unchecked = await show(renamed, noArchive);
    expect(unchecked.code).toBe(1);
    expect(unchecked.json).toMatchObject({ kind: 'RSP', requestFile: null });
    expect(unchecked.json.computed).toEqual({ postedCount: 1, rejectedCount: 1 });
    expect(unchecked.json.problems.map((p) => [p.code, p.field, p.stated, p.computed])).toEqual([
      ['COUNT_MISMATCH', 'POSTED-COUNT', '2', '1'],
    ]);
    const text = await loanhub(['batch', 'show', path.join(alone, 'LHUB.RSP.CSH.D261123.S01')], noArchive);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('posted totals not checked: the request "LHUB.PAY.CSH.D261123.S01"');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 120_000);

function findFile(dir: string, name: string): string {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) return path.join(entry.parentPath ?? entry.path, entry.name);
  }
  throw new Error(`${name} not found under ${dir}`);
}
