import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchErrorCatalogue } from '../../batch/batch-errors';
import { mainframeCodePage } from '../../batch/mainframe-codec';
import { readRequestFile } from '../../batch/request-file-reader';
import { SAMPLE_REQUEST_NAME } from './golden-records';

// docs/batch-errors.md and the code's catalogue list the same codes with the same meanings, every code
// the bridge raises is catalogued, every catalogued code is raised somewhere, and each documented code
// says what the operator does. The page's sample line is what the reader really prints.

const root = path.join(__dirname, '..', '..');
const doc = fs.readFileSync(path.join(root, 'docs', 'batch-errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => ({
  code: m[1] ?? '',
  meaning: (m[2] ?? '').trim(),
  context: (m[3] ?? '').trim(),
  todo: (m[4] ?? '').trim(),
}));

/** Codes the bridge's sources raise: `new BatchError('CODE'` (also a choice of two) and `problems.push(`CODE: …`)`. */
function raisedCodes(): Map<string, string[]> {
  const raised = new Map<string, string[]>();
  const note = (code: string, file: string): void => {
    raised.set(code, [...(raised.get(code) ?? []), file]);
  };
  for (const file of fs.readdirSync(path.join(root, 'batch')).filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(root, 'batch', file), 'utf8');
    for (const m of text.matchAll(/new BatchError\(([^,]*?'[A-Z_]+'[^,]*),/g)) {
      for (const c of (m[1] ?? '').matchAll(/'([A-Z][A-Z_]+)'/g)) note(c[1] ?? '', file);
    }
    for (const m of text.matchAll(/problems\.push\(\s*`([A-Z][A-Z_]+): /g)) note(m[1] ?? '', file);
  }
  return raised;
}

test('every catalogued code is documented with its meaning, and the page documents nothing else', () => {
  expect(Object.fromEntries(rows.map((r) => [r.code, r.meaning]))).toEqual({ ...batchErrorCatalogue });
  expect(rows.map((r) => r.code)).toEqual(Object.keys(batchErrorCatalogue));
});

test('every documented code names its context and what the operator does', () => {
  for (const r of rows) {
    expect([r.code, r.context]).toEqual([r.code, expect.stringMatching(/^(-|[a-zA-Z]+(, [a-zA-Z]+)*)$/)]);
    expect([r.code, r.todo.length > 40]).toEqual([r.code, true]);
  }
});

test('every code the bridge raises is in the catalogue, and every catalogued code is raised', () => {
  const raised = raisedCodes();
  expect([...raised.keys()].filter((c) => !(c in batchErrorCatalogue))).toEqual([]);
  expect(Object.keys(batchErrorCatalogue).filter((c) => !raised.has(c))).toEqual([]);
});

test("the page's sample line is what the reader prints for a changed amount", async () => {
  const sample = /```\n(.+)\n```/.exec(doc)?.[1];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-doc-'));
  const bytes = fs.readFileSync(path.join(root, 'test', 'fixtures', 'batch', `${SAMPLE_REQUEST_NAME}.cp037`));
  bytes[400 + 125] = 0x2c; // detail 2's amount 0.01 -> 0.02
  const file = path.join(dir, SAMPLE_REQUEST_NAME);
  fs.writeFileSync(file, bytes);
  const report = await readRequestFile({ path: file, name: SAMPLE_REQUEST_NAME, page: mainframeCodePage('cp037') });
  fs.rmSync(dir, { recursive: true });
  expect(report.problems.map((p) => p.describe())).toEqual([sample]);
});
