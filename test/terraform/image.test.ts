import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The hub image without Docker: the Dockerfile's stages done by hand in a clean copy. The build stage
// compiles the TypeScript (with the dev tools this checkout already has), the deps stage's own RUN line
// installs the production dependencies alone (read from the Dockerfile, so the test and the image
// cannot part), and the runtime stage's COPY lines pick what the image holds. `loanhub --help` and
// `loanhub config check` must then run: no runtime code may need a development dependency.
// The deps stage's npm cache is a BuildKit cache mount, so its RUN line here uses this machine's npm
// cache as it is (filled by the checkout's own `npm ci`; --prefer-offline then reads the tarballs from
// it instead of the registry). Still slow: better-sqlite3 is compiled from source (about 2 CPU-minutes).

const ROOT = path.resolve(__dirname, '../..');
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

interface Stage {
  readonly name: string;
  readonly lines: readonly string[];
}

/** A RUN line's shell command: without RUN and its BuildKit options (--mount=…). */
const shellOf = (line: string): string => line.replace(/^RUN\s+(--[a-z]+=\S+\s+)*/, '');

/** Stages of the Dockerfile, with continuation lines joined. */
function stages(): Stage[] {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const out: Array<{ name: string; lines: string[] }> = [];
  for (const line of joined) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) out.push({ name: from[1] ?? '', lines: [] });
    else if (out.length > 0 && line.trim() !== '' && !line.trim().startsWith('#')) out.at(-1)?.lines.push(line.trim());
  }
  return out;
}

function stage(name: string): Stage {
  const s = stages().find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
}

describe('the Dockerfile', () => {
  test('is multi-stage: a build, production dependencies alone, and a runtime without either toolchain', () => {
    expect(stages().map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(stage('build').lines).toContain('RUN npm run build');
    // Both installs are exactly the lock, from npm's cache kept outside the image.
    const install = stage('build').lines.filter((l) => shellOf(l).startsWith('npm ci '));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/^RUN --mount=type=cache,target=\/root\/\.npm npm ci /);
    const deps = stage('deps').lines.filter((l) => shellOf(l).startsWith('npm '));
    expect(deps).toHaveLength(1);
    expect(deps[0]).toMatch(/^RUN --mount=type=cache,target=\/root\/\.npm npm ci --omit=dev /);
    expect(stages().flatMap((s) => s.lines).filter((l) => /npm (install|i) /.test(l))).toEqual([]);
    const runtime = stage('runtime').lines;
    expect(runtime.filter((l) => l.startsWith('RUN')).join('\n')).not.toMatch(/npm|apt-get/);
    expect(runtime).toContain('COPY --from=deps /app/node_modules ./node_modules');
  });

  test('runs as a non-root user with loanhub as its entrypoint', () => {
    const runtime = stage('runtime').lines;
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBe('USER node');
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/bin/loanhub.js"]');
    // The compute module runs the same user and the image's entrypoint with loanhub's commands.
    const compute = fs.readFileSync(path.join(ROOT, 'terraform/modules/compute/main.tf'), 'utf8');
    expect(compute).toContain('user                   = "1000:1000"');
    expect(compute).toContain('command = ["serve", "--port"');
  });
});

describe('the image, built by hand in a clean copy', () => {
  let work: string;
  let app: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-image-'));
    const src = path.join(work, 'src');
    app = path.join(work, 'app');
    fs.mkdirSync(src);
    fs.mkdirSync(app);
    // The build context: the files Docker would send (tracked and new, minus .gitignore), minus .dockerignore's folders.
    const ignored = /^(\.git|\.ci|node_modules|dist|\.loanhub|\.test-servers|coverage|test|terraform|docs|bench\/results)(\/|$)/;
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '' && !ignored.test(f) && fs.existsSync(path.join(ROOT, f)));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(src, f));
    }
  });

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test(
    'with production dependencies only, loanhub --help and loanhub config check run',
    () => {
      const src = path.join(work, 'src');
      // build stage: `npm run build`, with this checkout's dev tools lent for the compile only.
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
      const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
        cwd: src,
        encoding: 'utf8',
      });
      fs.unlinkSync(path.join(src, 'node_modules'));
      expect({ build: build.status, out: build.stdout.slice(0, 2000) }).toEqual({ build: 0, out: '' });

      // deps stage: its manifests, then its own RUN line as written in the Dockerfile.
      for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(src, f), path.join(app, f));
      const run = shellOf(stage('deps').lines.find((l) => shellOf(l).startsWith('npm ')) ?? '');
      expect(run).toMatch(/^npm ci --omit=dev /);
      const deps = spawnSync('sh', ['-c', run], { cwd: app, encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true' } });
      expect({ deps: deps.status, err: deps.status === 0 ? '' : deps.stderr.slice(-3000) }).toEqual({ deps: 0, err: '' });

      // runtime stage: what its COPY lines take from the build stage and the context.
      fs.cpSync(path.join(src, 'dist'), path.join(app, 'dist'), { recursive: true });
      fs.cpSync(path.join(src, 'bin'), path.join(app, 'bin'), { recursive: true });
      fs.cpSync(path.join(src, 'copybooks/mainframe'), path.join(app, 'copybooks/mainframe'), { recursive: true });

      // Not one development dependency was installed; every production one was.
      for (const dev of Object.keys(pkg.devDependencies)) expect({ dev, present: fs.existsSync(path.join(app, 'node_modules', dev)) }).toEqual({ dev, present: false });
      for (const dep of Object.keys(pkg.dependencies)) expect({ dep, present: fs.existsSync(path.join(app, 'node_modules', dep)) }).toEqual({ dep, present: true });
      // The native modules were built: the store's, and ssh2's crypto binding (the mainframe's SFTP speed).
      for (const built of ['better-sqlite3/build/Release/better_sqlite3.node', 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node'])
        expect({ built, present: fs.existsSync(path.join(app, 'node_modules', built)) }).toEqual({ built, present: true });

      // The image's environment: nothing of this machine's but PATH, plus the Dockerfile's ENV.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, NODE_ENV: 'production', LOANHUB_HOST: '0.0.0.0', LOANHUB_DATA_DIR: path.join(work, 'data') };
      const help = spawnSync(process.execPath, ['bin/loanhub.js', '--help'], { cwd: app, env, encoding: 'utf8' });
      expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
      for (const command of ['serve', 'work', 'config']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));

      const check = spawnSync(process.execPath, ['bin/loanhub.js', 'config', 'check', '--json'], { cwd: app, env, encoding: 'utf8' });
      expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
      const report = JSON.parse(check.stdout) as { ok: boolean; settings: Array<{ name: string; source: string; value: string | null }> };
      expect(report.ok).toBe(true);
      expect(report.settings.find((s) => s.name === 'LOANHUB_HOST')).toMatchObject({ source: 'env', value: '0.0.0.0' });

      // And a wrong value still fails there, naming it.
      const bad = spawnSync(process.execPath, ['bin/loanhub.js', 'config', 'check'], {
        cwd: app,
        env: { ...env, LOANHUB_TIME_ZONE: 'Nowhere/Atlantis' },
        encoding: 'utf8',
      });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/LOANHUB_TIME_ZONE/);
    },
    900_000,
  );
});
