import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The layer rules of .dependency-cruiser.cjs (docs/architecture.md, "Layers") as `npm run lint` runs
// them: wrong imports planted in a copy of the tree make the check fail, each under the rule that
// forbids it; the real tree passes; and the check covers every folder of the hub's code.

const ROOT = path.join(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const LINT_LAYERS = pkg.scripts['lint:layers'] ?? '';
const HUB: readonly string[] = (require(path.join(ROOT, '.dependency-cruiser.cjs')) as { HUB: readonly string[] }).HUB;
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** The folders `npm run lint:layers` cruises: its arguments after the options. */
function cruisedFolders(): string[] {
  const words = LINT_LAYERS.split(/\s+/).filter(Boolean);
  expect(words[0]).toBe('depcruise');
  const folders: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word.startsWith('--')) {
      i++; // every option of the script takes a value
      continue;
    }
    folders.push(word);
  }
  return folders;
}

/** Runs the script's command in `cwd` (JSON output added), returning its exit code and violations. */
function cruise(cwd: string): { status: number | null; violations: Violation[]; stderr: string } {
  const args = LINT_LAYERS.split(/\s+/).filter(Boolean).slice(1);
  const text = spawnSync(DEPCRUISE, [...args], { cwd, encoding: 'utf8' });
  const json = spawnSync(DEPCRUISE, [...args, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const result = JSON.parse(json.stdout) as { summary: { violations: Violation[] } };
  return { status: text.status, violations: result.summary.violations, stderr: `${text.stdout}${text.stderr}` };
}

/** Top-level folders holding the hub's TypeScript (test/ and bench/ may import anything). */
function hubFoldersOnDisk(): string[] {
  const skip = new Set(['node_modules', 'dist', 'test', 'bench', 'coverage']);
  const hasTs = (dir: string): boolean =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .some((e) => (e.isDirectory() ? hasTs(path.join(dir, e.name)) : e.name.endsWith('.ts')));
  return fs
    .readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !skip.has(e.name))
    .map((e) => e.name)
    .filter((name) => hasTs(path.join(ROOT, name)))
    .sort();
}

describe('import layers (npm run lint)', () => {
  test('npm run lint runs the layer check, over every folder of the hub and only those', () => {
    expect(pkg.scripts.lint).toMatch(/npm run (--silent )?lint:layers/);
    expect(LINT_LAYERS).toContain('--config .dependency-cruiser.cjs');
    expect([...cruisedFolders()].sort()).toEqual([...HUB].sort());
    expect([...HUB].sort()).toEqual(hubFoldersOnDisk());
  });

  describe('a copy of the tree with wrong imports planted', () => {
    let dir = '';
    // Each planted file, the import it makes, and the rule that must name it.
    const planted: ReadonlyArray<{ file: string; source: string; rule: string }> = [
      {
        file: 'domain/planted.ts',
        source: "import type { PaymentStore } from '../store/store-port';\nexport type X = PaymentStore;\n",
        rule: 'layer-domain',
      },
      {
        file: 'api/planted.ts',
        source: "import type { CoreAdapter } from '../adapters/core-port';\nexport type X = CoreAdapter;\n",
        rule: 'layer-api',
      },
      {
        file: 'payments/planted.ts',
        source: "import { openSqliteStore } from '../store/sqlite/sqlite-store';\nexport const x = openSqliteStore;\n",
        rule: 'store-through-ports',
      },
      {
        file: 'payments/planted-outbox.ts',
        source: "import type { Transport } from '../outbox/transport-port';\nexport type X = Transport;\n",
        rule: 'layer-payments',
      },
      {
        file: 'webhooks/planted.ts',
        source: "import Database from 'better-sqlite3';\nexport const x = Database;\n",
        rule: 'db-drivers-only-in-store',
      },
      {
        file: 'store/planted-port.ts',
        source: "import { openSqliteStore } from './sqlite/sqlite-store';\nexport const x = openSqliteStore;\n",
        rule: 'ports-import-only-domain',
      },
      {
        file: 'outbox/planted.ts',
        source: "import { startHub } from '../runtime/hub';\nexport const x = startHub;\n",
        rule: 'only-composition-imports-runtime-and-cli',
      },
      {
        file: 'bank/planted.ts',
        source:
          "import { createCashAdapter } from '../adapters/cash/cash-adapter';\nexport const x = createCashAdapter;\n",
        rule: 'layer-bank',
      },
      {
        file: 'copybooks/planted.ts',
        source: "import type { Payment } from '../domain/payment';\nexport type X = Payment;\n",
        rule: 'layer-copybooks',
      },
      {
        file: 'payments/cycle-a.ts',
        source: "import { b } from './cycle-b';\nexport const a = (): number => b() + 1;\n",
        rule: 'no-circular',
      },
      {
        file: 'payments/cycle-b.ts',
        source: "import { a } from './cycle-a';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n",
        rule: 'no-circular',
      },
    ];

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-layers-'));
      for (const folder of HUB) fs.cpSync(path.join(ROOT, folder), path.join(dir, folder), { recursive: true });
      for (const file of ['tsconfig.json', '.dependency-cruiser.cjs', 'package.json']) {
        fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
      }
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    });
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the untouched copy passes', () => {
      const { status, violations, stderr } = cruise(dir);
      expect(violations).toEqual([]);
      expect(stderr).toContain('no dependency violations found');
      expect(status).toBe(0);
    }, 300_000);

    test('each planted import fails the check under its rule, and nothing else is reported', () => {
      for (const p of planted) fs.writeFileSync(path.join(dir, p.file), p.source);
      const { status, violations, stderr } = cruise(dir);
      expect(status).not.toBe(0);
      for (const p of planted) {
        // A cycle is reported once, from one of its files.
        const from = p.rule === 'no-circular' ? planted.filter((q) => q.rule === p.rule).map((q) => q.file) : [p.file];
        expect(violations.filter((v) => from.includes(v.from)).map((v) => v.rule.name)).toContain(p.rule);
        expect(stderr).toContain(p.file);
      }
      const plantedFiles = new Set(planted.map((p) => p.file));
      expect(violations.filter((v) => !plantedFiles.has(v.from))).toEqual([]);
    }, 300_000);
  });

  test('the real tree passes', () => {
    const { status, violations } = cruise(ROOT);
    expect(violations).toEqual([]);
    expect(status).toBe(0);
  }, 300_000);
});
