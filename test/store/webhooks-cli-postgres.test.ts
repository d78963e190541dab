import { main } from '../../cli/main';
import { openPgStore } from '../../store/postgres/pg-store';
import { dropSchema, freshSchemaName, testPgUrl } from './contract/test-databases';

// `loanhub webhooks list|redeliver|enable|endpoints` on a PostgreSQL deployment (LOANHUB_DB_URL): the
// same delivery table the running instances use, through the same port.

const url = testPgUrl();
const schema = freshSchemaName('whcli');
afterAll(() => dropSchema(url, schema));

async function loanhub(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('LOANHUB_')) delete process.env[k];
  Object.assign(process.env, { LOANHUB_DB_URL: url, LOANHUB_DB_SCHEMA: schema });
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => out.push(String(c)) > 0);
  try {
    const code = await main(['node', 'loanhub', ...args]);
    return { code, out: out.join('') };
  } finally {
    o.mockRestore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    process.exitCode = undefined;
  }
}

test('lists, redelivers and re-enables deliveries kept in PostgreSQL', async () => {
  const store = await openPgStore({ url, schema });
  try {
    const now = new Date('2026-11-23T15:00:00Z');
    await store.deliveries.insert(
      ['p1', 'p2'].map((p) => ({
        eventId: `${p}:ACCEPTED`,
        eventType: 'payment.accepted',
        channel: 'app' as const,
        paymentId: p,
        payload: '{}',
        status: 'pending' as const,
      })),
      now,
    );
    const claimed = await store.deliveries.claimDue(2, 60_000, now);
    await store.deliveries.record(
      [
        { id: claimed[0]?.id ?? 0, kind: 'dead', httpStatus: 500, error: 'HTTP 500' },
        { id: claimed[1]?.id ?? 0, kind: 'gone', channel: 'app' },
      ],
      now,
    );
  } finally {
    await store.close();
  }
  const listed = await loanhub('webhooks', 'list', '--status', 'dead', '--json');
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.out) as { eventId: string }[]).map((d) => d.eventId)).toEqual(['p1:ACCEPTED']);
  const endpoints = JSON.parse((await loanhub('webhooks', 'endpoints', '--json')).out) as {
    channel: string;
    disabledAt: string | null;
  }[];
  expect(endpoints.find((e) => e.channel === 'app')?.disabledAt).toBe('2026-11-23T15:00:00.000Z');
  expect(JSON.parse((await loanhub('webhooks', 'enable', '--channel', 'app', '--json')).out)).toMatchObject({
    wasDisabled: true,
    waiting: 1,
  });
  const redone = await loanhub('webhooks', 'redeliver', '--dead', '--json');
  expect(JSON.parse(redone.out)).toMatchObject({ redelivered: 1 });
  expect((await loanhub('webhooks', 'redeliver', '--dead', '--json')).code).toBe(1);
});
