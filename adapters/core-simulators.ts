import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CORES, type Core } from '../domain/channel';
import { formatAmount, minorUnits, type Currency } from '../domain/money';
import type { LoanInquiry, LoanStatus } from './core-port';
import { cashSimulatorContract } from './cash/cash-simulator';
import { mortgageSimulatorContract } from './mortgage/mortgage-simulator';
import { vehicleSimulatorContract } from './vehicle/vehicle-simulator';

// The three loan-core simulators share one shape: a SQLite ledger of loans (each loan's amount due
// split into ordered buckets), payments keyed by the hub's external reference, and reversals; an
// HTTP server with fault injection under /_admin; and a per-core contract that speaks the core's
// own wire format over that ledger. Only the contract differs between cores.

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

// ---------------------------------------------------------------------------------------------
// Contract seam: what each core's folder gives the shared simulator machinery.

export interface SeedBucket {
  readonly name: string;
  readonly due: bigint;
}

export interface SeedLoan {
  readonly loanId: string;
  readonly currency: Currency;
  readonly status: LoanStatus;
  /** In allocation order: a payment fills the first bucket, then the next. */
  readonly buckets: readonly SeedBucket[];
}

export interface SimulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface SimulatorAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export type SimulatorHandler = (request: SimulatorRequest) => SimulatorAnswer;

export interface CoreSimulatorContract {
  readonly core: Core;
  readonly seeds: readonly SeedLoan[];
  /** The core's own reference for the n-th payment or reversal it records. */
  reference(kind: 'payment' | 'reversal', sequence: bigint): string;
  createHandler(ledger: SimulatedLedger, env: NodeJS.ProcessEnv): SimulatorHandler;
}

const CONTRACTS: Readonly<Record<Core, CoreSimulatorContract>> = Object.freeze({
  cash: cashSimulatorContract,
  mortgage: mortgageSimulatorContract,
  vehicle: vehicleSimulatorContract,
});

// ---------------------------------------------------------------------------------------------
// Seeds.

export interface SampleLoan {
  readonly loanNumber: string;
  readonly core: Core;
  readonly currency: Currency;
  readonly amountDue: string;
  readonly status: LoanStatus;
}

function sampleOf(core: Core, seed: SeedLoan): SampleLoan {
  return Object.freeze({
    loanNumber: seed.loanId,
    core,
    currency: seed.currency,
    amountDue: formatAmount(totalOf(seed.buckets)),
    status: seed.status,
  });
}

/** Every loan the simulators seed, in core order; amounts as decimal strings. */
export const SAMPLE_LOANS: readonly SampleLoan[] = Object.freeze(
  CORES.flatMap((core) => CONTRACTS[core].seeds.map((seed) => sampleOf(core, seed))),
);

// ---------------------------------------------------------------------------------------------
// Ledger.

export interface LedgerBucket {
  readonly name: string;
  readonly due: bigint;
}

export interface LedgerLoan {
  readonly loanId: string;
  readonly currency: Currency;
  readonly status: LoanStatus;
  readonly buckets: readonly LedgerBucket[];
  readonly totalDue: bigint;
}

export interface BucketAmount {
  readonly name: string;
  readonly amount: bigint;
}

export type PaymentRejection =
  'loan_not_found' | 'loan_closed' | 'currency_mismatch' | 'invalid_amount' | 'overpayment';

export type ApplyResult =
  | {
      readonly kind: 'applied';
      readonly coreReference: string;
      readonly loan: LedgerLoan;
      readonly allocation: readonly BucketAmount[];
    }
  | { readonly kind: 'rejected'; readonly reason: PaymentRejection; readonly loan: LedgerLoan | undefined };

export type ReverseResult =
  | {
      readonly kind: 'reversed';
      readonly reversalReference: string;
      readonly paymentReference: string;
      readonly loan: LedgerLoan;
      readonly restored: readonly BucketAmount[];
    }
  | { readonly kind: 'rejected'; readonly reason: 'payment_not_found' | 'invalid_amount' };

/** What a ledger operation hands back to the contract: the stored answer (original or replayed) or a conflict. */
export type LedgerAnswer =
  { readonly kind: 'fresh' | 'replayed'; readonly answer: SimulatorAnswer } | { readonly kind: 'conflict' };

export interface ApplyInput {
  readonly externalRef: string;
  readonly loanId: string;
  readonly amount: bigint;
  readonly currency: string;
}

export interface ReverseInput {
  readonly externalRef: string;
  readonly loanId: string;
  readonly amount: bigint;
}

export interface SimulatedLedger {
  findLoan(loanId: string): LedgerLoan | undefined;
  /**
   * Applies a payment once per external reference. The rendered answer is stored with the payment in
   * the same transaction; a repeat with the same payload gets that stored answer back, a repeat with
   * another payload is a conflict (STYLE habit 9: key plus fingerprint).
   */
  applyPayment(input: ApplyInput, render: (result: ApplyResult) => SimulatorAnswer): LedgerAnswer;
  /** Restores exactly what the payment took, once; a repeat gets the stored answer. Rejections are not stored. */
  reversePayment(input: ReverseInput, render: (result: ReverseResult) => SimulatorAnswer): SimulatorAnswer;
  listLoans(): LedgerLoan[];
  close(): void;
}

interface LoanRow {
  loan_id: string;
  currency: string;
  status: string;
}
interface BucketRow {
  bucket: string;
  due_minor: bigint;
}
interface PaymentRow {
  seq: bigint;
  external_ref: string;
  fingerprint: string;
  loan_id: string;
  outcome: string;
  core_ref: string | null;
  amount_minor: bigint;
  allocation: string | null;
  answer_status: bigint;
  answer_type: string;
  answer_body: string;
}
interface ReversalRow {
  answer_status: bigint;
  answer_type: string;
  answer_body: string;
}
interface SeqRow {
  next: bigint;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS loans (
  loan_id  TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  status   TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CLOSED'))
);
CREATE TABLE IF NOT EXISTS loan_buckets (
  loan_id   TEXT NOT NULL REFERENCES loans (loan_id),
  position  INTEGER NOT NULL,
  bucket    TEXT NOT NULL,
  due_minor INTEGER NOT NULL CHECK (due_minor >= 0),
  PRIMARY KEY (loan_id, bucket)
);
CREATE TABLE IF NOT EXISTS payments (
  seq           INTEGER PRIMARY KEY,
  external_ref  TEXT NOT NULL UNIQUE,
  fingerprint   TEXT NOT NULL,
  loan_id       TEXT NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('APPLIED', 'REJECTED')),
  core_ref      TEXT,
  amount_minor  INTEGER NOT NULL,
  allocation    TEXT,
  answer_status INTEGER NOT NULL,
  answer_type   TEXT NOT NULL,
  answer_body   TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reversals (
  seq           INTEGER PRIMARY KEY,
  external_ref  TEXT NOT NULL UNIQUE REFERENCES payments (external_ref),
  core_ref      TEXT NOT NULL,
  answer_status INTEGER NOT NULL,
  answer_type   TEXT NOT NULL,
  answer_body   TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
`;

export function coreDatabasePath(dataDir: string, core: Core): string {
  return join(dataDir, 'cores', `${core}.db`);
}

function totalOf(buckets: readonly { readonly due: bigint }[]): bigint {
  return buckets.reduce((sum, b) => sum + b.due, 0n);
}

function fingerprintOf(loanId: string, amount: bigint, currency: string): string {
  return createHash('sha256').update(`${loanId}|${amount.toString()}|${currency}`).digest('hex');
}

function asCurrency(value: string): Currency {
  if (value === 'PEN' || value === 'USD') return value;
  throw new Error(`simulator ledger holds an unknown currency ${JSON.stringify(value)}`);
}

function asStatus(value: string): LoanStatus {
  if (value === 'ACTIVE' || value === 'CLOSED') return value;
  throw new Error(`simulator ledger holds an unknown loan status ${JSON.stringify(value)}`);
}

/** Allocation is stored as JSON of decimal strings of minor units, so no amount passes through a number. */
function encodeAllocation(allocation: readonly BucketAmount[]): string {
  return JSON.stringify(allocation.map((a) => [a.name, a.amount.toString()]));
}

function decodeAllocation(text: string): BucketAmount[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('stored allocation is not a list');
  return parsed.map((entry: unknown) => {
    if (
      !Array.isArray(entry) ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'string' ||
      !/^\d+$/.test(entry[1])
    ) {
      throw new Error('stored allocation entry is malformed');
    }
    return { name: entry[0], amount: BigInt(entry[1]) };
  });
}

/** Opens (creating and seeding when needed) a core's ledger; WAL so a reader never blocks the writer. */
export function openSimulatedLedger(path: string, contract: CoreSimulatorContract): SimulatedLedger {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash could lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.defaultSafeIntegers(true);
  db.exec(SCHEMA);

  const insertLoan = db.prepare<[string, string, string]>(
    'INSERT OR IGNORE INTO loans (loan_id, currency, status) VALUES (?, ?, ?)',
  );
  const insertBucket = db.prepare<[string, bigint, string, bigint]>(
    'INSERT OR IGNORE INTO loan_buckets (loan_id, position, bucket, due_minor) VALUES (?, ?, ?, ?)',
  );
  // Seeds only fill what is missing: a restart never resets a balance.
  db.transaction(() => {
    for (const seed of contract.seeds) {
      insertLoan.run(seed.loanId, seed.currency, seed.status);
      seed.buckets.forEach((b, i) => insertBucket.run(seed.loanId, BigInt(i), b.name, b.due));
    }
  })();

  const selectLoan = db.prepare<[string], LoanRow>('SELECT loan_id, currency, status FROM loans WHERE loan_id = ?');
  const selectLoans = db.prepare<[], LoanRow>('SELECT loan_id, currency, status FROM loans ORDER BY loan_id');
  const selectBuckets = db.prepare<[string], BucketRow>(
    'SELECT bucket, due_minor FROM loan_buckets WHERE loan_id = ? ORDER BY position',
  );
  const updateBucket = db.prepare<[bigint, string, string]>(
    'UPDATE loan_buckets SET due_minor = ? WHERE loan_id = ? AND bucket = ?',
  );
  const updateStatus = db.prepare<[string, string]>('UPDATE loans SET status = ? WHERE loan_id = ?');
  const selectPayment = db.prepare<[string], PaymentRow>('SELECT * FROM payments WHERE external_ref = ?');
  const nextPaymentSeq = db.prepare<[], SeqRow>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM payments');
  const insertPayment = db.prepare<
    [bigint, string, string, string, string, string | null, bigint, string | null, bigint, string, string, string]
  >(
    `INSERT INTO payments (seq, external_ref, fingerprint, loan_id, outcome, core_ref, amount_minor, allocation,
       answer_status, answer_type, answer_body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectReversal = db.prepare<[string], ReversalRow>(
    'SELECT answer_status, answer_type, answer_body FROM reversals WHERE external_ref = ?',
  );
  const nextReversalSeq = db.prepare<[], SeqRow>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM reversals');
  const insertReversal = db.prepare<[bigint, string, string, bigint, string, string, string]>(
    `INSERT INTO reversals (seq, external_ref, core_ref, answer_status, answer_type, answer_body, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );

  function loanOf(row: LoanRow): LedgerLoan {
    const buckets = selectBuckets.all(row.loan_id).map((b) => ({ name: b.bucket, due: b.due_minor }));
    return {
      loanId: row.loan_id,
      currency: asCurrency(row.currency),
      status: asStatus(row.status),
      buckets,
      totalDue: totalOf(buckets),
    };
  }

  function findLoan(loanId: string): LedgerLoan | undefined {
    const row = selectLoan.get(loanId);
    return row ? loanOf(row) : undefined;
  }

  function storedAnswer(row: { answer_status: bigint; answer_type: string; answer_body: string }): SimulatorAnswer {
    return { status: Number(row.answer_status), contentType: row.answer_type, body: row.answer_body };
  }

  function decide(input: ApplyInput, loan: LedgerLoan | undefined): PaymentRejection | undefined {
    if (!loan) return 'loan_not_found';
    if (loan.status === 'CLOSED') return 'loan_closed';
    if (loan.currency !== input.currency) return 'currency_mismatch';
    if (input.amount <= 0n) return 'invalid_amount';
    if (input.amount > loan.totalDue) return 'overpayment';
    return undefined;
  }

  const applyPayment = db.transaction(
    (input: ApplyInput, render: (result: ApplyResult) => SimulatorAnswer): LedgerAnswer => {
      const fingerprint = fingerprintOf(input.loanId, input.amount, input.currency);
      const existing = selectPayment.get(input.externalRef);
      if (existing) {
        return existing.fingerprint === fingerprint
          ? { kind: 'replayed', answer: storedAnswer(existing) }
          : { kind: 'conflict' };
      }
      const seq = nextPaymentSeq.get()?.next ?? 1n;
      const before = findLoan(input.loanId);
      const rejection = decide(input, before);
      const now = new Date().toISOString();
      if (rejection !== undefined || !before) {
        const answer = render({ kind: 'rejected', reason: rejection ?? 'loan_not_found', loan: before });
        insertPayment.run(
          seq,
          input.externalRef,
          fingerprint,
          input.loanId,
          'REJECTED',
          null,
          input.amount,
          null,
          BigInt(answer.status),
          answer.contentType,
          answer.body,
          now,
        );
        return { kind: 'fresh', answer };
      }
      let left = input.amount;
      const allocation: BucketAmount[] = [];
      for (const bucket of before.buckets) {
        const take = left < bucket.due ? left : bucket.due;
        allocation.push({ name: bucket.name, amount: take });
        if (take > 0n) updateBucket.run(bucket.due - take, before.loanId, bucket.name);
        left -= take;
      }
      // A loan paid down to zero is closed, as a real core would; a reversal reopens it.
      if (before.totalDue === input.amount) updateStatus.run('CLOSED', before.loanId);
      const after = findLoan(before.loanId);
      if (!after) throw new Error('loan vanished inside its own transaction');
      const coreReference = contract.reference('payment', seq);
      const answer = render({ kind: 'applied', coreReference, loan: after, allocation });
      insertPayment.run(
        seq,
        input.externalRef,
        fingerprint,
        input.loanId,
        'APPLIED',
        coreReference,
        input.amount,
        encodeAllocation(allocation),
        BigInt(answer.status),
        answer.contentType,
        answer.body,
        now,
      );
      return { kind: 'fresh', answer };
    },
  );

  const reversePayment = db.transaction(
    (input: ReverseInput, render: (result: ReverseResult) => SimulatorAnswer): SimulatorAnswer => {
      const payment = selectPayment.get(input.externalRef);
      if (!payment || payment.outcome !== 'APPLIED' || payment.loan_id !== input.loanId || !payment.allocation) {
        return render({ kind: 'rejected', reason: 'payment_not_found' });
      }
      if (payment.amount_minor !== input.amount) return render({ kind: 'rejected', reason: 'invalid_amount' });
      const existing = selectReversal.get(input.externalRef);
      if (existing) return storedAnswer(existing);
      const before = findLoan(payment.loan_id);
      if (!before) throw new Error('a payment points at a loan the ledger does not hold');
      const restored = decodeAllocation(payment.allocation);
      for (const part of restored) {
        const bucket = before.buckets.find((b) => b.name === part.name);
        if (!bucket) throw new Error(`stored allocation names an unknown bucket ${part.name}`);
        if (part.amount > 0n) updateBucket.run(bucket.due + part.amount, before.loanId, bucket.name);
      }
      updateStatus.run('ACTIVE', before.loanId);
      const after = findLoan(before.loanId);
      if (!after) throw new Error('loan vanished inside its own transaction');
      const seq = nextReversalSeq.get()?.next ?? 1n;
      const reversalReference = contract.reference('reversal', seq);
      const answer = render({
        kind: 'reversed',
        reversalReference,
        paymentReference: payment.core_ref ?? '',
        loan: after,
        restored,
      });
      insertReversal.run(
        seq,
        input.externalRef,
        reversalReference,
        BigInt(answer.status),
        answer.contentType,
        answer.body,
        new Date().toISOString(),
      );
      return answer;
    },
  );

  return {
    findLoan,
    applyPayment: (input, render) => applyPayment.immediate(input, render),
    reversePayment: (input, render) => reversePayment.immediate(input, render),
    listLoans: () => selectLoans.all().map(loanOf),
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Fault injection (issue 6): an admin endpoint that makes the core look down, slow or failing.

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
const MAX_BODY_BYTES = 64 * 1024;
const ADMIN_PREFIX = '/_admin/';

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

function publicUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Starts one core's simulator: its ledger under `${dataDir}/cores/<core>.db` and its HTTP server. */
export async function startCoreSimulator(core: Core, opts: StartCoreSimulatorOptions): Promise<CoreSimulator> {
  const contract = CONTRACTS[core];
  mkdirSync(join(opts.dataDir, 'cores'), { recursive: true });
  const ledger = openSimulatedLedger(coreDatabasePath(opts.dataDir, core), contract);
  const handler = contract.createHandler(ledger, opts.env ?? process.env);
  let fault: FaultState = { mode: 'ok', delayMs: DEFAULT_SLOW_DELAY_MS, status: 503 };
  let closing = false;
  const pendingDelays = new Set<NodeJS.Timeout>();

  function admin(method: string, path: string, body: string): SimulatorAnswer {
    if (path !== '/_admin/fault') return jsonAnswer(404, { error: 'unknown admin endpoint' });
    if (method === 'GET') return jsonAnswer(200, { core, ...fault });
    if (method !== 'POST') return jsonAnswer(405, { error: 'use GET or POST' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return jsonAnswer(400, { error: 'body is not JSON' });
    }
    const result = parseFaultRequest(parsed);
    if (!result.ok) return jsonAnswer(400, { error: result.detail });
    fault = result.value;
    return jsonAnswer(200, { core, ...fault });
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

/** Starts the three simulators; stops any already started when one fails. */
export async function startCoreSimulators(opts: {
  dataDir: string;
  host?: string;
  ports?: Partial<Record<Core, number>>;
  env?: NodeJS.ProcessEnv;
}): Promise<CoreSimulator[]> {
  const started: CoreSimulator[] = [];
  try {
    for (const core of CORES) {
      started.push(
        await startCoreSimulator(core, {
          dataDir: opts.dataDir,
          port: opts.ports?.[core] ?? 0,
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.env !== undefined ? { env: opts.env } : {}),
        }),
      );
    }
    return started;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}

/**
 * Current balances of every seeded loan as the simulators persisted them; a core with no database yet
 * answers its seeds. Opens the files without creating them, so it is safe while simulators run.
 */
export async function readCoreLoans(dataDir: string): Promise<LoanInquiry[]> {
  const loans: LoanInquiry[] = [];
  for (const core of CORES) {
    const contract = CONTRACTS[core];
    const path = coreDatabasePath(dataDir, core);
    const persisted = new Map<string, LedgerLoan>();
    if (existsSync(path)) {
      const db = new Database(path, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        db.defaultSafeIntegers(true);
        const rows = db.prepare<[], LoanRow>('SELECT loan_id, currency, status FROM loans').all();
        const buckets = db.prepare<[string], BucketRow>(
          'SELECT bucket, due_minor FROM loan_buckets WHERE loan_id = ? ORDER BY position',
        );
        for (const row of rows) {
          const parts = buckets.all(row.loan_id).map((b) => ({ name: b.bucket, due: b.due_minor }));
          persisted.set(row.loan_id, {
            loanId: row.loan_id,
            currency: asCurrency(row.currency),
            status: asStatus(row.status),
            buckets: parts,
            totalDue: totalOf(parts),
          });
        }
      } finally {
        db.close();
      }
    }
    for (const seed of contract.seeds) {
      const loan = persisted.get(seed.loanId);
      loans.push({
        loanNumber: seed.loanId,
        core,
        currency: loan?.currency ?? seed.currency,
        amountDue: minorUnits(loan?.totalDue ?? totalOf(seed.buckets)),
        status: loan?.status ?? seed.status,
      });
    }
  }
  return loans;
}

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
