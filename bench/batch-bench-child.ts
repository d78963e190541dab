import fs from 'node:fs';
import { buildNextFile } from '../batch/build-files';
import { sendFile } from '../batch/send-files';
import { loadConfig } from '../config/config';
import { createLogger } from '../logging/logger';
import { createBatchDeps } from '../runtime/batch-runtime';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import path from 'node:path';

// One night's build and send in a process of its own, so its peak RSS is the batch's alone.

async function main(): Promise<void> {
  const config = loadConfig();
  const store = openSqliteStore({ file: path.join(config.dataDir, 'hub.db') });
  const { deps } = createBatchDeps({ env: process.env, config, store, logger: createLogger({ level: 'warn' }) });
  const date = process.env.BENCH_DATE ?? '';
  const t0 = process.hrtime.bigint();
  const file = await buildNextFile(deps, 'cash', date);
  if (!file) throw new Error('nothing to build');
  const t1 = process.hrtime.bigint();
  const outcome = await sendFile(deps, file);
  const t2 = process.hrtime.bigint();
  if (outcome.kind !== 'sent') throw new Error(`send failed: ${outcome.error}`);
  await store.close();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const local = path.join(config.dataDir, 'batch', 'sent', file.name);
  process.stdout.write(
    `${JSON.stringify({
      buildMs: Number(t1 - t0) / 1e6,
      sendMs: Number(t2 - t1) / 1e6,
      bytes: fs.statSync(local).size,
      peakRssMb: hwmKb / 1024,
      file: local,
    })}\n`,
  );
}

void main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
