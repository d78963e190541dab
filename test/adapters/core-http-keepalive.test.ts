import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { coreAdapterConfigFromEnv, createCoreHttpExchange, type CoreHttpRequest } from '../../adapters/core-adapters';
import { CoreUnavailableError } from '../../adapters/core-port';

// The production exchange: node:http over one keep-alive agent per core, against a real HTTP server
// that counts the connections it is given. A call that timed out or lost its connection must not leave
// a broken socket in the pool for the next call.

interface CoreStub {
  readonly url: string;
  connections: number;
  readonly bodies: string[];
  close(): Promise<void>;
}

async function startStub(): Promise<CoreStub> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      switch (req.url) {
        case '/slow':
          setTimeout(() => {
            if (!res.destroyed) res.end('late');
          }, 1_000);
          return;
        case '/stall-body':
          // headers and part of the body, then nothing: the deadline covers reading the body
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
          res.write('0123456789');
          return;
        case '/cut':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
          res.write('0123456789', () => res.socket?.destroy());
          return;
        case '/busy':
          res.writeHead(503).end('busy');
          return;
        default:
          res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'text/plain' });
          res.end(`${req.method} ${req.url} ${body}`);
      }
    });
  });
  const stub = {
    url: '',
    connections: 0,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    stub.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

const get = (path: string): CoreHttpRequest => ({ operation: 'inquiry', method: 'GET', path, headers: {} });

describe('the core exchange over a keep-alive agent', () => {
  let stub: CoreStub;
  beforeEach(async () => {
    stub = await startStub();
  });
  afterEach(async () => {
    await stub.close();
  });

  const exchangeFor = (timeoutMs = 5_000) =>
    createCoreHttpExchange('cash', {
      ...coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_URL: stub.url }),
      timeoutMs,
    });

  test('calls one after another reuse one connection', async () => {
    const exchange = exchangeFor();
    for (let i = 0; i < 20; i += 1) {
      const answer = await exchange(get(`/loans/${i}`));
      expect(answer.body).toBe(`GET /loans/${i} `);
    }
    expect(stub.connections).toBe(1);
  });

  test('a body goes out whole with its length and content type, and the answer comes back as bytes and text', async () => {
    const exchange = exchangeFor();
    const body = JSON.stringify({ loanId: '100000000001', note: 'año ñ €' });
    const answer = await exchange({
      operation: 'payment',
      method: 'POST',
      path: '/pay',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(stub.bodies).toEqual([body]);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    expect(answer.body).toBe(`POST /pay ${body}`);
    expect(answer.raw).toEqual(Buffer.from(`POST /pay ${body}`));
  });

  test('calls at once share a bounded pool and all get their own answer', async () => {
    const exchange = exchangeFor();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => exchange(get(`/c/${i}`))));
    answers.forEach((a, i) => expect(a.body).toBe(`GET /c/${i} `));
    expect(stub.connections).toBeLessThanOrEqual(40);
    const before = stub.connections;
    await Promise.all(Array.from({ length: 10 }, (_, i) => exchange(get(`/d/${i}`))));
    expect(stub.connections).toBe(before); // the idle sockets were reused
  });

  test('no answer within the timeout is retryable, and the next call gets a fresh connection that works', async () => {
    const exchange = exchangeFor(200);
    await exchange(get('/warm'));
    const started = Date.now();
    const err: unknown = await exchange(get('/slow')).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(900);
    expect(err).toBeInstanceOf(CoreUnavailableError);
    expect(err).toMatchObject({ retryable: true, message: 'cash core: inquiry got no answer within 200 ms' });
    const next = await exchange(get('/after'));
    expect(next.body).toBe('GET /after ');
    expect(stub.connections).toBe(2); // the timed-out socket was destroyed, not handed back to the pool
  });

  test('a body that stalls past the timeout is retryable too, and does not poison the pool', async () => {
    const exchange = exchangeFor(200);
    const err: unknown = await exchange(get('/stall-body')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CoreUnavailableError', retryable: true });
    expect((err as Error).message).toContain('got no answer within 200 ms');
    expect((await exchange(get('/after'))).body).toBe('GET /after ');
  });

  test('a connection cut in the middle of the answer is retryable, and the next call works', async () => {
    const exchange = exchangeFor();
    const err: unknown = await exchange(get('/cut')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreUnavailableError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('lost the connection');
    expect((await exchange(get('/after'))).body).toBe('GET /after ');
  });

  test('a 503 is unavailable and retryable, and its connection stays usable', async () => {
    const exchange = exchangeFor();
    await expect(exchange(get('/busy'))).rejects.toMatchObject({
      name: 'CoreUnavailableError',
      retryable: true,
      message: 'cash core: inquiry answered HTTP 503',
    });
    expect((await exchange(get('/after'))).body).toBe('GET /after ');
    expect(stub.connections).toBe(1);
  });

  test('a core nobody listens on is retryable, naming the refused connection', async () => {
    const url = stub.url;
    await stub.close();
    const exchange = createCoreHttpExchange('cash', coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_URL: url }));
    const err: unknown = await exchange(get('/x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreUnavailableError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toMatch(/failed to connect or lost the connection .*ECONNREFUSED/);
    stub = await startStub(); // for afterEach
  });
});
