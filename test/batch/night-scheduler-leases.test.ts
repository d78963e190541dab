import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchDeps } from '../../batch/batch-deps';
import { batchSettingsFromEnv } from '../../batch/batch-settings';
import { createNightScheduler, type NightScheduler } from '../../batch/night-scheduler';
import type { SftpConnector } from '../../batch/sftp-agent-port';
import { createSsh2SftpConnector } from '../../batch/ssh2-sftp-agent';
import { CORES } from '../../domain/channel';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../store/store-port';
import { batchDepsFor, seedApplied } from './batch-store-fixture';
import { testSftp, type TestSftp } from './sftp-test-env';

// Two schedule runners, as two hub processes would be: each its own connection to one SQLite store,
// its own data dir and SFTP connections to the real OpenSSH server, ticking after the cutoff, the
// second while the first is uploading (a built file not yet SENT: the moment a runner without a lease
// would send it too). The leases in the store make one runner do each core and date: every file is
// built and uploaded once. A lease left by a runner that died holds the core back until it expires.

const DATE = '2026-11-23';
const CUTOFF = 23 * 60 + 30;
const DEADLINE = 6 * 60;
const PER_CORE = 150;

let sftp: TestSftp;
let work: string;
let stores: PaymentStore[];
let runners: NightScheduler[];
let clock = new Date('2026-11-24T04:35:00Z'); // 23:35 in Lima, after the cutoff of a business day
const uploads: { runner: string; remote: string }[] = [];
let onUpload: (() => void) | null = null;
const touchedBy = new Map<string, Set<string>>();

/** The dataset a remote path belongs to: `.NAME.part` and `NAME.OK` are NAME's. */
const datasetOf = (remote: string): string =>
  path
    .basename(remote)
    .replace(/^\.(.*)\.part$/, '$1')
    .replace(/\.OK$/, '');

/** The real connector, noting every upload and which runner touched which request file on the server. */
function counted(base: SftpConnector, runner: string): SftpConnector {
  const touch = (remote: string): void => {
    if (!remote.includes('/inbound/')) return;
    const set = touchedBy.get(datasetOf(remote)) ?? new Set<string>();
    set.add(runner);
    touchedBy.set(datasetOf(remote), set);
  };
  return Object.freeze({
    describe: base.describe,
    basePath: base.basePath,
    connect: async () => {
      const agent = await base.connect();
      return Object.freeze({
        ...agent,
        upload: async (localPath: string, remote: string) => {
          touch(remote);
          uploads.push({ runner, remote: path.basename(remote) });
          onUpload?.();
          await agent.upload(localPath, remote);
        },
        size: async (remote: string) => {
          touch(remote);
          return agent.size(remote);
        },
        rename: async (from: string, to: string) => {
          touch(to);
          await agent.rename(from, to);
        },
        writeEmpty: async (remote: string) => {
          touch(remote);
          await agent.writeEmpty(remote);
        },
      });
    },
  });
}

beforeAll(async () => {
  sftp = testSftp('leases');
  fs.mkdirSync(path.join(sftp.dir, 'inbound'));
  fs.mkdirSync(path.join(sftp.dir, 'outbound'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-leases-'));
  const dbFile = path.join(work, 'hub.db');
  stores = [
    openSqliteStore({ file: dbFile, synchronous: 'NORMAL' }),
    openSqliteStore({ file: dbFile, synchronous: 'NORMAL' }),
  ];
  const settings = batchSettingsFromEnv(sftp.env).sftp;
  if (!settings) throw new Error('no SFTP settings');
  runners = ['runner-a', 'runner-b'].map((holder, i) => {
    const deps: BatchDeps = batchDepsFor({
      store: stores[i] as PaymentStore,
      connector: counted(createSsh2SftpConnector(settings), holder),
      dataDir: path.join(work, holder),
      now: () => clock,
    });
    return createNightScheduler(deps, { cutoffMinute: CUTOFF, deadlineMinute: DEADLINE, cron: '* * * * *', holder });
  });
  const prefixes = { cash: '1', mortgage: '2', vehicle: '3' } as const;
  for (const core of CORES) {
    await seedApplied(stores[0] as PaymentStore, {
      core,
      businessDate: DATE,
      count: PER_CORE,
      loanPrefix: prefixes[core],
    });
  }
}, 60_000);

afterAll(async () => {
  for (const r of runners ?? []) await r.stop();
  for (const s of stores ?? []) await s.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runner A ticks; runner B ticks as soon as A has started an upload (or when A is done, if it uploads nothing). */
async function bothTick(): Promise<void> {
  const [a, b] = runners as [NightScheduler, NightScheduler];
  let startB: () => void = () => undefined;
  const uploading = new Promise<void>((resolve) => {
    startB = resolve;
  });
  onUpload = startB;
  const first = a.tick().finally(startB);
  await uploading;
  onUpload = null;
  await Promise.all([first, b.tick()]);
}

async function paymentsOf(fileId: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of (stores[1] as PaymentStore).batch.filePayments(fileId, 500)) {
    ids.push(...page.map((p) => p.paymentId));
  }
  return ids;
}

test('a second runner ticking while the first uploads: each core’s file is built once and uploaded once', async () => {
  await bothTick();
  const files = await (stores[0] as PaymentStore).batch.listFiles({ businessDate: DATE });
  expect(files.map((f) => [f.name, f.state, f.recordCount])).toEqual([
    ['LHUB.PAY.CSH.D261123.S01', 'SENT', PER_CORE],
    ['LHUB.PAY.MTG.D261123.S01', 'SENT', PER_CORE],
    ['LHUB.PAY.VEH.D261123.S01', 'SENT', PER_CORE],
  ]);
  expect(uploads.map((u) => u.remote).sort()).toEqual([
    '.LHUB.PAY.CSH.D261123.S01.part',
    '.LHUB.PAY.MTG.D261123.S01.part',
    '.LHUB.PAY.VEH.D261123.S01.part',
  ]);
  expect(fs.readdirSync(path.join(sftp.dir, 'inbound')).sort()).toEqual(
    files.flatMap((f) => [f.name, `${f.name}.OK`]).sort(),
  );
  // One runner sent each file: no other runner even looked for it on the server.
  expect([...touchedBy.values()].map((runnersOfFile) => runnersOfFile.size)).toEqual([1, 1, 1]);
  const all = (await Promise.all(files.map((f) => paymentsOf(f.id)))).flat();
  expect(new Set(all).size).toBe(3 * PER_CORE);
  expect(all).toHaveLength(3 * PER_CORE);

  // The next ticks find nothing to do, whoever runs them.
  await bothTick();
  await bothTick();
  expect(uploads).toHaveLength(3);
}, 60_000);

test('a lease left by a runner that died holds its core back until it expires, then one runner sends', async () => {
  const store = stores[1] as PaymentStore;
  const late = await seedApplied(stores[0] as PaymentStore, {
    core: 'cash',
    businessDate: DATE,
    count: 5,
    loanPrefix: '1',
  });
  // A third runner took tonight's cash lease and died without releasing it.
  expect(
    await store.batch.acquireLease(`night:cash:${DATE}`, 'runner-dead', new Date(clock.getTime() + 15 * 60_000), clock),
  ).toBe(true);
  await bothTick();
  expect(uploads).toHaveLength(3);
  expect(await store.batch.getFileByName('LHUB.PAY.CSH.D261123.S02')).toBeNull();
  expect((await store.batch.waitingPayments('cash', DATE)).count).toBe(5);

  clock = new Date(clock.getTime() + 16 * 60_000);
  await bothTick();
  expect(uploads.slice(3).map((u) => u.remote)).toEqual(['.LHUB.PAY.CSH.D261123.S02.part']);
  expect(touchedBy.get('LHUB.PAY.CSH.D261123.S02')?.size).toBe(1);
  const s02 = await store.batch.getFileByName('LHUB.PAY.CSH.D261123.S02');
  expect(s02).toMatchObject({ state: 'SENT', recordCount: 5 });
  expect((await paymentsOf(s02?.id ?? 0)).sort()).toEqual([...late].sort());
}, 60_000);
