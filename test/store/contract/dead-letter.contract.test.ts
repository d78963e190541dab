import type { HubDeadLetter } from '../../../outbox/dead-letter-port';
import { DATABASES, type OpenedTestStore } from './test-databases';

// The DeadLetterStore contract (the in-process transport's dead letters) on SQLite and on the test PostgreSQL.

function letter(id: string, deadAt: string, lane: HubDeadLetter['lane'] = 'cash'): HubDeadLetter {
  return {
    id: `${id}:apply_payment`,
    lane,
    reason: 'poison',
    attempts: 1,
    history: [{ attempt: 1, at: deadAt, outcome: 'dead', reason: 'poison' }],
    deadAt,
    message: { kind: 'command', paymentId: id } as unknown as HubDeadLetter['message'],
  };
}

for (const db of DATABASES) {
  describe(`${db.name} dead-letter store`, () => {
    let t: OpenedTestStore;
    beforeEach(async () => {
      t = await db.open();
    });
    afterEach(async () => {
      await t.close();
    });

    it('lists oldest first per lane, finds by id, replays each letter once, resumes unfinished replays', async () => {
      const store = t.deadLetters;
      await store.add(letter('b', '2026-11-23T10:00:02.000Z'));
      await store.add(letter('a', '2026-11-23T10:00:01.000Z'));
      await store.add(letter('m', '2026-11-23T10:00:00.000Z', 'mortgage'));
      expect((await store.list('cash')).map((l) => l.id)).toEqual(['a:apply_payment', 'b:apply_payment']);
      expect((await store.list()).map((l) => l.id)).toEqual(['m:apply_payment', 'a:apply_payment', 'b:apply_payment']);
      expect(await store.find('m:apply_payment')).toMatchObject({ lane: 'mortgage', attempts: 1 });
      expect(await store.find('nope')).toBeNull();
      expect(await store.requestReplay('mortgage', { id: 'm:apply_payment' })).toBe(1);
      expect(await store.requestReplay('cash', { all: true })).toBe(2);
      expect(await store.requestReplay('cash', { all: true })).toBe(0);
      expect(await store.list('cash')).toEqual([]);
      expect((await store.takeReplays(2)).map((l) => l.id)).toEqual(['m:apply_payment', 'a:apply_payment']);
      expect((await store.takeReplays(10)).map((l) => l.id)).toEqual(['b:apply_payment']);
      await store.settleReplay('cash', 'a:apply_payment');
      await store.settleReplay('mortgage', 'm:apply_payment');
      expect(await store.resumeReplays()).toBe(1); // b was taken and never finished
      expect((await store.takeReplays(10)).map((l) => l.id)).toEqual(['b:apply_payment']);
      // dying again replaces the letter, history and all
      await store.add({ ...letter('b', '2026-11-23T11:00:00.000Z'), attempts: 2 });
      expect(await store.find('b:apply_payment')).toMatchObject({ attempts: 2, deadAt: '2026-11-23T11:00:00.000Z' });
      await expect(store.requestReplay('cash', {})).rejects.toThrow(RangeError);
    });
  });
}
