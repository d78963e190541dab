import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copybookErrorCatalogue } from '../../copybooks/copybook-errors';

// docs/copybook-errors.md and the code's catalogue must list the same codes with the same meanings.

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'copybook-errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map(
  (m) => [m[1] ?? '', (m[2] ?? '').trim()] as const,
);

test('every catalogued code is documented with its meaning, and the page documents nothing else', () => {
  expect(Object.fromEntries(rows)).toEqual({ ...copybookErrorCatalogue });
  expect(rows.map(([code]) => code)).toEqual(Object.keys(copybookErrorCatalogue));
});

test('every code the engine raises is in the catalogue', () => {
  const sources = ['copybooks', 'cli'].flatMap((dir) =>
    readdirSync(join(__dirname, '..', '..', dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && (dir === 'copybooks' || f.startsWith('copybook')))
      .map((f) => readFileSync(join(__dirname, '..', '..', dir, f), 'utf8')),
  );
  const raised = new Set(
    sources.flatMap((s) => [...s.matchAll(/new CopybookError\(\s*'([A-Z_]+)'/g)].map((m) => m[1])),
  );
  expect(raised.size).toBeGreaterThan(20);
  for (const code of raised) expect(Object.keys(copybookErrorCatalogue)).toContain(code);
});
