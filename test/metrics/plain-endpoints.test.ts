import { Registry } from 'prom-client';
import { serveBatchEndpoints, type BatchEndpoints } from '../../runtime/batch-endpoints';

// The batch scheduler's own endpoints answer errors as RFC 9457 problem+json from the one catalogue,
// like the API: a failing metrics collector, an unknown path and a write method each get their code.
describe('the batch scheduler endpoints', () => {
  let endpoints: BatchEndpoints | undefined;
  afterEach(async () => {
    await endpoints?.close();
    endpoints = undefined;
  });

  async function start(registry: Registry): Promise<string> {
    endpoints = await serveBatchEndpoints({
      port: 0,
      host: '127.0.0.1',
      registry,
      storeReady: () => Promise.resolve(true),
      scheduling: () => true,
    });
    return endpoints.url;
  }

  it('answers a failing metrics collector with 500 metrics_failed instead of hanging', async () => {
    const registry = new Registry();
    jest.spyOn(registry, 'metrics').mockRejectedValue(new Error('collector broke'));
    const res = await fetch(`${await start(registry)}/metrics`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({
      type: 'urn:loanhub:problem:metrics_failed',
      title: 'The metrics could not be collected',
      status: 500,
      code: 'metrics_failed',
      detail: 'metrics could not be collected',
    });
  });

  it('answers an unknown path with 404 not_found and a write with 405 method_not_allowed', async () => {
    const url = await start(new Registry());
    const missing = await fetch(`${url}/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found', status: 404 });
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ code: 'method_not_allowed', status: 405 });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
  });
});
