import fs from 'node:fs';
import path from 'node:path';
import { startTestHub, type TestHub } from '../integration/hub-fixture';

// docs/metrics.md and what the hub serves must not drift apart: a whole embedded hub (API, relay,
// workers, webhooks, batch) is scraped, and every `loanhub_*` family on /metrics is documented with its
// type, and every documented family is there. The process and Node.js metrics prom-client adds
// (`loanhub_process_*`, `loanhub_nodejs_*`) are documented as one row each by their prefix.

jest.setTimeout(60_000);

const doc = fs.readFileSync(path.join(__dirname, '../../docs/metrics.md'), 'utf8');
/** `| \`name\` | type | ...` rows; a name ending in `*` is a prefix. */
const documented = new Map(
  [...doc.matchAll(/^\| `(loanhub_[a-z_]+\*?)` \| (counter|gauge|histogram|summary|any) \|/gm)].map(
    (m) => [m[1] ?? '', m[2] ?? ''] as const,
  ),
);
const prefixes = [...documented.keys()].filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1));

let t: TestHub;
let served: Map<string, string>;
beforeAll(async () => {
  t = await startTestHub();
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  served = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''] as const));
});
afterAll(async () => {
  await t?.stop();
});

it('the page documents families', () => {
  expect(documented.size).toBeGreaterThan(30);
});

it('documents every loanhub_* family the hub serves, with its type', () => {
  const missing: string[] = [];
  for (const [name, type] of served) {
    if (!name.startsWith('loanhub_')) continue;
    if (prefixes.some((p) => name.startsWith(p))) continue;
    if (documented.get(name) !== type) missing.push(`${name} (${type})`);
  }
  expect(missing).toEqual([]);
});

it('documents no family the hub does not serve', () => {
  const extra = [...documented.keys()].filter((name) =>
    name.endsWith('*') ? ![...served.keys()].some((s) => s.startsWith(name.slice(0, -1))) : !served.has(name),
  );
  expect(extra).toEqual([]);
});

it('says what to alert on for every family', () => {
  const rows = [...doc.matchAll(/^\| `(loanhub_[a-z_]+\*?)` \|(.*)\|\s*$/gm)];
  const bare = rows.filter((r) => (r[2] ?? '').split('|').length < 4 || (r[2] ?? '').split('|')[3]?.trim() === '');
  expect(bare.map((r) => r[1])).toEqual([]);
});
