import type Database from 'better-sqlite3';

// Group commit: writes that arrive in the same turn of the event loop share one transaction, so one
// fsync (synchronous=FULL) makes many of them durable at once. Each write runs in its own savepoint
// (better-sqlite3 nests transactions that way), so one failing write rolls back only itself; every
// caller is answered only after the shared COMMIT has returned.

interface Entry<I, O> {
  readonly input: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

export function groupCommit<I, O>(
  db: Database.Database,
  write: (input: I) => O,
  maxBatch = 256,
): (input: I) => Promise<O> {
  const single = db.transaction(write);
  const queue: Entry<I, O>[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const batch = queue.splice(0, maxBatch);
    if (queue.length > 0) schedule();
    const results: Array<{ ok: true; value: O } | { ok: false; err: unknown }> = [];
    try {
      db.transaction(() => {
        for (const e of batch) {
          try {
            results.push({ ok: true, value: single(e.input) });
          } catch (err) {
            results.push({ ok: false, err });
          }
        }
      })();
    } catch (err) {
      // The shared commit failed: nothing of the batch is durable, so every caller hears it.
      for (const e of batch) e.reject(err);
      return;
    }
    batch.forEach((e, i) => {
      const r = results[i];
      if (!r) e.reject(new Error('group commit lost a result'));
      else if (r.ok) e.resolve(r.value);
      else e.reject(r.err);
    });
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (input: I) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}
