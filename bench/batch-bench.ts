import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import { seedAppliedPayments } from '../store/sqlite/sqlite-bench-seed';

// `npm run bench -- batch`: the night's file for 100,000 and 1,000,000 payments, built from the store
// through the copybook encoder and uploaded (temp name, size, SHA-256 read back, rename, trigger) to the
// real OpenSSH server the test command uses, in a child process whose peak RSS (VmHWM) is read at the
// end; next to OpenSSH's own `sftp` client putting a file of the same size to the same server in the
// same run. Needs the LOANHUB_TEST_SFTP_* variables (scripts/bench.sh starts the test servers).

const SIZES = (process.env.BENCH_BATCH_SIZES ?? '100000,1000000').split(',').map(Number);
const DATE = '2026-11-23';

interface ChildFigures {
  readonly buildMs: number;
  readonly sendMs: number;
  readonly bytes: number;
  readonly peakRssMb: number;
  readonly file: string;
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through scripts/bench.sh (it starts the test servers)`);
  return v;
}

function main(): void {
  const sftpUrl = need('LOANHUB_TEST_SFTP_URL');
  const keyFile = need('LOANHUB_TEST_SFTP_KEY_FILE');
  const fingerprint = need('LOANHUB_TEST_SFTP_HOST_FINGERPRINT');
  const served = need('LOANHUB_TEST_SFTP_DIR');
  const rows: string[] = [];
  for (const n of SIZES) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-batch-bench-'));
    const remote = fs.mkdtempSync(path.join(served, 'bench-'));
    for (const d of ['inbound', 'outbound']) fs.mkdirSync(path.join(remote, d));
    const hubDb = path.join(dataDir, 'hub.db');
    const store = openSqliteStore({ file: hubDb });
    void store.close();
    const seedStart = Date.now();
    seedAppliedPayments({ file: hubDb, count: n, core: 'cash', businessDate: DATE });
    process.stderr.write(`seeded ${n} applied payments in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);

    const child = spawnSync(process.execPath, [path.join(__dirname, 'batch-bench-child.js')], {
      env: {
        ...process.env,
        LOANHUB_DATA_DIR: dataDir,
        LOANHUB_LOG_LEVEL: 'warn',
        LOANHUB_MAINFRAME_SFTP_URL: `${sftpUrl}${remote}`,
        LOANHUB_MAINFRAME_SFTP_KEY_FILE: keyFile,
        LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: fingerprint,
        BENCH_DATE: DATE,
      },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`bench child failed: ${child.stderr}`);
    const figures = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as ChildFigures;

    // OpenSSH's sftp puts a file of the same size (the file the hub built) to the same server.
    const url = new URL(sftpUrl);
    const batchFile = `${remote}/openssh-put.bin`;
    const sftpStart = process.hrtime.bigint();
    execFileSync(
      'sftp',
      [
        '-q',
        '-b',
        '-',
        '-i',
        keyFile,
        '-P',
        url.port,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        `UserKnownHostsFile=/dev/null`,
        `${url.username}@${url.hostname}`,
      ],
      { input: `put ${figures.file} ${batchFile}\n`, stdio: ['pipe', 'ignore', 'pipe'] },
    );
    const sftpMs = Number(process.hrtime.bigint() - sftpStart) / 1e6;
    rows.push(
      `| ${n.toLocaleString('en-US')} | ${(figures.bytes / 1e6).toFixed(1)} MB | ${(figures.buildMs / 1000).toFixed(2)} s | ${(figures.sendMs / 1000).toFixed(2)} s | ${figures.peakRssMb.toFixed(0)} MB | ${(sftpMs / 1000).toFixed(2)} s | ${(figures.sendMs / sftpMs).toFixed(2)} |`,
    );
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(remote, { recursive: true, force: true });
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  process.stdout.write(
    `| payments | file | build (store → encoder → file) | upload verified (temp, size, SHA-256 read back, rename, .OK) | peak RSS of the run | OpenSSH sftp put, same size | upload / sftp |\n| --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\nload average after the run: ${load}\n`,
  );
}

main();
