import http from 'node:http';
import https from 'node:https';
import type { Core } from '../domain/channel';
import { CoreUnavailableError } from './core-port';
import { CASH_API_KEY_ENV, DEFAULT_CASH_API_KEY } from './cash/cash-contract';
import {
  DEFAULT_MORTGAGE_PASSWORD,
  DEFAULT_MORTGAGE_USERNAME,
  MORTGAGE_PASSWORD_ENV,
  MORTGAGE_USERNAME_ENV,
} from './mortgage/mortgage-contract';
import { DEFAULT_VEHICLE_TOKEN, VEHICLE_TOKEN_ENV } from './vehicle/vehicle-contract';
import type { OperatorErrorCode } from '../domain/errors';

// A core's adapter configuration from the environment, and the one HTTP exchange every adapter uses:
// node:http over one keep-alive agent per core (a connection per call cost the workers CPU) with a
// deadline per call, turning "no answer" into CoreUnavailableError.
// No retries or breakers here: those wrap the adapter from outside (STYLE habit 8). The adapters
// import this file; the factory that picks one per core is core-adapter-factory.ts (no import cycle).

export type CoreCredentials =
  | { readonly kind: 'api_key'; readonly apiKey: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string };

export interface CoreAdapterConfig {
  /** Origin of the core, e.g. http://127.0.0.1:8181; each adapter adds its contract's path. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly credentials: CoreCredentials;
  /** Injected for tests: calls go through it instead of the core's keep-alive agent. */
  readonly fetch?: typeof fetch;
}

export type CoreOperation = 'inquiry' | 'payment' | 'reversal' | 'extract';

export interface CoreHttpRequest {
  readonly operation: CoreOperation;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface CoreHttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The body's bytes as received (kept as evidence by the daily extracts); absent from hand-made answers. */
  readonly raw?: Buffer;
}

export type CoreHttpExchange = (request: CoreHttpRequest) => Promise<CoreHttpResponse>;

export const DEFAULT_CORE_TIMEOUT_MS = 5_000;

export const CORE_DEFAULT_URLS: Readonly<Record<Core, string>> = Object.freeze({
  cash: 'http://127.0.0.1:8181',
  mortgage: 'http://127.0.0.1:8182',
  vehicle: 'http://127.0.0.1:8183',
});

/** LOANHUB_CORE_CASH_URL, LOANHUB_CORE_MORTGAGE_URL, LOANHUB_CORE_VEHICLE_URL. */
export function coreUrlEnvName(core: Core): string {
  return `LOANHUB_CORE_${core.toUpperCase()}_URL`;
}

export function coreTimeoutEnvName(core: Core): string {
  return `LOANHUB_CORE_${core.toUpperCase()}_TIMEOUT_MS`;
}

export class CoreConfigError extends Error {
  readonly code: OperatorErrorCode = 'core_config_invalid';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'CoreConfigError';
  }
}

function credentialsFromEnv(core: Core, env: NodeJS.ProcessEnv): CoreCredentials {
  switch (core) {
    case 'cash':
      return { kind: 'api_key', apiKey: env[CASH_API_KEY_ENV] ?? DEFAULT_CASH_API_KEY };
    case 'mortgage':
      return {
        kind: 'basic',
        username: env[MORTGAGE_USERNAME_ENV] ?? DEFAULT_MORTGAGE_USERNAME,
        password: env[MORTGAGE_PASSWORD_ENV] ?? DEFAULT_MORTGAGE_PASSWORD,
      };
    case 'vehicle':
      return { kind: 'token', token: env[VEHICLE_TOKEN_ENV] ?? DEFAULT_VEHICLE_TOKEN };
    default: {
      const never: never = core;
      throw new Error(`unknown core ${String(never)}`);
    }
  }
}

/**
 * A core's adapter configuration: the URL from its variable, else `fallbackBaseUrl` (e.g. the
 * embedded simulator's URL), else the simulator's default port; timeout and credentials from their
 * variables with the simulators' development defaults.
 */
export function coreAdapterConfigFromEnv(
  core: Core,
  env: NodeJS.ProcessEnv,
  fallbackBaseUrl?: string,
): CoreAdapterConfig {
  const urlVariable = coreUrlEnvName(core);
  const baseUrl = env[urlVariable] ?? fallbackBaseUrl ?? CORE_DEFAULT_URLS[core];
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new CoreConfigError(urlVariable, `${urlVariable} must be an http(s) URL`);
  }
  const timeoutVariable = coreTimeoutEnvName(core);
  const timeoutText = env[timeoutVariable];
  let timeoutMs = DEFAULT_CORE_TIMEOUT_MS;
  if (timeoutText !== undefined) {
    if (!/^[1-9][0-9]{0,6}$/.test(timeoutText)) {
      throw new CoreConfigError(
        timeoutVariable,
        `${timeoutVariable} must be a whole number of milliseconds (1..9999999)`,
      );
    }
    timeoutMs = Number(timeoutText);
  }
  return { baseUrl, timeoutMs, credentials: credentialsFromEnv(core, env) };
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}

/** Sockets one core's exchange keeps open at most (a worker has prefetch 32 commands in hand, plus inquiries). */
export const CORE_MAX_SOCKETS = 64;
/** An idle socket is closed after this long, under the 5 s Node servers keep an idle connection open. */
export const CORE_IDLE_SOCKET_MS = 4_000;

/** A keep-alive agent for one core: sockets reused across calls instead of a connection per call. */
export function createCoreAgent(baseUrl: string): http.Agent {
  const options: http.AgentOptions = {
    keepAlive: true,
    maxSockets: CORE_MAX_SOCKETS,
    maxFreeSockets: CORE_MAX_SOCKETS,
    timeout: CORE_IDLE_SOCKET_MS,
    scheduling: 'lifo',
  };
  return new URL(baseUrl).protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

function timeoutError(ms: number): Error {
  const err = new Error(`no answer within ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

function timedOutName(err: unknown): boolean {
  // AbortSignal.timeout rejects with a DOMException named TimeoutError; checked by name because a
  // DOMException from another realm (jest's vm) is not instanceof this realm's Error.
  const name: unknown = typeof err === 'object' && err !== null ? Reflect.get(err, 'name') : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * One call over the core's keep-alive agent. The deadline covers the whole call, body included: when it
 * passes, the request and its socket are destroyed, so a half-read answer never goes back to the pool.
 */
function requestOverAgent(
  url: URL,
  agent: http.Agent,
  request: CoreHttpRequest,
  timeoutMs: number,
): Promise<{ status: number; contentType: string; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers: Record<string, string | number> = { ...request.headers };
    if (body !== undefined) headers['content-length'] = body.length;
    const send = url.protocol === 'https:' ? https.request : http.request;
    let settled = false;
    const req = send(url, { method: request.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const type = res.headers['content-type'];
        resolve({ status: res.statusCode ?? 0, contentType: type ?? '', raw: Buffer.concat(chunks) });
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error('the core closed the connection before the whole answer'));
      });
    });
    function fail(err: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    }
    const timer = setTimeout(() => fail(timeoutError(timeoutMs)), timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}

/** One call through an injected fetch (tests); the production path is the keep-alive agent above. */
async function requestOverFetch(
  url: URL,
  fetchImpl: typeof fetch,
  request: CoreHttpRequest,
  timeoutMs: number,
): Promise<{ status: number; contentType: string; raw: Buffer }> {
  const response = await fetchImpl(url, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  // The timeout covers reading the body too: the same signal aborts a stalled stream.
  const raw = Buffer.from(await response.arrayBuffer());
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', raw };
}

/**
 * The exchange for one core: calls over one keep-alive agent (or the injected fetch) with a deadline per
 * call; no answer, a 5xx, 408 or 429 is CoreUnavailableError(retryable).
 */
export function createCoreHttpExchange(core: Core, config: CoreAdapterConfig): CoreHttpExchange {
  const base = config.baseUrl;
  const fetchImpl = config.fetch;
  const agent = fetchImpl ? null : createCoreAgent(base);
  const decoder = new TextDecoder();
  return async (request) => {
    const url = new URL(request.path, base);
    let answer: { status: number; contentType: string; raw: Buffer };
    try {
      answer = agent
        ? await requestOverAgent(url, agent, request, config.timeoutMs)
        : await requestOverFetch(url, fetchImpl ?? fetch, request, config.timeoutMs);
    } catch (err) {
      throw new CoreUnavailableError(
        core,
        timedOutName(err)
          ? `${core} core: ${request.operation} got no answer within ${config.timeoutMs} ms`
          : `${core} core: ${request.operation} failed to connect or lost the connection (${describeFailure(err)})`,
        true,
        { cause: err },
      );
    }
    const { status, raw } = answer;
    if (status >= 500 || status === 408 || status === 429) {
      throw new CoreUnavailableError(core, `${core} core: ${request.operation} answered HTTP ${status}`, true);
    }
    return {
      status,
      contentType: answer.contentType,
      // As response.text() decodes: UTF-8, a leading BOM dropped, bad bytes replaced.
      body: decoder.decode(raw),
      raw,
    };
  };
}
