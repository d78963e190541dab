import { isIP } from 'node:net';

// Where a channel's webhooks may go. A webhook carries a payment (loan number, amount, status) and its
// signature proves who sent it, not who can read it: outside the machine itself it must travel over TLS.
// Plain http:// is accepted for loopback only (a receiver on the same host, as in the docs' example),
// or anywhere when a development setup says so with LOANHUB_WEBHOOKS_ALLOW_HTTP=dev.

export const ALLOW_HTTP_VARIABLE = 'LOANHUB_WEBHOOKS_ALLOW_HTTP';

/** Reads the development-only override; any value but `dev` (or none) is a problem, so a typo cannot pass. */
export function allowHttpCallbacks(env: NodeJS.ProcessEnv): { allow: boolean; problem?: string } {
  const raw = env[ALLOW_HTTP_VARIABLE];
  if (raw === undefined || raw === '') return { allow: false };
  if (raw === 'dev') return { allow: true };
  return {
    allow: false,
    problem: `${ALLOW_HTTP_VARIABLE} is ${JSON.stringify(raw.slice(0, 20))}; the only value is "dev" (development only: plain http:// callback URLs off loopback)`,
  };
}

/** Why this callback URL may not be used, or null when it may. */
export function callbackUrlRefusal(text: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.username !== '' || url.password !== '')
    return 'carries credentials; receivers authenticate LoanHub by the webhook signature';
  if (url.hash !== '') return 'has a #fragment, which is never sent';
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return `must be https:// (got ${url.protocol})`;
  if (isLoopback(url.hostname) || allowHttp) return null;
  return `must be https:// outside loopback (${url.hostname}); ${ALLOW_HTTP_VARIABLE}=dev allows http:// in development`;
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}
