import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../config/config';
import { CHANNELS, type Channel } from '../../domain/channel';
import { hasFullLoanNumber } from '../../logging/loan-number-mask';
import { createLogger } from '../../logging/logger';
import { startHub, type RunningHub } from '../../runtime/hub';
import { testStoreEnv } from '../store/contract/test-databases';
import { openHubDb, type HubDb } from './hub-db';

// A whole embedded hub on free ports in a temp data dir, with every log line captured so tests can
// check what was (and was not) logged.

export interface TestHub {
  readonly hub: RunningHub;
  readonly url: string;
  readonly dataDir: string;
  readonly logLines: string[];
  /** A read-only connection to this hub's own store (its SQLite file, or its PostgreSQL schema); close it. */
  openDb(): HubDb;
  token(channel: Channel, scopes?: readonly ('loans:read' | 'payments:write' | 'payments:reverse')[]): Promise<string>;
  stop(): Promise<void>;
}

/** 12:00 in Lima on 2026-11-23, moving with real time: inside every channel's hours, far from cutoffs. */
export const NOON_IN_LIMA = Date.parse('2026-11-23T17:00:00Z');

export function clockFrom(base: number): () => Date {
  const start = Date.now();
  return () => new Date(base + (Date.now() - start));
}

let refSeq = 0;
/** A channel reference in the channel's own format (see channels/policies/). */
export function sampleReference(channel: Channel): string {
  refSeq += 1;
  const n = (digits: number): string => String((Date.now() * 1000 + refSeq) % 10 ** digits).padStart(digits, '0');
  switch (channel) {
    case 'app':
      return `APP-${n(10)}`;
    case 'web':
      return `WEB-${n(10)}`;
    case 'agents':
      return `AG004512-${n(8)}`;
    case 'atm':
      return `ATM0042-${n(6)}`;
    case 'stores':
      return `STORE7-${n(6)}`;
    default: {
      const never: never = channel;
      return String(never);
    }
  }
}

export async function startTestHub(
  env: NodeJS.ProcessEnv = {},
  now: () => Date = clockFrom(NOON_IN_LIMA),
): Promise<TestHub> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-it-'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  // LOANHUB_TEST_STORE=postgres: the hub's store is a schema of its own in the test PostgreSQL (dropped
  // with the data dir when the fixture made it; a caller's data dir keeps its schema for a restart).
  const ownDataDir = env.LOANHUB_DATA_DIR === undefined;
  const store = testStoreEnv(env.LOANHUB_DATA_DIR ?? dataDir);
  const fullEnv = {
    PORT: '0',
    LOANHUB_DATA_DIR: dataDir,
    LOANHUB_CORE_CASH_PORT: '0',
    LOANHUB_CORE_MORTGAGE_PORT: '0',
    LOANHUB_CORE_VEHICLE_PORT: '0',
    LOANHUB_LOG_LEVEL: 'debug',
    ...store.env,
    ...env,
  };
  const config = loadConfig(fullEnv);
  const hub = await startHub({
    config,
    logger: createLogger({ level: 'debug', destination: sink }),
    env: fullEnv,
    now,
  });
  if (store.env.LOANHUB_DB_URL && hub.store?.kind !== 'postgres') {
    await hub.stop();
    throw new Error('LOANHUB_TEST_STORE=postgres but the hub did not open PostgreSQL');
  }
  const tokens = new Map<string, string>();
  return {
    hub,
    url: hub.url,
    dataDir,
    logLines,
    openDb: () => openHubDb(fullEnv),
    async token(channel, scopes) {
      const cacheKey = `${channel}:${scopes?.join(',') ?? '*'}`;
      const cached = tokens.get(cacheKey);
      if (cached) return cached;
      const client = hub.issuer.clients().find((c) => c.channel === channel);
      if (!client) throw new Error(`no client for ${channel}`);
      const t = (await hub.issuer.issueToken(client.clientId, scopes)).access_token;
      tokens.set(cacheKey, t);
      return t;
    },
    async stop() {
      await hub.stop();
      if (ownDataDir) await store.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      assertNoSecretsLogged(logLines, [
        ...tokens.values(),
        ...hub.issuer.clients().map((c) => hub.issuer.clientSecret(c.clientId) ?? ''),
      ]);
    },
  };
}

export { CHANNELS };

export async function api(
  url: string,
  init: { method?: string; token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { unparsable: text };
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Polls `probe` until it returns a value, or fails with the last value seen after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Every suite that runs a hub ends with this: no token, secret or Authorization header in any log line,
 * and no loan number in full (the logger masks them to their last 4 digits).
 */
export function assertNoSecretsLogged(lines: readonly string[], secrets: readonly string[]): void {
  const all = lines.join('\n');
  for (const secret of secrets) {
    if (secret && all.includes(secret)) throw new Error('a token or secret appeared in a log line');
  }
  if (/Bearer\s+[A-Za-z0-9._~+/-]{16,}/.test(all)) throw new Error('an Authorization header appeared in a log line');
  if (/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./.test(all)) throw new Error('a JWT appeared in a log line');
  if (/whsec_[A-Za-z0-9+/=]{8,}/.test(all)) throw new Error('a webhook secret appeared in a log line');
  if (hasFullLoanNumber(all)) {
    const line = lines.find((l) => hasFullLoanNumber(l)) ?? '';
    throw new Error(`a loan number appeared in full in a log line: ${line.slice(0, 300)}`);
  }
}

// Ports a test chooses for processes it starts (which bind them a little later) come from below Linux's
// ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), where the OS never puts a
// port-0 listener, and each jest worker has a slice of its own: the test command runs two workers, and a
// port picked with listen(0) and released was once handed to another suite's port-0 listener before the
// process meant for it could bind it (EADDRINUSE).
const PORT_SLICE = 1_500;
const PORT_BASE = 20_000;
let portCursor = Math.floor(Math.random() * PORT_SLICE);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Distinct free TCP ports on loopback, from this jest worker's own slice below the ephemeral range. */
export async function freePorts(n: number): Promise<number[]> {
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? '1') || 1);
  const first = PORT_BASE + ((worker - 1) % 8) * PORT_SLICE;
  const ports: number[] = [];
  for (let tried = 0; ports.length < n; tried += 1) {
    if (tried >= PORT_SLICE) throw new Error(`no ${n} free ports in ${first}-${first + PORT_SLICE - 1}`);
    const port = first + (portCursor % PORT_SLICE);
    portCursor += 1;
    if (await canListen(port)) ports.push(port);
  }
  return ports;
}
