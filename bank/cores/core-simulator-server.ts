import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CORES, type Core } from '../../domain/channel';
import {
  DEFAULT_SLOW_DELAY_MS,
  extractFaultJson,
  parseExtractFaultRequest,
  parseFaultRequest,
  type FaultState,
} from './core-faults';
import { DEFAULT_BANK_TIME_ZONE } from '../../domain/business-date';
import { coreDatabasePath, openSimulatedLedger } from './core-ledger';
import type { SimulatorAnswer } from './core-simulator-contract';
import { CORE_SIMULATOR_CONTRACTS } from './core-simulator-contracts';

// The HTTP server of a core simulator: the contract's handler over the ledger for the core's own routes,
// and the admin routes under /_admin (faults) that tests and `loanhub simulate fault` use.

export interface CoreSimulator {
  readonly core: Core;
  /** Origin the adapter talks to (e.g. http://127.0.0.1:8181); each contract adds its own path. */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartCoreSimulatorOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly host?: string;
  /** Where credentials are read from (same variables and defaults as the adapters); process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

export const DEFAULT_SIMULATOR_PORTS: Readonly<Record<Core, number>> = Object.freeze({
  cash: 8181,
  mortgage: 8182,
  vehicle: 8183,
});

const MAX_BODY_BYTES = 64 * 1024;
const ADMIN_PREFIX = '/_admin/';

function headerRecord(req: IncomingMessage): Record<string, string | string[] | undefined> {
  return { ...req.headers };
}

function send(res: ServerResponse, answer: SimulatorAnswer): void {
  if (res.destroyed) return;
  res.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
  });
  res.end(answer.body);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function jsonAnswer(status: number, value: unknown): SimulatorAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify(value) };
}

function parseJsonBody(body: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

function publicUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Starts one core's simulator: its ledger under `${dataDir}/cores/<core>.db` and its HTTP server. */
export async function startCoreSimulator(core: Core, opts: StartCoreSimulatorOptions): Promise<CoreSimulator> {
  const contract = CORE_SIMULATOR_CONTRACTS[core];
  mkdirSync(join(opts.dataDir, 'cores'), { recursive: true });
  const env = opts.env ?? process.env;
  // The core's calendar: its extract of a date lists what happened on that date in the bank's time zone.
  const timeZone = env['LOANHUB_TIME_ZONE'] ?? DEFAULT_BANK_TIME_ZONE;
  const ledger = openSimulatedLedger(coreDatabasePath(opts.dataDir, core), contract, timeZone);
  const handler = contract.createHandler(ledger, env);
  let fault: FaultState = { mode: 'ok', delayMs: DEFAULT_SLOW_DELAY_MS, status: 503 };
  let closing = false;
  const pendingDelays = new Set<NodeJS.Timeout>();

  function faultAdmin(method: string, body: string): SimulatorAnswer {
    if (method === 'GET') return jsonAnswer(200, { core, ...fault });
    if (method !== 'POST') return jsonAnswer(405, { error: 'use GET or POST' });
    const parsed = parseJsonBody(body);
    if (!parsed.ok) return jsonAnswer(400, { error: 'body is not JSON' });
    const result = parseFaultRequest(parsed.value);
    if (!result.ok) return jsonAnswer(400, { error: result.detail });
    fault = result.value;
    return jsonAnswer(200, { core, ...fault });
  }

  function extractFaultAdmin(method: string, body: string): SimulatorAnswer {
    const listing = (): SimulatorAnswer =>
      jsonAnswer(200, { core, faults: ledger.listExtractFaults().map(extractFaultJson) });
    if (method === 'GET') return listing();
    if (method === 'DELETE') {
      ledger.clearExtractFaults();
      return listing();
    }
    if (method !== 'POST') return jsonAnswer(405, { error: 'use GET, POST or DELETE' });
    const parsed = parseJsonBody(body);
    if (!parsed.ok) return jsonAnswer(400, { error: 'body is not JSON' });
    const result = parseExtractFaultRequest(parsed.value);
    if (!result.ok) return jsonAnswer(400, { error: result.detail });
    ledger.setExtractFault(result.value);
    return listing();
  }

  function admin(method: string, path: string, body: string): SimulatorAnswer {
    if (path === '/_admin/fault') return faultAdmin(method, body);
    if (path === '/_admin/extract-fault') return extractFaultAdmin(method, body);
    return jsonAnswer(404, { error: 'unknown admin endpoint' });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    const method = req.method ?? 'GET';
    if (path.startsWith(ADMIN_PREFIX)) {
      const body = await readBody(req);
      send(res, body === undefined ? jsonAnswer(413, { error: 'body too large' }) : admin(method, path, body));
      return;
    }
    const current = fault;
    if (current.mode === 'down') {
      // Looks like a dead host to the client: the connection drops without an answer.
      req.socket.destroy();
      return;
    }
    if (current.mode === 'error') {
      send(res, { status: current.status, contentType: 'text/plain', body: 'injected fault\n' });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      send(res, { status: 413, contentType: 'text/plain', body: 'request body too large\n' });
      return;
    }
    if (current.mode === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pendingDelays.delete(timer);
          resolve();
        }, current.delayMs);
        pendingDelays.add(timer);
      });
      // A slow core still acts on a request whose client gave up; only a closed simulator drops it.
      if (closing) return;
    }
    send(res, handler({ method, path, headers: headerRecord(req), body }));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${core} simulator: ${message}\n`);
      if (!res.headersSent) send(res, { status: 500, contentType: 'text/plain', body: 'simulator failure\n' });
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    ledger.close();
    const code: unknown = typeof err === 'object' && err !== null ? Reflect.get(err, 'code') : undefined;
    if (code === 'EADDRINUSE') throw new SimulatorPortInUseError(core, host, opts.port ?? 0, { cause: err });
    throw err;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') {
    ledger.close();
    throw new Error(`${core} simulator did not get a TCP address`);
  }
  const url = publicUrl(host, (address satisfies AddressInfo).port);

  return Object.freeze({
    core,
    url,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const timer of pendingDelays) clearTimeout(timer);
      pendingDelays.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      ledger.close();
    },
  });
}

/** LOANHUB_CORE_CASH_PORT, LOANHUB_CORE_MORTGAGE_PORT, LOANHUB_CORE_VEHICLE_PORT. */
export function simulatorPortEnvName(core: Core): string {
  return `LOANHUB_CORE_${core.toUpperCase()}_PORT`;
}

/** A simulator's port is taken by another process: the message says which variable chooses another. */
export class SimulatorPortInUseError extends Error {
  override readonly name = 'SimulatorPortInUseError';
  readonly code = 'simulator_port_in_use';
  constructor(
    readonly core: Core,
    readonly host: string,
    readonly port: number,
    options: { cause?: unknown } = {},
  ) {
    super(
      `the ${core} core simulator cannot listen on ${host}:${port}: the port is in use (EADDRINUSE), ` +
        `perhaps by another LoanHub on this machine; set ${simulatorPortEnvName(core)} to a free port ` +
        `(0 takes any free one), or stop what holds it`,
      options,
    );
  }
}

export interface StartCoreSimulatorsOptions {
  readonly dataDir: string;
  readonly host?: string;
  /** Per core; 0 or absent takes any free port. */
  readonly ports?: Partial<Record<Core, number>>;
  /**
   * Cores whose port is only a preference (a default nobody chose): when it is in use, the simulator takes
   * a free port instead of failing, and `onPortTaken` is told. A port someone set fails with
   * SimulatorPortInUseError naming its variable.
   */
  readonly preferredOnly?: readonly Core[];
  readonly onPortTaken?: (event: { core: Core; busyPort: number; url: string }) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts the three simulators; stops any already started when one fails. */
export async function startCoreSimulators(opts: StartCoreSimulatorsOptions): Promise<CoreSimulator[]> {
  const started: CoreSimulator[] = [];
  const start = (core: Core, port: number): Promise<CoreSimulator> =>
    startCoreSimulator(core, {
      dataDir: opts.dataDir,
      port,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
    });
  try {
    for (const core of CORES) {
      const port = opts.ports?.[core] ?? 0;
      try {
        started.push(await start(core, port));
      } catch (err) {
        if (!(err instanceof SimulatorPortInUseError) || !opts.preferredOnly?.includes(core)) throw err;
        const sim = await start(core, 0);
        started.push(sim);
        opts.onPortTaken?.({ core, busyPort: port, url: sim.url });
      }
    }
    return started;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}
