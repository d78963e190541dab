import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { CHANNELS } from '../domain/channel';

// Accepted payments per second through the whole API (auth, WAF, policy, idempotency, durable SQLite
// write with outbox, synchronous=FULL) next to a bare Express JSON endpoint, same machine, same run.
// The hub runs as `loanhub start` in its own process (with its relay, workers and core simulators
// applying the payments meanwhile); autocannon runs here. Usage:
//   npm run build && node dist/bench/api-bench.js [--connections 50] [--seconds 15]

const ROOT = path.join(__dirname, '../..');
const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CONNECTIONS = arg('connections', 50);
const SECONDS = arg('seconds', 15);

function start(cmd: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, cmd, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, {
      renderProgressBar: process.stderr.isTTY,
      renderResultsTable: false,
      renderLatencyTable: false,
    });
  });
}

function summary(name: string, r: autocannon.Result): Record<string, unknown> {
  return {
    name,
    requestsPerSecond: Math.round(r.requests.average),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-bench-'));
  const policyDir = path.join(dataDir, 'policies');
  fs.mkdirSync(policyDir);
  for (const channel of CHANNELS) {
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'channels/policies', `${channel}.json`), 'utf8'));
    p.rateLimit = { perClientPerMinute: 100_000_000, perIpPerMinute: 100_000_000 };
    for (const c of Object.keys(p.limits)) p.limits[c].maxPerLoanPerDay = '100000000.00';
    p.operatingHours = { from: '00:00', to: '24:00' };
    fs.writeFileSync(path.join(policyDir, `${channel}.json`), JSON.stringify(p));
  }
  const children: ChildProcess[] = [];
  try {
    const bare = start([path.join(ROOT, 'dist/bench/bare-express-server.js')], { PORT: '0' });
    children.push(bare);
    const barePort = await firstLine(bare);
    const bareResult = await run({
      url: `http://127.0.0.1:${barePort}/echo`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loanNumber: '100000000001', amount: '1.00', currency: 'PEN', channelReference: 'APP-1' }),
    });

    const paymentRun = (url: string, token: string, connections = CONNECTIONS): Promise<autocannon.Result> => {
      const loans = ['100000000001', '200000000001', '300000000001'];
      let n = 0;
      return run({
        url: `${url}/v1/app/payments`,
        method: 'POST',
        connections,
        duration: SECONDS,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        requests: [
          {
            setupRequest: (req) => {
              n += 1;
              const body = JSON.stringify({
                loanNumber: loans[n % loans.length],
                amount: '1.00',
                currency: 'PEN',
                channelReference: `APP-B${n}`,
              });
              return { ...req, body, headers: { ...req.headers, 'idempotency-key': randomUUID() } };
            },
          },
        ],
      });
    };

    const apiOnly = start([path.join(ROOT, 'dist/bench/api-only-server.js')], {
      LOANHUB_CHANNEL_POLICIES_DIR: policyDir,
    });
    children.push(apiOnly);
    const [apiPort, apiToken] = (await firstLine(apiOnly)).split(' ');
    const apiOnlyResult = await paymentRun(`http://127.0.0.1:${apiPort}`, apiToken ?? '');

    // --pg <url>: the API alone on PostgreSQL too, one process and two processes on one database (the
    // connections split between them), in the same run as the figures above.
    const pgResults: Record<string, unknown>[] = [];
    const pgAt = args.indexOf('--pg');
    const pgUrl = pgAt >= 0 ? args[pgAt + 1] : undefined;
    if (pgUrl) {
      const schema = `bench_${process.pid}`;
      const pgServer = async (): Promise<[string, string]> => {
        const child = start([path.join(ROOT, 'dist/bench/api-only-server.js')], {
          LOANHUB_CHANNEL_POLICIES_DIR: policyDir,
          LOANHUB_DB_URL: pgUrl,
          LOANHUB_DB_SCHEMA: schema,
        });
        children.push(child);
        const [p, t] = (await firstLine(child)).split(' ');
        return [`http://127.0.0.1:${p ?? ''}`, t ?? ''];
      };
      const [oneUrl, oneToken] = await pgServer();
      const one = await paymentRun(oneUrl, oneToken);
      pgResults.push(summary('POST /v1/app/payments, API process alone on PostgreSQL', one));
      const [twoUrl, twoToken] = await pgServer();
      const half = Math.max(1, Math.floor(CONNECTIONS / 2));
      const [a, b] = await Promise.all([paymentRun(oneUrl, oneToken, half), paymentRun(twoUrl, twoToken, half)]);
      pgResults.push({
        name: 'POST /v1/app/payments, two API processes on one PostgreSQL (sum; p99 the worse of the two)',
        requestsPerSecond: Math.round(a.requests.average + b.requests.average),
        p50ms: Math.max(a.latency.p50, b.latency.p50),
        p99ms: Math.max(a.latency.p99, b.latency.p99),
        total: a.requests.total + b.requests.total,
        non2xx: a.non2xx + b.non2xx,
        errors: a.errors + b.errors,
      });
    }

    const port = 18_000 + Math.floor(Math.random() * 1000);
    const env = {
      PORT: String(port),
      LOANHUB_DATA_DIR: dataDir,
      LOANHUB_CHANNEL_POLICIES_DIR: policyDir,
      LOANHUB_LOG_LEVEL: 'warn',
      LOANHUB_CORE_CASH_PORT: String(port + 1),
      LOANHUB_CORE_MORTGAGE_PORT: String(port + 2),
      LOANHUB_CORE_VEHICLE_PORT: String(port + 3),
    };
    const hub = start([path.join(ROOT, 'bin/loanhub.js'), 'start'], env);
    children.push(hub);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url);
    const tokenProc = start([path.join(ROOT, 'bin/loanhub.js'), 'token', '--channel', 'app'], env);
    const token = await firstLine(tokenProc);
    const hubResult = await paymentRun(url, token);
    const results = [
      summary('bare Express JSON POST', bareResult),
      summary('POST /v1/app/payments, API process alone (auth, WAF, idempotency, durable write)', apiOnlyResult),
      ...pgResults,
      summary('POST /v1/app/payments, whole embedded hub (also applying every payment meanwhile)', hubResult),
    ];
    const ratio = apiOnlyResult.requests.average / bareResult.requests.average;
    process.stdout.write(
      `${JSON.stringify({ machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`, connections: CONNECTIONS, seconds: SECONDS, results, apiAloneOverBare: Number(ratio.toFixed(2)), wholeHubOverBare: Number((hubResult.requests.average / bareResult.requests.average).toFixed(2)) }, null, 2)}\n`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`api-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
