import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHANNELS, type Channel } from '../../domain/channel';
import { api, startTestHub, type TestHub } from '../integration/hub-fixture';

// A hostile-input run: 10,000+ requests of garbage, with zero 5xx and zero payments written, each
// refusal a problem+json with a code, WAF blocks logged with their rule ids.

const REQUESTS = 10_400;
const CONCURRENCY = 16;

let t: TestHub;
let policyDir: string;
const tokens = new Map<Channel, string>();

beforeAll(async () => {
  // Rate limits out of the way: this run is about input, not volume.
  policyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-hostile-'));
  for (const channel of CHANNELS) {
    const p = JSON.parse(fs.readFileSync(path.join(__dirname, '../../channels/policies', `${channel}.json`), 'utf8'));
    p.rateLimit = { perClientPerMinute: 10_000_000, perIpPerMinute: 10_000_000 };
    fs.writeFileSync(path.join(policyDir, `${channel}.json`), JSON.stringify(p));
  }
  t = await startTestHub({ LOANHUB_CHANNEL_POLICIES_DIR: policyDir, LOANHUB_LOG_LEVEL: 'info' });
  for (const c of CHANNELS) tokens.set(c, await t.token(c));
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(policyDir, { recursive: true, force: true });
});

// A small seeded PRNG (mulberry32) so a failure can be replayed.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const INJECTIONS = [
  "' OR '1'='1",
  '"; DROP TABLE payments; --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '$where: 1',
  'A\u0000B',
  '\u202eRTL',
  'ＡＰＰ－１２３',
  '１００００００００００１',
  '%00',
  'javascript:alert(1)',
  '1 UNION SELECT * FROM payments',
  '\ud800',
  'null',
  '',
];
const BAD_AMOUNTS: unknown[] = [
  '-1',
  '1e3',
  '0',
  '0.00',
  '1.001',
  '1,00',
  ' 1',
  'NaN',
  'Infinity',
  '0x10',
  '١٢٣',
  '1_000',
  1.5,
  100,
  -0,
  true,
  null,
  [],
  {},
  '9'.repeat(60),
  '00000000000000000000001.5.5',
];

/** Percent-encodes, sending a lone surrogate as the invalid UTF-8 bytes it would be. */
function enc(s: string): string {
  return /[\ud800-\udfff]/.test(s) && !/[\ud800-\udbff][\udc00-\udfff]/.test(s) ? '%ED%A0%80' : encodeURIComponent(s);
}

function hostileRequest(
  rand: () => number,
  i: number,
): { channel: Channel; method: string; url: string; body?: string; headers: Record<string, string> } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const channel = pick(CHANNELS);
  const base = `${t.url}/v1/${channel}`;
  const headers: Record<string, string> = {
    authorization: `Bearer ${tokens.get(channel) ?? ''}`,
    'idempotency-key': randomUUID(),
  };
  const json = (v: unknown): string => JSON.stringify(v);
  const valid = { loanNumber: '100000000001', amount: '10.00', currency: 'PEN', channelReference: 'APP-000001' };
  switch (i % 12) {
    case 0: {
      const bytes = Buffer.alloc(1 + Math.floor(rand() * 400));
      for (let k = 0; k < bytes.length; k += 1) bytes[k] = Math.floor(rand() * 256);
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: bytes.toString('latin1'),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    }
    case 1: {
      const depth = 9 + Math.floor(rand() * 2000);
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: '['.repeat(depth) + ']'.repeat(depth),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    }
    case 2:
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json({ ...valid, channelReference: 'x'.repeat(17_000 + Math.floor(rand() * 50_000)) }),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    case 3:
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json(valid),
        headers: {
          ...headers,
          'content-type': pick([
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/jsonp',
          ]),
        },
      };
    case 4:
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json({ ...valid, [pick(['loanNumber', 'channelReference', 'currency'])]: pick(INJECTIONS) }),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    case 5:
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json({ ...valid, amount: pick(BAD_AMOUNTS) }),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    case 6:
      return { channel, method: 'GET', url: `${base}/loans/${enc(pick(INJECTIONS))}`, headers };
    case 7:
      return { channel, method: 'GET', url: `${base}/payments/${enc(pick(INJECTIONS))}`, headers };
    case 8:
      return {
        channel,
        method: 'GET',
        url: `${base}/payments?channelReference=${enc(pick(INJECTIONS))}&${enc(pick(INJECTIONS))}=1`,
        headers,
      };
    case 9:
      // Odd keys with a body that is refused anyway: some of these keys are legal, none may write.
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json({ ...valid, currency: 'EUR' }),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'idempotency-key': pick(INJECTIONS.filter(Boolean).map((s) => s.replace(/[^\x20-\x7e]/g, '?'))),
        },
      };
    case 10: {
      const keys = Object.fromEntries(Array.from({ length: 65 + Math.floor(rand() * 500) }, (_, k) => [`k${k}`, k]));
      return {
        channel,
        method: 'POST',
        url: `${base}/payments`,
        body: json({ ...valid, ...keys }),
        headers: { ...headers, 'content-type': 'application/json' },
      };
    }
    default:
      return {
        channel,
        method: pick(['PUT', 'DELETE', 'PATCH', 'POST']),
        url: `${base}/${pick(['payments/', 'loans', 'payments/x/reversal', '..%2f..%2fetc', 'admin'])}`,
        body: pick(['', '{}', '[]', 'null']),
        headers: { ...headers, 'content-type': 'application/json' },
      };
  }
}

describe(`a hostile-input run of ${REQUESTS} requests`, () => {
  it('answers every one with a 4xx problem+json with a code, writes no payment, and logs WAF rule ids', async () => {
    const rand = prng(20261123);
    const counts = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next;
        next += 1;
        if (i >= REQUESTS) return;
        const req = hostileRequest(rand, i);
        const r = await api(req.url, {
          method: req.method,
          ...(req.body !== undefined ? { rawBody: req.body } : {}),
          headers: req.headers,
        });
        counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
        const problemOk =
          r.headers.get('content-type')?.startsWith('application/problem+json') && typeof r.json.code === 'string';
        if (r.status < 400 || r.status >= 500 || !problemOk)
          failures.push(`#${i} ${req.method} ${req.url.slice(0, 120)} -> ${r.status} ${r.text.slice(0, 120)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures.slice(0, 10)).toEqual([]);
    expect([...counts.keys()].filter((s) => s >= 500)).toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);

    const db = t.openDb();
    try {
      expect(await db.get('SELECT COUNT(*) AS n FROM payments')).toEqual({ n: 0n });
      expect(await db.get('SELECT COUNT(*) AS n FROM idempotency_keys')).toEqual({ n: 0n });
    } finally {
      await db.close();
    }
    const rules = new Set(
      t.logLines.filter((l) => l.includes('"waf_block"')).map((l) => (JSON.parse(l) as { rule: string }).rule),
    );
    for (const rule of [
      'WAF-100-JSON-SYNTAX',
      'WAF-103-JSON-DEPTH',
      'WAF-104-JSON-KEYS',
      'WAF-110-CONTENT-TYPE',
      'WAF-111-BODY-SIZE',
      'WAF-150-INJECTION',
    ]) {
      expect(rules).toContain(rule);
    }
    process.stdout.write(
      `hostile run: ${JSON.stringify(Object.fromEntries(counts))}; WAF rules seen: ${[...rules].sort().join(', ')}\n`,
    );
  }, 180_000);
});
