import http from 'node:http';
import https from 'node:https';
import type { SendOutcome, WebhookSender } from './webhook-sender-port';

// The HTTP leg of a delivery: one POST, no redirects followed (a 3xx is a failure, per Standard
// Webhooks), one deadline for the whole exchange. Keep-alive agents keep a pool of connections per
// receiver, which is what lets a few hundred deliveries be in flight without a handshake each.

export interface HttpSenderOptions {
  /** Deadline for connect + request + response head (default 10 s). */
  readonly timeoutMs?: number;
  /** Sockets per receiver origin (default 128). */
  readonly maxSockets?: number;
}

export function createHttpSender(opts: HttpSenderOptions = {}): WebhookSender {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 128, scheduling: 'fifo' as const };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  const send = (url: URL, headers: Readonly<Record<string, string>>, body: string): Promise<SendOutcome> =>
    new Promise((resolve) => {
      const payload = Buffer.from(body, 'utf8');
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? httpsAgent : httpAgent,
        headers: { ...headers, 'content-length': String(payload.length) },
      });
      let settled = false;
      const settle = (outcome: SendOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        settle({ kind: 'timeout', afterMs: timeoutMs });
        request.destroy();
      }, timeoutMs);
      request.on('response', (res) => {
        const retryAfter = res.headers['retry-after'];
        // The body is not used; reading it to the end returns the socket to the pool.
        res.resume();
        res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, retryAfter: retryAfter ?? null }));
        res.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'network', code: err.code ?? 'ERR_RESPONSE' }));
      });
      request.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'network', code: err.code ?? err.message }));
      request.end(payload);
    });

  return Object.freeze({
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
