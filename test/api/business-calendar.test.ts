import { api, clockFrom, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';

// The bank's business calendar (config/calendars/pe.json by default) decides a payment's business date:
// a payment taken on a Saturday, a Sunday or a holiday belongs to the next business date, and the
// same-day reversal follows that date.

const cases: { name: string; at: string; businessDate: string }[] = [
  { name: 'a Saturday', at: '2026-11-28T17:00:00Z', businessDate: '2026-11-30' },
  { name: 'a Sunday', at: '2026-11-29T17:00:00Z', businessDate: '2026-11-30' },
  // 8 and 9 December are both holidays in Peru: the next business date is Thursday the 10th.
  { name: 'a holiday (Inmaculada Concepción)', at: '2026-12-08T17:00:00Z', businessDate: '2026-12-10' },
  { name: 'a business day', at: '2026-12-10T17:00:00Z', businessDate: '2026-12-10' },
];

describe.each(cases)('a payment taken on $name', ({ at, businessDate }) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({}, clockFrom(Date.parse(at)));
  });
  afterAll(async () => {
    await hub?.stop();
  });

  test(`carries business date ${businessDate} and can be reversed that day`, async () => {
    const token = await hub.token('app');
    const created = await api(`${hub.url}/v1/app/payments`, {
      token,
      headers: { 'idempotency-key': `cal-${at}` },
      body: { loanNumber: '100000000001', amount: '12.50', currency: 'PEN', channelReference: sampleReference('app') },
    });
    expect([created.status, created.json.businessDate]).toEqual([201, businessDate]);
    const id = String(created.json.paymentId);
    for (let i = 0; i < 200; i++) {
      const view = await api(`${hub.url}/v1/app/payments/${id}`, { token });
      if (view.json.status === 'APPLIED') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const rev = await api(`${hub.url}/v1/app/payments/${id}/reversal`, {
      token,
      headers: { 'idempotency-key': `cal-rev-${at}` },
      body: {},
    });
    expect(rev.status).toBe(202);
  });
});

test('another calendar file is taken from LOANHUB_BUSINESS_CALENDAR_FILE', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-cal-')), 'cal.json');
  fs.writeFileSync(file, JSON.stringify({ country: 'XX', weekend: ['SUN'], holidays: { '2026': [] } }));
  const hub = await startTestHub(
    { LOANHUB_BUSINESS_CALENDAR_FILE: file },
    clockFrom(Date.parse('2026-11-28T17:00:00Z')),
  );
  try {
    const created = await api(`${hub.url}/v1/app/payments`, {
      token: await hub.token('app'),
      headers: { 'idempotency-key': 'cal-file' },
      body: { loanNumber: '100000000001', amount: '1.00', currency: 'PEN', channelReference: sampleReference('app') },
    });
    // Saturday is a business day in this calendar.
    expect(created.json.businessDate).toBe('2026-11-28');
  } finally {
    await hub.stop();
  }
});
