// A value several gauges read at one scrape: fetched once per scrape (callers within `shareMs` share
// it) and bounded by a timeout, so a slow broker or database never hangs /metrics. A read that fails
// or times out gives undefined (the gauges keep their last values) and reports `ok = false`, which the
// caller turns into its `..._up` gauge.

export function boundedCollect<T>(
  read: () => Promise<T>,
  timeoutMs: number,
  onResult: (ok: boolean, err?: unknown) => void,
  shareMs = 250,
): () => Promise<T | undefined> {
  let current: { at: number; value: Promise<T | undefined> } | undefined;
  return () => {
    const at = Date.now();
    if (current && at - current.at < shareMs) return current.value;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    const value = Promise.race([read(), timeout]).then(
      (v) => {
        onResult(true);
        return v;
      },
      (err: unknown) => {
        onResult(false, err);
        return undefined;
      },
    );
    void value.finally(() => clearTimeout(timer));
    current = { at, value };
    return value;
  };
}
