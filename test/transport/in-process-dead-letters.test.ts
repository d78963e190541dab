import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeadLetterStore, HubDeadLetter } from '../../outbox/dead-letter-port';
import { createInProcessTransport, type InProcessTransport } from '../../outbox/in-process-transport';
import { createMemoryDeadLetters } from '../../outbox/memory-dead-letters';
import type { Disposition, Subscription } from '../../outbox/transport-port';
import { openSqliteDeadLetters } from '../../store/sqlite/sqlite-dead-letters';
import { command, result, runTransportContract, until } from './transport-contract';

// The embedded hub's dead letters are durable: the in-process transport keeps them in the hub's SQLite
// file, a restart keeps them in view, and a replay asked for from another process (`loanhub dlq replay`)
// is taken by the running transport.

const dirs: string[] = [];
function dbFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-dlq-'));
  dirs.push(dir);
  return path.join(dir, 'hub.db');
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const MAX_ATTEMPTS = 3;

runTransportContract('in-process with SQLite dead letters', async () => {
  const store = openSqliteDeadLetters({ file: dbFile() });
  const transport = createInProcessTransport({ retryDelaysMs: [5, 10], maxAttempts: MAX_ATTEMPTS, deadLetters: store });
  await transport.start();
  return {
    open: async () => transport,
    maxAttempts: MAX_ATTEMPTS,
    deadLetters: (lane) => transport.deadLetters(lane),
    replayDeadLetters: (lane, which) => transport.replayDeadLetters(lane, which),
    close: async () => {
      await transport.close();
      await store.close();
    },
  };
});

describe('embedded dead letters outlive the process', () => {
  const opened: { transport: InProcessTransport; store: DeadLetterStore; subs: Subscription[] }[] = [];
  async function hub(
    file: string,
    decide: (attempt: number) => Disposition,
    seen: string[] = [],
  ): Promise<InProcessTransport> {
    const store = openSqliteDeadLetters({ file });
    const transport = createInProcessTransport({
      retryDelaysMs: [5],
      maxAttempts: MAX_ATTEMPTS,
      deadLetters: store,
      replayPollMs: 20,
    });
    await transport.start();
    const subs = [
      await transport.consumeCommands('cash', async (m, d) => {
        seen.push(m.messageId);
        return decide(d.attempt);
      }),
    ];
    opened.push({ transport, store, subs });
    return transport;
  }
  async function stop(transport: InProcessTransport): Promise<void> {
    const i = opened.findIndex((o) => o.transport === transport);
    const [o] = opened.splice(i, 1);
    if (!o) return;
    await Promise.all(o.subs.map((s) => s.cancel()));
    await o.transport.close();
    await o.store.close();
  }
  afterEach(async () => {
    for (const o of [...opened]) await stop(o.transport);
  });

  test('a command dead in one run is listed after a restart, replayed from another process, applied, and gone', async () => {
    const file = dbFile();
    const first = await hub(file, () => ({ kind: 'retry', reason: 'cash core: payment answered HTTP 503' }));
    const sent = command('cash', 'restart');
    // the publish resolves (the outbox row would be marked sent) only once the letter is on disk
    await first.publishCommand(sent);
    const cli = openSqliteDeadLetters({ file, mustExist: true });
    expect((await cli.list('cash')).map((l) => l.id)).toEqual([sent.messageId]);
    await stop(first);

    const seen: string[] = [];
    const second = await hub(file, () => ({ kind: 'ack' }), seen);
    const [letter] = await second.deadLetters('cash');
    expect(letter).toMatchObject({
      id: sent.messageId,
      lane: 'cash',
      attempts: MAX_ATTEMPTS,
      message: sent,
    });
    expect(letter?.reason).toBe(`gave up after ${MAX_ATTEMPTS} attempts: cash core: payment answered HTTP 503`);
    expect(letter?.history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'dead']);
    expect(await cli.find(sent.messageId)).toEqual(letter);
    expect(seen).toEqual([]);

    // `loanhub dlq replay` is another process: it only marks the letter; the running transport takes it
    expect(await cli.requestReplay('cash', { id: sent.messageId })).toBe(1);
    expect(await cli.requestReplay('cash', { id: sent.messageId })).toBe(0);
    await until(() => seen.length === 1, 'the running hub took the replay');
    expect(seen).toEqual([sent.messageId]);
    await until(async () => (await cli.list()).length === 0 && (await cli.takeReplays(10)).length === 0, 'gone');
    await cli.close();
  });

  test('a replay unfinished when the hub stopped is taken again at the next start', async () => {
    const file = dbFile();
    const first = await hub(file, () => ({ kind: 'dead', reason: 'adapter misconfigured' }));
    const sent = command('cash', 'unfinished');
    await first.publishCommand(sent);
    await stop(first);

    // a hub whose consumer never finishes the replayed message, stopped while it holds it
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const hanging = await hub(file, () => ({ kind: 'ack' }));
    const o = opened.find((x) => x.transport === hanging);
    await Promise.all(o?.subs.splice(0).map((s) => s.cancel()) ?? []);
    let taken = false;
    o?.subs.push(
      await hanging.consumeCommands('cash', async () => {
        taken = true;
        await held;
        return { kind: 'ack' };
      }),
    );
    expect(await hanging.replayDeadLetters('cash', { id: sent.messageId })).toBe(1);
    await until(() => taken, 'the replay was taken');
    await hanging.close(); // the hub stops with the replay in hand
    release();
    await stop(hanging);

    const seen: string[] = [];
    await hub(file, () => ({ kind: 'ack' }), seen);
    await until(() => seen.length === 1, 'the next start replays it again');
    expect(seen).toEqual([sent.messageId]);
  });

  test('a replayed command that dies again is a dead letter once more, its earlier attempts in its history', async () => {
    const file = dbFile();
    const t = await hub(file, () => ({ kind: 'dead', reason: 'still misconfigured' }));
    const sent = command('cash', 'twice');
    await t.publishCommand(sent);
    expect(await t.replayDeadLetters('cash', { all: true })).toBe(1);
    await until(async () => (await t.deadLetters('cash')).length === 1, 'dead again');
    const [letter] = await t.deadLetters('cash');
    expect(letter?.history.map((h) => h.outcome)).toEqual(['dead', 'replayed', 'dead']);
  });

  test('a result the hub cannot record is kept the same way, in the results lane', async () => {
    const store = openSqliteDeadLetters({ file: dbFile() });
    const t = createInProcessTransport({ retryDelaysMs: [5], maxAttempts: 2, deadLetters: store });
    await t.start();
    const sub = await t.consumeResults(async () => {
      throw new Error('database is locked');
    });
    const sent = result('vehicle', 'unrecordable');
    await t.publishResult(sent);
    expect(await store.list('results')).toEqual([
      expect.objectContaining({ id: sent.messageId, lane: 'results', message: sent, attempts: 2 }),
    ]);
    await sub.cancel();
    await t.close();
    await store.close();
  });

  test('a dead letter that cannot be stored stays with the publisher: its outbox row is not let go', async () => {
    const failing: DeadLetterStore = {
      ...createMemoryDeadLetters(),
      add: async () => {
        throw new Error('disk I/O error');
      },
    };
    const t = createInProcessTransport({ maxAttempts: 1, deadLetters: failing });
    await t.start();
    const sub = await t.consumeCommands('mortgage', async () => ({ kind: 'dead', reason: 'poison' }));
    await expect(t.publishCommand(command('mortgage', 'unstorable'))).rejects.toMatchObject({
      code: 'transport_not_ready',
      message: expect.stringContaining('disk I/O error'),
    });
    await sub.cancel();
    await t.close();
  });

  test('the CLI does not make a database where there is none', () => {
    expect(() =>
      openSqliteDeadLetters({ file: path.join(os.tmpdir(), 'no-such-dir-x', 'hub.db'), mustExist: true }),
    ).toThrow(expect.objectContaining({ code: 'dead_letter_store_missing' }));
  });
});

describe.each([
  ['memory', () => createMemoryDeadLetters()],
  ['sqlite', () => openSqliteDeadLetters({ file: dbFile() })],
])('%s dead-letter store', (_name, make) => {
  let store: DeadLetterStore;
  beforeEach(() => {
    store = make();
  });
  afterEach(() => store.close());

  const letter = (id: string, deadAt: string, lane: HubDeadLetter['lane'] = 'cash'): HubDeadLetter => {
    const message = command(lane === 'results' ? 'cash' : lane, id);
    return {
      id: `${id}:apply_payment`,
      lane,
      reason: 'poison',
      attempts: 1,
      history: [{ attempt: 1, at: deadAt, outcome: 'dead', reason: 'poison' }],
      deadAt,
      message,
    };
  };

  test('lists oldest first per lane, finds by id, replays each letter once', async () => {
    await store.add(letter('b', '2026-11-23T10:00:02.000Z'));
    await store.add(letter('a', '2026-11-23T10:00:01.000Z'));
    await store.add(letter('m', '2026-11-23T10:00:00.000Z', 'mortgage'));
    expect((await store.list('cash')).map((l) => l.id)).toEqual(['a:apply_payment', 'b:apply_payment']);
    expect((await store.list()).map((l) => l.id)).toEqual(['m:apply_payment', 'a:apply_payment', 'b:apply_payment']);
    expect(await store.find('m:apply_payment')).toMatchObject({ lane: 'mortgage', attempts: 1 });
    expect(await store.find('nope')).toBeNull();
    expect(await store.requestReplay('cash', { all: true })).toBe(2);
    expect(await store.requestReplay('cash', { all: true })).toBe(0);
    expect(await store.list('cash')).toEqual([]);
    expect((await store.takeReplays(10)).map((l) => l.id)).toEqual(['a:apply_payment', 'b:apply_payment']);
    expect(await store.takeReplays(10)).toEqual([]);
    await store.settleReplay('cash', 'a:apply_payment');
    expect(await store.resumeReplays()).toBe(1); // b was taken and never finished
    expect((await store.takeReplays(10)).map((l) => l.id)).toEqual(['b:apply_payment']);
    await expect(store.requestReplay('cash', {})).rejects.toThrow(RangeError);
  });
});
