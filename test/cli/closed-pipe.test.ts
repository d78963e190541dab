import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openSqliteDeadLetters } from '../../store/sqlite/sqlite-dead-letters';

// `loanhub loans sample | head -3`: when the reader closes the pipe, every command ends quietly (no
// EPIPE stack trace, status 0) instead of crashing. The compiled CLI runs as a user runs it; the
// reader's end is closed before the command writes anything, so every write meets EPIPE.

const ROOT = path.join(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/loanhub.js');
const run = promisify(execFile);

let dataDir: string;
beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (npm test does)');
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-pipe-'));
  // a hub.db (no letters yet), so `dlq list` reads the embedded dead letters and writes its header
  const store = openSqliteDeadLetters({ file: path.join(dataDir, 'hub.db') });
  await store.close();
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { LOANHUB_AMQP_URL: _amqp, ...rest } = process.env;
  return { ...rest, LOANHUB_DATA_DIR: dataDir, LOANHUB_LOG_LEVEL: 'error', ...extra };
}

/** Runs the CLI with its stdout reader already gone; resolves with how it ended and what it said on stderr. */
function withClosedReader(
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader closes its end before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a reader that closes the pipe ends every command quietly', () => {
  test.each([
    [['loans', 'sample']],
    [['loans', 'sample', '--json']],
    [['--help']],
    [['dlq', 'list', '--core', 'cash']],
    [['copybook', 'layout', path.join(ROOT, 'test/fixtures/copybooks/loan-payment-record.cpy')]],
  ])('loanhub %j', async (args) => {
    const { code, stderr } = await withClosedReader(args);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  test('a command whose answer is a failure keeps its status when the reader is gone', async () => {
    // `config check` writes its report to stdout and the problems to stderr, then exits 1
    const { code, stderr } = await withClosedReader(['config', 'check'], { LOANHUB_TIME_ZONE: 'Mars/Olympus_Mons' });
    expect(stderr).toContain('LOANHUB_TIME_ZONE');
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(1);
  });

  test('`loanhub loans sample | true` under pipefail: status 0 and nothing on stderr', async () => {
    // `true` exits without reading, long before node has started: the CLI's first write meets EPIPE
    const { stdout, stderr } = await run(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" loans sample | true; echo "status=$?"`],
      { env: env() },
    );
    expect(stderr).toBe('');
    expect(stdout).toBe('status=0\n');
  });
});
