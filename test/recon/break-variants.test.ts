import path from 'node:path';
import { writeSettlementFile, type CollectedPayment } from '../../bank/channels/settlement-simulator';
import type { CoreExtractRow } from '../../adapters/core-extract-port';
import { settlementMapping } from '../../channels/settlement/settlement-mapping';
import type { Core } from '../../domain/channel';
import type { Payment } from '../../domain/payment';
import { importSettlementFile } from '../../recon/import-settlement';
import { loadCoreExtract } from '../../recon/run-reconciliation';
import type { ReconBreak } from '../../store/recon-store-port';
import { DATABASES } from '../store/contract/test-databases';
import { accept, move, openFixtureOn, type ReconFixture } from './recon-fixture';

// The variants of a break type the seeded day plants only once: a currency (not an amount) that differs
// at the core and in the channel's file; a payment reversed at the hub and at its core but still listed in
// the channel's file; an applied payment in a file the mainframe never answered (no response by the
// deadline). Each is found with its evidence, and the payment that agrees everywhere gives no break.
// (Reversed at the hub but posted by the mainframe cannot be made through the hub: once a payment is in
// a file its reversal is refused. The matching SQL checks it all the same.)

const D = '2026-11-23';
const CASH = '100000000001';
const MORTGAGE = '200000000001';

describe.each(DATABASES)('break variants on $name', (database) => {
  let fx: ReconFixture;

  beforeAll(async () => {
    fx = await openFixtureOn(database, 'recon-variants');
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function breaks(): Promise<ReconBreak[]> {
    const out: ReconBreak[] = [];
    for await (const page of fx.recon.breaks({ businessDate: D }, 100)) out.push(...page);
    return out;
  }

  async function fileFor(core: Core, payments: readonly Payment[]): Promise<number> {
    const file = await fx.store.batch.createFile({
      core,
      businessDate: D,
      createdStamp: '20261123233000',
      at: '2026-11-24T04:30:00Z',
      nameFor: (s) => `LHUB.PAY.${core.slice(0, 3).toUpperCase()}.D261123.S0${s}`,
    });
    if (!file) throw new Error(`no file for ${core}`);
    expect(file.recordCount).toBe(payments.length);
    await fx.store.batch.recordWritten(file.id, 'ab'.repeat(32), 200 * (file.recordCount + 2));
    await fx.store.batch.recordSent(file.id, '2026-11-24T04:31:00Z');
    return file.id;
  }

  test('currency differences, reversed-but-in-the-file and no response are found with their evidence', async () => {
    const pay = (loanNumber: string, amount: bigint): Promise<Payment> =>
      accept(fx.store, { channel: 'atm', loanNumber, amount, businessDate: D });
    const plain = await pay(CASH, 1000n);
    const coreCurrency = await pay(CASH, 1100n);
    const channelCurrency = await pay(CASH, 1200n);
    const reversedInFile = await pay(CASH, 1400n);
    const unanswered = await pay(MORTGAGE, 1500n);
    const all = [plain, coreCurrency, channelCurrency, reversedInFile, unanswered];
    for (const p of all) await move(fx.store, p.id, { type: 'core_applied' }, `CR-${p.id.slice(-6)}`);
    // Reversed before the night: not in a file, the core recorded the reversal, the channel still lists it.
    await move(fx.store, reversedInFile.id, { type: 'reversal_requested' });
    await move(fx.store, reversedInFile.id, { type: 'reversal_applied' });

    // The night: the cash file goes out with three payments, all posted; the mortgage file is sent and
    // never answered. A reversal once a payment is in a file is refused.
    const cashFile = await fileFor('cash', [plain, coreCurrency, channelCurrency]);
    await fileFor('mortgage', [unanswered]);
    await expect(
      fx.store.recordEvent({ paymentId: plain.id, event: { type: 'reversal_requested' }, at: 'x', outbox: () => [] }),
    ).resolves.toMatchObject({ kind: 'refused' });
    await fx.store.batch.recordAccepted(cashFile, 'LHUB.PAY.CAS.D261123.S01.R', '2026-11-24T05:00:00Z');
    const posted = [plain, coreCurrency, channelCurrency];
    await fx.store.batch.recordResults(
      cashFile,
      posted.map((p) => ({ paymentId: p.id, result: 'P', reason: '', postingReference: `MF${p.id.slice(-8)}` })),
    );
    for (const p of [plain, coreCurrency, channelCurrency]) await move(fx.store, p.id, { type: 'mainframe_posted' });
    await fx.store.batch.recordComplete(cashFile, '2026-11-24T05:01:00Z', { posted: 3, rejected: 0 });

    // The cores' extracts: every payment applied, both reversals recorded; coreCurrency in USD at the core.
    const rows: Record<'cash' | 'mortgage', CoreExtractRow[]> = { cash: [], mortgage: [] };
    for (const p of all) {
      const core = p.core as 'cash' | 'mortgage';
      const row = (kind: 'applied' | 'reversed'): CoreExtractRow => ({
        core,
        kind,
        paymentId: p.id,
        coreReference: `CR-${p.id.slice(-6)}`,
        loanNumber: p.loanNumber,
        currency: p === coreCurrency && kind === 'applied' ? 'USD' : p.currency,
        amount: p.amount,
        at: `${D}T16:00:00.000Z`,
        line: rows[core].length + 1,
      });
      rows[core].push(row('applied'));
      if (p === reversedInFile) rows[core].push(row('reversed'));
    }
    for (const core of ['cash', 'mortgage'] as const) {
      await loadCoreExtract(
        fx.recon,
        {
          core,
          businessDate: D,
          fileName: `${core}-${D}.csv`,
          sha256: '0'.repeat(64),
          raw: Buffer.from(JSON.stringify(rows[core].map((r) => r.paymentId))),
          rows: rows[core],
        },
        '2026-11-24T06:00:00Z',
      );
    }

    // The atm's file: every payment (the reversed one too); channelCurrency written in USD.
    const lines: CollectedPayment[] = all.map((p) => ({
      channelReference: p.channelReference,
      loanNumber: p.loanNumber,
      currency: p === channelCurrency ? 'USD' : p.currency,
      amount: p.amount,
    }));
    const out = path.join(fx.dir, 'atm.csv');
    await writeSettlementFile({
      mapping: settlementMapping('atm'),
      businessDate: D,
      payments: (async function* () {
        yield lines;
      })(),
      out,
    });
    const imported = await importSettlementFile({
      store: fx.recon,
      channel: 'atm',
      mapping: settlementMapping('atm'),
      file: out,
      now: () => new Date('2026-11-24T06:30:00Z'),
    });
    expect(imported).toMatchObject({ kind: 'imported', file: { goodLines: 5, badLines: 0 } });

    const run = await fx.recon.run({
      businessDate: D,
      at: '2026-11-24T07:00:00Z',
      expectedChannels: ['atm'],
      expectedCores: ['cash', 'mortgage'],
    });
    const found = await breaks();
    expect(found.map((b) => [b.type, b.paymentId]).sort()).toEqual(
      [
        ['AMOUNT_MISMATCH', coreCurrency.id],
        ['AMOUNT_MISMATCH', channelCurrency.id],
        ['REVERSED_STILL_PRESENT', reversedInFile.id],
        ['APPLIED_NOT_POSTED', unanswered.id],
      ].sort(),
    );
    expect(run).toMatchObject({ status: 'UNBALANCED', openBreaks: 4, newBreaks: 4 });
    const of = (type: string, id: string): ReconBreak => {
      const b = found.find((x) => x.type === type && x.paymentId === id);
      if (!b) throw new Error(`no ${type} for ${id}`);
      return b;
    };

    // The currency differs, the amount does not: the evidence shows both sides.
    expect(of('AMOUNT_MISMATCH', coreCurrency.id).evidence).toMatchObject({
      hub: { currency: 'PEN', amount: '11.00' },
      core: [{ kind: 'APPLIED', currency: 'USD', amount: '11.00' }],
      channel: [{ currency: 'PEN', amount: '11.00' }],
    });
    expect(of('AMOUNT_MISMATCH', channelCurrency.id).evidence).toMatchObject({
      hub: { currency: 'PEN', amount: '12.00' },
      core: [{ kind: 'APPLIED', currency: 'PEN' }],
      channel: [{ currency: 'USD', amount: '12.00', file: 'atm.csv' }],
    });
    // Reversed at the hub and at the core, but the channel's file still lists it.
    const ch = of('REVERSED_STILL_PRESENT', reversedInFile.id);
    expect(ch.evidence).toMatchObject({ hub: { status: 'REVERSED' }, channel: [{ file: 'atm.csv' }] });
    expect(ch.evidence.mainframe).toBeUndefined();
    // In a file the mainframe never answered.
    expect(of('APPLIED_NOT_POSTED', unanswered.id).evidence).toMatchObject({
      hub: { status: 'APPLIED' },
      mainframe: { file: 'LHUB.PAY.MOR.D261123.S01', fileState: 'SENT', result: null },
    });
  });
});
