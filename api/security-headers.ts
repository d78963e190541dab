import helmet from 'helmet';

// helmet's headers, worked out once at start and set on every response. helmet's defaults hold no
// per-request value (no CSP nonce), so running its eleven middleware per request only redoes the same
// strings; the header set stays exactly helmet's, taken from helmet itself.

/** helmet's headers as name/value pairs, to set on every response. */
export function securityHeaderList(): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string): void {
      headers.push([name, value]);
    },
    removeHeader(): void {
      // helmet removes X-Powered-By; the app disables it at the source.
    },
  };
  let done = false;
  (helmet() as unknown as (req: unknown, res: unknown, next: (err?: unknown) => void) => void)({}, recorder, (err) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    done = true;
  });
  if (!done || headers.length === 0) throw new Error('helmet did not give its headers synchronously');
  return headers;
}
