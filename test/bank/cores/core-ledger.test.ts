import fc from 'fast-check';
import { openSimulatedLedger } from '../../../bank/cores/core-ledger';
import {
  type ApplyResult,
  type ReverseResult,
  type SimulatorAnswer,
} from '../../../bank/cores/core-simulator-contract';
import { startCoreSimulator } from '../../../bank/cores/core-simulator-server';
import { mortgageSimulatorContract } from '../../../bank/cores/mortgage/mortgage-simulator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Property: whatever mix of payments, repeats and reversals arrives, the ledger agrees with a plain
// model of exactly-once effect (the fixed amounts make paying the loan off, and so closing it, common), and reversing every applied payment gives back every bucket exactly.

const LOAN = '200000000003';

const asAnswer = (result: ApplyResult | ReverseResult): SimulatorAnswer => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(
    result.kind === 'rejected' ? { kind: 'rejected', reason: result.reason } : { kind: result.kind },
  ),
});

type Op = { kind: 'pay'; ref: number; amount: bigint } | { kind: 'reverse'; ref: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('pay' as const),
    ref: fc.nat(7),
    amount: fc.oneof(fc.bigInt({ min: 1n, max: 200_000n }), fc.constantFrom(125_000n, 250_000n, 500_000n)),
  }),
  fc.record({ kind: fc.constant('reverse' as const), ref: fc.nat(7) }),
);

test('payments, repeats and reversals keep the ledger equal to the exactly-once model', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const ledger = openSimulatedLedger(':memory:', mortgageSimulatorContract);
      try {
        const seed = ledger.findLoan(LOAN);
        if (!seed) throw new Error('seed missing');
        let due = seed.totalDue;
        let closed = false;
        const payments = new Map<number, { amount: bigint; applied: boolean; reversed: boolean }>();
        for (const o of ops) {
          const ref = `ref-${o.ref}`;
          if (o.kind === 'pay') {
            const known = payments.get(o.ref);
            const answer = ledger.applyPayment(
              { externalRef: ref, loanId: LOAN, amount: o.amount, currency: 'PEN' },
              asAnswer,
            );
            if (known) {
              expect(answer.kind).toBe(known.amount === o.amount ? 'replayed' : 'conflict');
              continue;
            }
            const applies = !closed && o.amount <= due;
            payments.set(o.ref, { amount: o.amount, applied: applies, reversed: false });
            expect(answer.kind === 'fresh' && JSON.parse(answer.answer.body)).toEqual(
              applies ? { kind: 'applied' } : { kind: 'rejected', reason: closed ? 'loan_closed' : 'overpayment' },
            );
            if (applies) {
              due -= o.amount;
              closed = due === 0n;
            }
          } else {
            const known = payments.get(o.ref);
            const answer = ledger.reversePayment(
              { externalRef: ref, loanId: LOAN, amount: known?.amount ?? 1n },
              asAnswer,
            );
            const body: unknown = JSON.parse(answer.body);
            if (!known || !known.applied) {
              expect(body).toEqual({ kind: 'rejected', reason: 'payment_not_found' });
              continue;
            }
            expect(body).toEqual({ kind: 'reversed' });
            if (!known.reversed) {
              known.reversed = true;
              due += known.amount;
              closed = false;
            }
          }
          const loan = ledger.findLoan(LOAN);
          expect(loan?.totalDue).toBe(due);
          expect(loan?.status).toBe(closed ? 'CLOSED' : 'ACTIVE');
          for (const bucket of loan?.buckets ?? []) expect(bucket.due >= 0n).toBe(true);
        }
        for (const [ref, p] of payments) {
          if (p.applied) ledger.reversePayment({ externalRef: `ref-${ref}`, loanId: LOAN, amount: p.amount }, asAnswer);
        }
        expect(ledger.findLoan(LOAN)).toEqual(seed);
      } finally {
        ledger.close();
      }
    }),
    { numRuns: 150 },
  );
});

test('a simulator whose port is taken fails to start and says so', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-port-'));
  const first = await startCoreSimulator('cash', { dataDir, env: {} });
  try {
    const port = Number(new URL(first.url).port);
    await expect(startCoreSimulator('cash', { dataDir, port, env: {} })).rejects.toThrow(/EADDRINUSE/);
  } finally {
    await first.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
