import { api, eventually, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';

// The night as `npm start` runs it, with nothing but the embedded defaults: the hub's own schedule
// (ticking every second here instead of every minute), its simulated mainframe served over SFTP by the
// ssh2 server, and reconciliation of the date once its responses are applied. The clock is moved from
// noon to after the 23:30 cutoff; everything else happens by itself.

const NOON = Date.parse('2026-11-23T17:00:00Z'); // Monday 12:00 in Lima
const AFTER_CUTOFF = Date.parse('2026-11-24T04:35:00Z'); // 23:35
let base = NOON;
let started = Date.now();
const clock = (): Date => new Date(base + (Date.now() - started));
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ LOANHUB_BATCH_SCHEDULE: 'on', LOANHUB_BATCH_TICK_CRON: '* * * * * *' }, clock);
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

test('payments of the day are POSTED overnight and the day is reconciled, unattended', async () => {
  const token = await hub.token('app');
  const ids: string[] = [];
  for (const loanNumber of ['100000000001', '200000000001', '300000000001']) {
    const res = await api(`${hub.url}/v1/app/payments`, {
      token,
      headers: { 'idempotency-key': `embedded-night-${loanNumber}` },
      body: { loanNumber, amount: '15.00', currency: 'PEN', channelReference: sampleReference('app') },
    });
    expect([res.status, res.json.businessDate]).toEqual([201, '2026-11-23']);
    ids.push(String(res.json.paymentId));
  }
  const status = async (id: string): Promise<string> =>
    String((await api(`${hub.url}/v1/app/payments/${id}`, { token })).json.status);
  for (const id of ids) await eventually(async () => ((await status(id)) === 'APPLIED' ? true : undefined), 15_000, id);
  // Ticks before the cutoff send nothing.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await hub.hub.store?.batch.listFiles({ businessDate: '2026-11-23' })).toEqual([]);

  base = AFTER_CUTOFF;
  started = Date.now();
  for (const id of ids) {
    await eventually(async () => ((await status(id)) === 'POSTED' ? true : undefined), 30_000, `${id} POSTED`);
  }
  const files = (await hub.hub.store?.batch.listFiles({ businessDate: '2026-11-23' })) ?? [];
  expect(files.map((f) => [f.name, f.state])).toEqual([
    ['LHUB.PAY.CSH.D261123.S01', 'COMPLETE'],
    ['LHUB.PAY.MTG.D261123.S01', 'COMPLETE'],
    ['LHUB.PAY.VEH.D261123.S01', 'COMPLETE'],
  ]);
  const run = await eventually(
    async () => (await hub.hub.store?.recon?.latestRun('2026-11-23')) ?? undefined,
    15_000,
    'a reconciliation run of the date',
  );
  // The three simulated cores' extracts were fetched from the simulators this hub started.
  expect(run.sources.cores).toEqual(['cash', 'mortgage', 'vehicle']);
}, 90_000);
