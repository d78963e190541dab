import { formatAmount, parseAmount } from '../../domain/money';
import type { ExtractFault, LedgerMovement } from './core-simulator-contract';

// Fault injection (issue 6): the admin endpoint `/_admin/fault` that makes a core simulator look down,
// slow or failing, its body's validation, and the client that `loanhub simulate fault` and tests use.
// Extract faults (issue 10): `/_admin/extract-fault` plants a difference between what the core did and
// what its daily extract says (a payment listed twice, left out, or with another amount).

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

// ---------------------------------------------------------------------------------------------
// Extract faults.

export const EXTRACT_FAULT_ACTIONS = ['duplicate', 'drop', 'amount'] as const;
const MAX_FAULT_AMOUNT = 10n ** 18n;

type ExtractFaultParse =
  { readonly ok: true; readonly value: ExtractFault } | { readonly ok: false; readonly detail: string };

/** Validates `{ action, paymentId, amount? }`; the amount is a decimal string ("125.50"), never a number. */
export function parseExtractFaultRequest(body: unknown): ExtractFaultParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, detail: 'body must be a JSON object' };
  const action: unknown = Reflect.get(body, 'action');
  const paymentId: unknown = Reflect.get(body, 'paymentId');
  const amount: unknown = Reflect.get(body, 'amount');
  if (typeof paymentId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(paymentId)) {
    return { ok: false, detail: 'paymentId must be the external reference of a payment' };
  }
  if (action === 'duplicate' || action === 'drop') {
    if (amount !== undefined) return { ok: false, detail: `amount is only taken with action "amount"` };
    return { ok: true, value: { action, paymentId } };
  }
  if (action === 'amount') {
    const parsed = parseAmount(amount, MAX_FAULT_AMOUNT);
    if (!parsed.ok) return { ok: false, detail: `amount: ${parsed.detail}` };
    return { ok: true, value: { action, paymentId, amount: parsed.value } };
  }
  return { ok: false, detail: `action must be one of ${EXTRACT_FAULT_ACTIONS.join(', ')}` };
}

/** The JSON form of a fault (amount as a decimal string), as the admin endpoint answers it. */
export function extractFaultJson(fault: ExtractFault): Record<string, string> {
  return fault.action === 'amount'
    ? { action: fault.action, paymentId: fault.paymentId, amount: formatAmount(fault.amount) }
    : { action: fault.action, paymentId: fault.paymentId };
}

/** The extract as the faults make it differ from the ledger; only payment lines are touched, reversals stay. */
export function applyExtractFaults(
  movements: readonly LedgerMovement[],
  faults: readonly ExtractFault[],
): LedgerMovement[] {
  if (faults.length === 0) return [...movements];
  const byPayment = new Map(faults.map((f) => [f.paymentId, f]));
  return movements.flatMap((m): LedgerMovement[] => {
    const fault = m.kind === 'payment' ? byPayment.get(m.externalRef) : undefined;
    if (!fault) return [m];
    switch (fault.action) {
      case 'drop':
        return [];
      case 'duplicate':
        return [m, { ...m, coreReference: `${m.coreReference}-2` }];
      case 'amount':
        return [{ ...m, amount: fault.amount }];
      default: {
        const never: never = fault;
        throw new Error(`unhandled extract fault ${JSON.stringify(never)}`);
      }
    }
  });
}

/** What /_admin/extract-fault answers: the core and every fault planted now (amounts as decimal strings). */
export interface ExtractFaultListing {
  readonly core: string;
  readonly faults: readonly Readonly<Record<string, string>>[];
}

async function adminCall(
  baseUrl: string,
  method: string,
  body: unknown,
  timeoutMs: number,
): Promise<ExtractFaultListing> {
  const response = await fetch(new URL('/_admin/extract-fault', baseUrl), {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
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
  const faults: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'faults') : undefined;
  const isEntry = (f: unknown): f is Record<string, string> =>
    typeof f === 'object' && f !== null && Object.values(f).every((v) => typeof v === 'string');
  if (typeof core !== 'string' || !Array.isArray(faults) || !faults.every(isEntry)) {
    throw new Error(`simulator at ${baseUrl} answered an unexpected body`);
  }
  return { core, faults };
}

/**
 * Plants an extract fault (`POST /_admin/extract-fault`): from now on the core's daily extract lists that
 * payment twice, leaves it out, or lists it with `amount` (a decimal string). One fault per payment.
 */
export async function setExtractFault(
  baseUrl: string,
  fault:
    | { readonly action: 'duplicate' | 'drop'; readonly paymentId: string }
    | { readonly action: 'amount'; readonly paymentId: string; readonly amount: string },
  timeoutMs = 5_000,
): Promise<ExtractFaultListing> {
  return adminCall(baseUrl, 'POST', fault, timeoutMs);
}

/** The extract faults planted now (`GET /_admin/extract-fault`). */
export async function listExtractFaults(baseUrl: string, timeoutMs = 5_000): Promise<ExtractFaultListing> {
  return adminCall(baseUrl, 'GET', undefined, timeoutMs);
}

/** Takes every extract fault away (`DELETE /_admin/extract-fault`): the extract says again what the core did. */
export async function clearExtractFaults(baseUrl: string, timeoutMs = 5_000): Promise<ExtractFaultListing> {
  return adminCall(baseUrl, 'DELETE', undefined, timeoutMs);
}
