import fs from 'node:fs';
import path from 'node:path';
import { writeSettlementFile } from '../../bank/channels/settlement-simulator';
import { settlementMapping } from '../../channels/settlement/settlement-mapping';
import { importSettlementFile } from '../../recon/import-settlement';
import type { ReconBreak } from '../../store/recon-store-port';
import { DATABASES } from '../store/contract/test-databases';
import { accept, move, openFixtureOn, type ReconFixture } from './recon-fixture';

// Rules at the edges of a day: a line the hub does not know is critical whatever date it carries; a
// known payment's line dated the next day is only informational; a payment being reversed is not
// expected in the channel's file; a refused mainframe file leaves its payments unposted, with the file
// as evidence.

const D = '2026-11-23';
describe.each(DATABASES)('edge rules on $name', (database) => {
  let fx: ReconFixture;

  beforeAll(async () => {
    fx = await openFixtureOn(database, 'recon-rules');
  });
  afterAll(async () => {
    await fx.close();
  });

  async function breaks(): Promise<ReconBreak[]> {
    const out: ReconBreak[] = [];
    for await (const page of fx.recon.breaks({ businessDate: D }, 100)) out.push(...page);
    return out;
  }

  test('edge rules of a day', async () => {
    const ps = [];
    for (let i = 0; i < 4; i++) {
      const p = await accept(fx.store, {
        channel: 'atm',
        loanNumber: '300000000001',
        amount: 5000n + BigInt(i),
        businessDate: D,
      });
      await move(fx.store, p.id, { type: 'core_applied' });
      ps.push(p);
    }
    const [late, reversing, refused, plain] = ps;
    if (!late || !reversing || !refused || !plain) throw new Error('seed');
    await move(fx.store, reversing.id, { type: 'reversal_requested' });
    // A file for the vehicle core with the other three, refused by the mainframe.
    const file = await fx.store.batch.createFile({
      core: 'vehicle',
      businessDate: D,
      createdStamp: '20261123233000',
      at: '2026-11-24T04:30:00Z',
      nameFor: (s) => `LHUB.PAY.VEH.D261123.S0${s}`,
    });
    if (!file) throw new Error('no file');
    await fx.store.batch.recordSent(file.id, '2026-11-24T04:31:00Z');
    await fx.store.batch.recordRefused(file.id, 'LHUB.PAY.VEH.D261123.S01.R', 'TOTALS', '2026-11-24T05:00:00Z');
    const out = path.join(fx.dir, 'atm.csv');
    const written = await writeSettlementFile({
      mapping: settlementMapping('atm'),
      businessDate: D,
      payments: fx.recon.collectedPayments('atm', D, 10),
      out,
      drills: { nextDay: [late.channelReference], extra: 1 },
    });
    // The extra line is dated the next day too: an unknown payment is critical whatever its date.
    const text = (await import('node:fs'))
      .readFileSync(out, 'utf8')
      .replace(`2026-11-23,${written.extraReferences[0]}`, `2026-11-24,${written.extraReferences[0]}`);
    fs.writeFileSync(out, text);
    const imported = await importSettlementFile({
      store: fx.recon,
      channel: 'atm',
      mapping: settlementMapping('atm'),
      file: out,
      now: () => new Date(),
    });
    expect(imported).toMatchObject({ kind: 'imported', file: { businessDate: D, goodLines: 4 } });
    await fx.recon.run({ businessDate: D, at: '2026-11-24T07:00:00Z', expectedChannels: ['atm'], expectedCores: [] });
    const found = (await breaks()).map((b) => [b.type, b.paymentId ?? b.channelReference]).sort();
    expect(found).toEqual(
      [
        ['APPLIED_NOT_POSTED', late.id],
        ['APPLIED_NOT_POSTED', plain.id],
        ['APPLIED_NOT_POSTED', refused.id],
        ['CHANNEL_UNKNOWN_TO_HUB', written.extraReferences[0]],
        ['OTHER_BUSINESS_DATE', late.id],
      ].sort(),
    );
    const unposted = (await breaks()).find((b) => b.type === 'APPLIED_NOT_POSTED' && b.paymentId === refused.id);
    expect(unposted?.evidence.mainframe).toEqual({
      file: 'LHUB.PAY.VEH.D261123.S01',
      fileState: 'REFUSED',
      result: null,
      reason: null,
      postingReference: null,
    });
  });
});
