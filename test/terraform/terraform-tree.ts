import fs from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

// terraform/ parsed without a terraform binary: every .tf file through @cdktf/hcl2json (HashiCorp's HCL
// parser compiled to WebAssembly), merged per directory the way Terraform merges a module's files.
// Expressions come back as "${...}" strings; the tests read literal values directly and look inside
// expressions only where the shape of the code makes that exact (see the helpers below).

export const TERRAFORM_DIR = path.resolve(__dirname, '../../terraform');

/** One block's attributes, as hcl2json gives them (nested blocks are arrays of these). */
export type Body = Record<string, unknown>;

export interface TfDir {
  /** terraform/-relative directory, e.g. modules/edge or envs/prod. */
  readonly dir: string;
  readonly files: readonly string[];
  /** resource type -> name -> body */
  readonly resources: ReadonlyMap<string, ReadonlyMap<string, Body>>;
  /** data source type -> name -> body */
  readonly data: ReadonlyMap<string, ReadonlyMap<string, Body>>;
  readonly variables: ReadonlyMap<string, Body>;
  readonly outputs: ReadonlyMap<string, Body>;
  readonly locals: Readonly<Record<string, unknown>>;
  readonly modules: ReadonlyMap<string, Body>;
  readonly terraform: readonly Body[];
}

export interface TfTree {
  readonly dirs: ReadonlyMap<string, TfDir>;
  readonly modules: readonly TfDir[];
  readonly envs: readonly TfDir[];
  dir(name: string): TfDir;
}

function tfDirectories(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) out.push(d);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(d, e.name));
  };
  walk(root);
  return out.sort();
}

const first = (v: unknown): Body => (Array.isArray(v) ? (v[0] as Body) : (v as Body));

async function loadDir(abs: string): Promise<TfDir> {
  const files = fs
    .readdirSync(abs)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  const resources = new Map<string, Map<string, Body>>();
  const data = new Map<string, Map<string, Body>>();
  const variables = new Map<string, Body>();
  const outputs = new Map<string, Body>();
  const modules = new Map<string, Body>();
  const locals: Record<string, unknown> = {};
  const terraform: Body[] = [];
  for (const f of files) {
    const json = (await parse(f, fs.readFileSync(path.join(abs, f), 'utf8'))) as Record<string, unknown>;
    for (const [kind, into] of [
      ['resource', resources],
      ['data', data],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, unknown>>)) {
        const m = into.get(type) ?? new Map<string, Body>();
        for (const [name, body] of Object.entries(byName)) m.set(name, first(body));
        into.set(type, m);
      }
    }
    for (const [name, body] of Object.entries((json.variable ?? {}) as Record<string, unknown>))
      variables.set(name, first(body));
    for (const [name, body] of Object.entries((json.output ?? {}) as Record<string, unknown>))
      outputs.set(name, first(body));
    for (const [name, body] of Object.entries((json.module ?? {}) as Record<string, unknown>))
      modules.set(name, first(body));
    for (const block of (json.locals ?? []) as Body[]) Object.assign(locals, block);
    for (const block of (json.terraform ?? []) as Body[]) terraform.push(block);
  }
  return {
    dir: path.relative(TERRAFORM_DIR, abs),
    files,
    resources,
    data,
    variables,
    outputs,
    locals,
    modules,
    terraform,
  };
}

let cached: Promise<TfTree> | undefined;

export function loadTerraform(): Promise<TfTree> {
  cached ??= (async () => {
    const dirs = new Map<string, TfDir>();
    for (const abs of tfDirectories(TERRAFORM_DIR)) {
      const d = await loadDir(abs);
      dirs.set(d.dir, d);
    }
    const all = [...dirs.values()];
    return {
      dirs,
      modules: all.filter((d) => d.dir.startsWith('modules/')),
      envs: all.filter((d) => d.dir.startsWith('envs/')),
      dir(name: string): TfDir {
        const d = dirs.get(name);
        if (!d) throw new Error(`terraform/${name} has no .tf files`);
        return d;
      },
    };
  })();
  return cached;
}

/** Every resource of a type across the tree, with where it is. */
export function resourcesOf(tree: TfTree, type: string): Array<{ where: string; name: string; body: Body }> {
  const out: Array<{ where: string; name: string; body: Body }> = [];
  for (const d of tree.dirs.values()) {
    for (const [name, body] of d.resources.get(type) ?? new Map<string, Body>()) {
      out.push({ where: `${d.dir}: ${type}.${name}`, name, body });
    }
  }
  return out;
}

export function resource(d: TfDir, type: string, name: string): Body {
  const body = d.resources.get(type)?.get(name);
  if (!body) throw new Error(`${d.dir} has no ${type}.${name}`);
  return body;
}

/** A nested block (hcl2json gives blocks as arrays). */
export function block(body: Body, name: string): Body {
  const v = body[name];
  if (!Array.isArray(v) || v.length === 0) throw new Error(`no ${name} block`);
  return v[0] as Body;
}

export function blocks(body: Body, name: string): Body[] {
  const v = body[name];
  return Array.isArray(v) ? (v as Body[]) : [];
}

/** The module a module call uses, from its source (../../modules/x -> modules/x). */
export function moduleDirOf(tree: TfTree, caller: TfDir, call: Body): TfDir {
  const source = String(call.source);
  return tree.dir(path.relative(TERRAFORM_DIR, path.resolve(TERRAFORM_DIR, caller.dir, source)));
}

/**
 * Variable names written in an HCL expression or object: literal keys (`LOANHUB_X =`), and template
 * keys whose only interpolation is `${upper(channel)}` or `${upper(core)}`, expanded over the channels
 * and the cores (the compute module builds per-channel and per-core names only that way).
 */
export function variableNamesIn(
  text: string,
  sets: { channels: readonly string[]; cores: readonly string[] },
): { names: string[]; unexpanded: string[] } {
  const names = new Set<string>();
  const unexpanded: string[] = [];
  const re = /(?:\b|")((?:LOANHUB_|PORT\b)(?:[A-Z0-9_]|\$\{[^}]*\})*)/g;
  for (const m of text.matchAll(re)) {
    const token = m[1] ?? '';
    const holes = [...token.matchAll(/\$\{([^}]*)\}/g)].map((h) => h[1] ?? '');
    if (holes.length === 0) {
      names.add(token);
      continue;
    }
    if (holes.length !== 1 || !/^upper\((channel|core)\)$/.test(holes[0] ?? '')) {
      unexpanded.push(token);
      continue;
    }
    const set = holes[0] === 'upper(channel)' ? sets.channels : sets.cores;
    for (const v of set) names.add(token.replace(/\$\{[^}]*\}/, v.toUpperCase()));
  }
  return { names: [...names].sort(), unexpanded };
}

/** Rows of the exceptions table in terraform/README.md: | control | where | reason |. */
export interface ControlException {
  readonly control: string;
  readonly where: string;
  readonly reason: string;
}

export function readExceptions(): ControlException[] {
  const text = fs.readFileSync(path.join(TERRAFORM_DIR, 'README.md'), 'utf8');
  const start = text.indexOf('## Security controls not followed');
  if (start < 0) throw new Error('terraform/README.md has no "## Security controls not followed" section');
  const section = text.slice(start).split(/\n## /)[0] ?? '';
  const rows: ControlException[] = [];
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length !== 3 || !/^`?[A-Za-z0-9]+\.\d+`?$/.test(cells[0] ?? '')) continue;
    rows.push({
      control: (cells[0] ?? '').replace(/`/g, ''),
      where: (cells[1] ?? '').replace(/`/g, ''),
      reason: cells[2] ?? '',
    });
  }
  return rows;
}
