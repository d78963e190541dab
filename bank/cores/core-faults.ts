// Fault injection (issue 6): the admin endpoint `/_admin/fault` that makes a core simulator look down,
// slow or failing, its body's validation, and the client that `loanhub simulate fault` and tests use.

export const FAULT_MODES = ['ok', 'down', 'slow', 'error'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultState {
  readonly mode: FaultMode;
  /** How long `slow` holds each answer. */
  readonly delayMs: number;
  /** What `error` answers with. */
  readonly status: 500 | 503;
}

export const DEFAULT_SLOW_DELAY_MS = 10_000;

export function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === 'string' && (FAULT_MODES as readonly string[]).includes(value);
}

type FaultParse = { readonly ok: true; readonly value: FaultState } | { readonly ok: false; readonly detail: string };

/** Validates the admin body `{ mode, delayMs?, status? }`. */
export function parseFaultRequest(body: unknown): FaultParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, detail: 'body must be a JSON object' };
  const mode: unknown = Reflect.get(body, 'mode');
  const delayMs: unknown = Reflect.get(body, 'delayMs');
  const status: unknown = Reflect.get(body, 'status');
  if (!isFaultMode(mode)) return { ok: false, detail: `mode must be one of ${FAULT_MODES.join(', ')}` };
  if (
    delayMs !== undefined &&
    (!Number.isSafeInteger(delayMs) || typeof delayMs !== 'number' || delayMs < 0 || delayMs > 600_000)
  ) {
    return { ok: false, detail: 'delayMs must be an integer between 0 and 600000' };
  }
  if (status !== undefined && status !== 500 && status !== 503)
    return { ok: false, detail: 'status must be 500 or 503' };
  return {
    ok: true,
    value: {
      mode,
      delayMs: typeof delayMs === 'number' ? delayMs : DEFAULT_SLOW_DELAY_MS,
      status: status === 500 ? 500 : 503,
    },
  };
}

export const INITIAL_FAULT: FaultState = Object.freeze({ mode: 'ok', delayMs: DEFAULT_SLOW_DELAY_MS, status: 503 });

export interface FaultAnswer extends FaultState {
  readonly core: string;
}

async function readFaultAnswer(baseUrl: string, response: Response): Promise<FaultAnswer> {
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`simulator at ${baseUrl} refused (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Error(`simulator at ${baseUrl} answered something that is not JSON`, { cause });
  }
  const core: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'core') : undefined;
  const state = parseFaultRequest(parsed);
  if (typeof core !== 'string' || !state.ok) throw new Error(`simulator at ${baseUrl} answered an unexpected body`);
  return { core, ...state.value };
}

/** The fault a simulator is running with now (`GET /_admin/fault`). */
export async function getSimulatorFault(baseUrl: string, timeoutMs = 5_000): Promise<FaultAnswer> {
  const response = await fetch(new URL('/_admin/fault', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  return readFaultAnswer(baseUrl, response);
}

/** Calls a simulator's admin endpoint (`POST /_admin/fault`); what `loanhub simulate fault` runs. */
export async function setSimulatorFault(
  baseUrl: string,
  fault: { readonly mode: FaultMode; readonly delayMs?: number; readonly status?: 500 | 503 },
  timeoutMs = 5_000,
): Promise<FaultAnswer> {
  const response = await fetch(new URL('/_admin/fault', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return readFaultAnswer(baseUrl, response);
}
