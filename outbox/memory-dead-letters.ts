import {
  assertReplayChoice,
  DeadLetterStoreError,
  type DeadLetterStore,
  type HubDeadLetter,
  type ReplayChoice,
} from './dead-letter-port';
import type { Lane } from './transport-port';

// Dead letters in memory: the in-process transport's default when nothing durable is given (tests,
// benchmarks). The embedded hub passes the SQLite store instead, so its dead letters survive a restart.

type Status = 'dead' | 'replay' | 'replaying';

export function createMemoryDeadLetters(): DeadLetterStore {
  const letters = new Map<string, { letter: HubDeadLetter; status: Status }>();
  const keyOf = (lane: Lane, id: string): string => `${lane}\u0000${id}`;
  const byAge = (a: HubDeadLetter, b: HubDeadLetter): number =>
    a.deadAt.localeCompare(b.deadAt) || a.id.localeCompare(b.id);
  const withStatus = (status: Status): HubDeadLetter[] =>
    [...letters.values()]
      .filter((e) => e.status === status)
      .map((e) => e.letter)
      .sort(byAge);
  let closed = false;
  const open = (): void => {
    if (closed) throw new DeadLetterStoreError('dead_letter_store_closed', 'the dead-letter store is closed');
  };

  return Object.freeze({
    async add(letter: HubDeadLetter) {
      open();
      letters.set(keyOf(letter.lane, letter.id), { letter, status: 'dead' });
    },
    async list(lane?: Lane) {
      open();
      return withStatus('dead').filter((l) => lane === undefined || l.lane === lane);
    },
    async find(id: string) {
      open();
      return withStatus('dead').find((l) => l.id === id) ?? null;
    },
    async requestReplay(lane: Lane, which: ReplayChoice) {
      assertReplayChoice(which);
      open();
      let n = 0;
      for (const e of letters.values()) {
        if (e.status === 'dead' && e.letter.lane === lane && (which.all === true || e.letter.id === which.id)) {
          e.status = 'replay';
          n += 1;
        }
      }
      return n;
    },
    async takeReplays(limit: number) {
      open();
      const due = withStatus('replay').slice(0, limit);
      for (const l of due) {
        const e = letters.get(keyOf(l.lane, l.id));
        if (e) e.status = 'replaying';
      }
      return due;
    },
    async settleReplay(lane: Lane, id: string) {
      open();
      const key = keyOf(lane, id);
      if (letters.get(key)?.status === 'replaying') letters.delete(key);
    },
    async resumeReplays() {
      open();
      let n = 0;
      for (const e of letters.values()) {
        if (e.status === 'replaying') {
          e.status = 'replay';
          n += 1;
        }
      }
      return n;
    },
    async close() {
      closed = true;
    },
  });
}
