import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { writeProblem } from './plain-problem';

// What `loanhub batch schedule --port N` serves for its orchestrator and its metrics agent: /healthz
// (the process and its schedule are alive), /readyz (the store answers; a mainframe outage does not make
// the scheduler unready, it retries and alerts instead), /metrics (Prometheus text). Nothing else.

export interface BatchEndpoints {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveBatchEndpoints(opts: {
  readonly port: number;
  readonly host: string;
  readonly registry: Registry;
  readonly storeReady: () => Promise<boolean>;
  readonly scheduling: () => boolean;
}): Promise<BatchEndpoints> {
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeProblem(res, 'method_not_allowed', 'only GET');
      return;
    }
    if (url === '/healthz') {
      const alive = opts.scheduling();
      json(res, alive ? 200 : 503, { status: alive ? 'ok' : 'stopped' });
      return;
    }
    if (url === '/readyz') {
      void opts.storeReady().then(
        (ok) => json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks: { store: ok } }),
        () => json(res, 503, { status: 'not_ready', checks: { store: false } }),
      );
      return;
    }
    if (url === '/metrics') {
      void opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text),
        () => writeProblem(res, 'metrics_failed', 'metrics could not be collected'),
      );
      return;
    }
    writeProblem(res, 'not_found', 'the batch scheduler serves /healthz, /readyz and /metrics');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
