import pino, { type DestinationStream, type Logger } from 'pino';
import { maskLoanNumbers } from './loan-number-mask';

// Structured logs (pino). Secrets never reach a log line: Authorization headers, tokens, client
// secrets and webhook secrets are censored wherever they appear in the logged object; loan numbers are
// masked to their last 4 digits in every line (loan-number-mask.ts).

export type { Logger };

export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  'accessToken',
  'access_token',
  'clientSecret',
  'client_secret',
  'secret',
  'password',
  '*.authorization',
  '*.token',
  '*.access_token',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.password',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'loanhub',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: maskLoanNumbers },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
