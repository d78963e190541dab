import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE } from '../../domain/errors';

// docs/errors.md and the code's catalogue must not drift apart.
describe('the error catalogue and docs/errors.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] ?? '', Number(m[2])] as const),
  );

  it('documents every code with its HTTP status', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect([code, documented.get(code)]).toEqual([code, entry.status]);
    }
  });

  it('documents no code the hub does not have', () => {
    expect([...documented.keys()].filter((c) => !(c in ERROR_CATALOGUE))).toEqual([]);
  });
});
