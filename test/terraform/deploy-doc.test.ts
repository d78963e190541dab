import fs from 'node:fs';
import path from 'node:path';
import { SETTING_NAMES } from '../../config/settings-catalogue';
import { CHANNELS, CORES } from '../../domain/channel';
import { loadTerraform, type TfTree } from './terraform-tree';

// docs/deploy.md is what a platform team follows: it must hold what the issue asks of it, and what it
// names (settings, tfvars, modules, outputs) must be what the code and the Terraform have, so the page
// cannot drift from them.

const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/deploy.md'), 'utf8');

/** The text of a `## ` section, up to the next one. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/deploy.md has no "## ${title}" section`);
  return doc.slice(start + 1).split(/\n## /)[0] ?? '';
}

/** The backticked names in the first cell of each table row of a section. */
function firstCellNames(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''));
}

let tree: TfTree;
beforeAll(async () => {
  tree = await loadTerraform();
}, 60_000);

describe('docs/deploy.md', () => {
  test('says what to set, in which order to apply, how the hub is pointed at each part, how secrets rotate, what it costs', () => {
    for (const title of [
      'Before the first apply',
      'What to set',
      'Order of apply',
      'How the hub is pointed at each part',
      'Rotating secrets',
      'What it costs, roughly',
    ]) {
      expect(section(title).length).toBeGreaterThan(200);
    }
    const parts = section('How the hub is pointed at each part');
    for (const part of ['| Cognito |', '| Amazon MQ |', '| RDS |', '| mainframe |']) expect(parts).toContain(part);
  });

  test('every variable of "What to set" is one both environments take', () => {
    const names = firstCellNames(section('What to set'));
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const env of tree.envs) {
      expect({ env: env.dir, unknown: names.filter((n) => !env.variables.has(n)) }).toEqual({ env: env.dir, unknown: [] });
      // and every variable without a default is explained there
      const required = [...env.variables].filter(([, v]) => !('default' in v)).map(([n]) => n);
      expect({ env: env.dir, unexplained: required.filter((n) => !names.includes(n)) }).toEqual({
        env: env.dir,
        unexplained: [],
      });
    }
  });

  test('the apply order targets modules the environments have, and names outputs they give', () => {
    const order = section('Order of apply');
    const targets = [...order.matchAll(/-target=module\.([a-z_]+)/g)].map((m) => m[1] ?? '');
    expect(targets.length).toBeGreaterThan(3);
    for (const env of tree.envs) {
      expect({ env: env.dir, unknown: targets.filter((t) => !env.modules.has(t)) }).toEqual({ env: env.dir, unknown: [] });
      for (const output of [
        'api_url',
        'api_dns_target',
        'vpn_tunnel_addresses',
        'client_secret_arns',
        'database_address',
        'database_master_user_secret_arn',
      ]) {
        expect({ env: env.dir, output, present: env.outputs.has(output) }).toEqual({ env: env.dir, output, present: true });
      }
    }
  });

  test('every LOANHUB_ setting the page names is one loanhub reads (config/settings-catalogue.ts)', () => {
    const written = [...new Set([...doc.matchAll(/LOANHUB_[A-Z0-9_<>]+/g)].map((m) => m[0]))];
    const names = written.flatMap((n) =>
      n.includes('<CH>')
        ? CHANNELS.map((c) => n.replace('<CH>', c.toUpperCase()))
        : n.includes('<CORE>')
          ? CORES.map((c) => n.replace('<CORE>', c.toUpperCase()))
          : [n],
    );
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !SETTING_NAMES.has(n))).toEqual([]);
  });

  test('the monthly cost is an estimate for dev and prod, with its date and its source', () => {
    const cost = section('What it costs, roughly');
    expect(cost).toMatch(/estimate/i);
    expect(cost).toMatch(/AWS's public on-demand prices/);
    expect(cost).toMatch(/as known on \d{4}-\d{2}-\d{2}/);
    expect(cost).toMatch(/\| item \| dev \| prod \|/);
    const total = cost.split('\n').find((l) => l.startsWith('| **total**')) ?? '';
    expect(total).toMatch(/^\| \*\*total\*\* \| \*\*~\$[\d,]+ a month\*\* \| \*\*~\$[\d,]+(–[\d,]+)? a month\*\* \|$/);
  });
});
