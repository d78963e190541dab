import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE, OPERATOR_ERROR_CATALOGUE, type OperatorErrorCode } from '../../domain/errors';
import type { TransportErrorCode } from '../../outbox/transport-port';

// One catalogue for the hub's codes: every error class of the hub carries a code of ERROR_CATALOGUE
// (problem+json answers) or OPERATOR_ERROR_CATALOGUE, and docs/errors.md lists the operator codes as the
// code has them. The file formats (copybooks/, batch/, the core extracts) and the bank's side (bank/)
// keep their own documented catalogues.

const ROOT = path.join(__dirname, '../..');
const HUB_FOLDERS = [
  'adapters',
  'api',
  'channels',
  'cli',
  'config',
  'domain',
  'logging',
  'metrics',
  'outbox',
  'payments',
  'recon',
  'reports',
  'runtime',
  'store',
  'webhooks',
];

// Compile-time (npm run typecheck): the transport's codes are operator codes.
const transportCodes: readonly OperatorErrorCode[] = [] as TransportErrorCode[];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the operator codes', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Operator codes'));
  const documented = new Map(
    [...section.matchAll(/^\| `([A-Za-z_]+)` \| [^|]+ \| (.+) \|$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''] as const),
  );

  test('docs/errors.md lists every operator code with its meaning, and no other', () => {
    expect(transportCodes).toEqual([]);
    expect(section.length).toBeGreaterThan(0);
    expect([...documented.keys()].sort()).toEqual(Object.keys(OPERATOR_ERROR_CATALOGUE).sort());
    for (const [code, meaning] of Object.entries(OPERATOR_ERROR_CATALOGUE))
      expect([code, documented.get(code)]).toEqual([code, meaning]);
  });

  test('no code is in both catalogues', () => {
    expect(Object.keys(OPERATOR_ERROR_CATALOGUE).filter((c) => c in ERROR_CATALOGUE)).toEqual([]);
  });

  test("every error class's own code in the hub's folders is catalogued", () => {
    const found: { file: string; code: string }[] = [];
    for (const folder of HUB_FOLDERS) {
      for (const file of sources(path.join(ROOT, folder))) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(/^\s+readonly code(?::[^=\n]+)? = '([^']+)';/gm)) {
          found.push({ file: path.relative(ROOT, file), code: m[1] ?? '' });
        }
      }
    }
    // the nine classes the code review counted, and core_unavailable
    expect(found.length).toBeGreaterThanOrEqual(10);
    const known = (code: string): boolean => code in ERROR_CATALOGUE || code in OPERATOR_ERROR_CATALOGUE;
    expect(found.filter((f) => !known(f.code))).toEqual([]);
  });
});
