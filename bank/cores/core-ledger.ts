import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Core } from '../../domain/channel';
import { businessDateOf, DEFAULT_BANK_TIME_ZONE } from '../../domain/business-date';
import type { Currency } from '../../domain/money';
import { applyExtractFaults } from './core-faults';
import type {
  ApplyInput,
  ApplyResult,
  BucketAmount,
  CoreSimulatorContract,
  ExtractFault,
  LedgerAnswer,
  LedgerMovement,
  LedgerLoan,
  PaymentRejection,
  ReverseInput,
  ReverseResult,
  SimulatedLedger,
  SimulatedLoanStatus,
  SimulatorAnswer,
} from './core-simulator-contract';

// The ledger every core simulator keeps: one SQLite file per core (`${dataDir}/cores/<core>.db`, WAL) with
// loans (each loan's amount due split into ordered buckets), payments keyed by the hub's external
// reference, and reversals. Only this file opens a simulator's database.

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
interface MovementRow {
  kind: 'payment' | 'reversal';
  external_ref: string;
  core_ref: string;
  loan_id: string;
  currency: string;
  amount_minor: bigint;
  created_at: string;
}
interface ExtractFaultRow {
  external_ref: string;
  action: string;
  amount_minor: bigint | null;
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
CREATE TABLE IF NOT EXISTS extract_faults (
  external_ref TEXT PRIMARY KEY,
  action       TEXT NOT NULL CHECK (action IN ('duplicate', 'drop', 'amount')),
  amount_minor INTEGER
);
`;

/** YYYY-MM-DD naming a real calendar day. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00.000Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
}

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

function asStatus(value: string): SimulatedLoanStatus {
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
export function openSimulatedLedger(
  path: string,
  contract: CoreSimulatorContract,
  timeZone: string = DEFAULT_BANK_TIME_ZONE,
): SimulatedLedger {
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

  // Applied payments and reversals around a date; the exact bank-time date is decided in JS (time zones).
  const selectMovements = db.prepare<[string, string, string, string], MovementRow>(
    `SELECT 'payment' AS kind, p.external_ref, p.core_ref, p.loan_id, l.currency, p.amount_minor, p.created_at, p.seq
       FROM payments p JOIN loans l ON l.loan_id = p.loan_id
      WHERE p.outcome = 'APPLIED' AND p.created_at >= ? AND p.created_at < ?
     UNION ALL
     SELECT 'reversal' AS kind, r.external_ref, r.core_ref, p.loan_id, l.currency, p.amount_minor, r.created_at, r.seq
       FROM reversals r JOIN payments p ON p.external_ref = r.external_ref JOIN loans l ON l.loan_id = p.loan_id
      WHERE r.created_at >= ? AND r.created_at < ?
     ORDER BY created_at, kind, seq`,
  );
  const upsertFault = db.prepare<[string, string, bigint | null]>(
    `INSERT INTO extract_faults (external_ref, action, amount_minor) VALUES (?, ?, ?)
     ON CONFLICT (external_ref) DO UPDATE SET action = excluded.action, amount_minor = excluded.amount_minor`,
  );
  const selectFaults = db.prepare<[], ExtractFaultRow>(
    'SELECT external_ref, action, amount_minor FROM extract_faults ORDER BY external_ref',
  );
  const deleteFaults = db.prepare('DELETE FROM extract_faults');

  function faultOf(row: ExtractFaultRow): ExtractFault {
    if (row.action === 'amount' && row.amount_minor !== null) {
      return { action: 'amount', paymentId: row.external_ref, amount: row.amount_minor };
    }
    if (row.action === 'duplicate' || row.action === 'drop') return { action: row.action, paymentId: row.external_ref };
    throw new Error(`simulator ledger holds an unknown extract fault ${JSON.stringify(row.action)}`);
  }

  function extractMovements(businessDate: string): LedgerMovement[] {
    if (!isCalendarDate(businessDate)) {
      throw new RangeError(`business date must be YYYY-MM-DD, not ${JSON.stringify(businessDate)}`);
    }
    const day = Date.parse(`${businessDate}T00:00:00.000Z`);
    // Any zone's calendar day lies within a day either side of the UTC one.
    const from = new Date(day - 86_400_000).toISOString();
    const to = new Date(day + 2 * 86_400_000).toISOString();
    const movements = selectMovements
      .all(from, to, from, to)
      .filter((row) => businessDateOf(new Date(row.created_at), timeZone) === businessDate)
      .map((row): LedgerMovement => ({
        kind: row.kind,
        externalRef: row.external_ref,
        coreReference: row.core_ref,
        loanId: row.loan_id,
        currency: asCurrency(row.currency),
        amount: row.amount_minor,
        at: row.created_at,
      }));
    return applyExtractFaults(movements, selectFaults.all().map(faultOf));
  }

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
    extractMovements,
    setExtractFault: (fault) => {
      upsertFault.run(fault.paymentId, fault.action, fault.action === 'amount' ? fault.amount : null);
    },
    listExtractFaults: () => selectFaults.all().map(faultOf),
    clearExtractFaults: () => {
      deleteFaults.run();
    },
    close: () => db.close(),
  };
}

export function totalDueOf(buckets: readonly { readonly due: bigint }[]): bigint {
  return totalOf(buckets);
}

/**
 * The loans a ledger file holds now, opened read-only without creating it (safe while the simulator
 * runs); an empty map when the file does not exist yet.
 */
export function readLedgerLoans(path: string): Map<string, LedgerLoan> {
  const persisted = new Map<string, LedgerLoan>();
  if (!existsSync(path)) return persisted;
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
  return persisted;
}
