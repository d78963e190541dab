import {
  CORE_DEFAULT_URLS,
  CoreConfigError,
  coreAdapterConfigFromEnv,
  createCoreHttpExchange,
} from '../../adapters/core-adapters';
import { createCoreAdapter } from '../../adapters/core-adapter-factory';
import { CoreUnavailableError } from '../../adapters/core-port';
import { DEFAULT_SIMULATOR_PORTS } from '../../bank/cores/core-simulator-server';
import { CORES } from '../../domain/channel';

describe('adapter configuration from the environment', () => {
  test('the URL variable wins over the fallback, which wins over the default port', () => {
    expect(
      coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_URL: 'http://core:9000' }, 'http://sim:1').baseUrl,
    ).toBe('http://core:9000');
    expect(coreAdapterConfigFromEnv('mortgage', {}, 'http://sim:1').baseUrl).toBe('http://sim:1');
    expect(coreAdapterConfigFromEnv('vehicle', {}).baseUrl).toBe(CORE_DEFAULT_URLS.vehicle);
  });

  test('with no configuration the adapters find the simulators on their default ports', () => {
    for (const core of CORES) {
      expect(new URL(coreAdapterConfigFromEnv(core, {}).baseUrl).port).toBe(String(DEFAULT_SIMULATOR_PORTS[core]));
    }
  });

  test('each core gets its own kind of credential, overridable by its variables', () => {
    expect(coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_API_KEY: 'k' }).credentials).toEqual({
      kind: 'api_key',
      apiKey: 'k',
    });
    expect(
      coreAdapterConfigFromEnv('mortgage', { LOANHUB_CORE_MORTGAGE_USER: 'u', LOANHUB_CORE_MORTGAGE_PASSWORD: 'p' })
        .credentials,
    ).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(coreAdapterConfigFromEnv('vehicle', { LOANHUB_CORE_VEHICLE_TOKEN: 't' }).credentials).toEqual({
      kind: 'token',
      token: 't',
    });
  });

  test('timeouts default to 5 s and must be whole milliseconds', () => {
    expect(coreAdapterConfigFromEnv('cash', {}).timeoutMs).toBe(5000);
    expect(coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_TIMEOUT_MS: '750' }).timeoutMs).toBe(750);
    for (const bad of ['0', '-5', '1.5', 'soon', '']) {
      expect(() => coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_TIMEOUT_MS: bad })).toThrow(CoreConfigError);
    }
    expect(() => coreAdapterConfigFromEnv('cash', { LOANHUB_CORE_CASH_URL: 'ftp://x' })).toThrow(CoreConfigError);
  });

  test('a credential of the wrong kind for the core is refused at construction', () => {
    const config = coreAdapterConfigFromEnv('vehicle', {});
    expect(() => createCoreAdapter('cash', config)).toThrow(CoreConfigError);
  });
});

describe('the HTTP exchange', () => {
  const config = (fetchImpl: typeof fetch) => ({
    ...coreAdapterConfigFromEnv('cash', {}),
    fetch: fetchImpl,
  });
  const request = { operation: 'inquiry' as const, method: 'GET' as const, path: '/x', headers: {} };

  test.each([500, 502, 503, 504, 408, 429])('HTTP %i is unavailable and retryable', async (status) => {
    const exchange = createCoreHttpExchange(
      'cash',
      config(async () => new Response('busy', { status })),
    );
    await expect(exchange(request)).rejects.toMatchObject({ name: 'CoreUnavailableError', retryable: true });
  });

  test('a connection failure is unavailable and retryable, keeping its cause', async () => {
    const refused = new TypeError('fetch failed');
    const exchange = createCoreHttpExchange(
      'cash',
      config(async () => {
        throw refused;
      }),
    );
    const err: unknown = await exchange(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreUnavailableError);
    expect(err).toMatchObject({ retryable: true, cause: refused });
  });

  test('a 4xx is handed to the contract mapping untouched', async () => {
    const exchange = createCoreHttpExchange(
      'cash',
      config(async () => new Response('{"x":1}', { status: 404, headers: { 'content-type': 'application/json' } })),
    );
    expect(await exchange(request)).toEqual({
      status: 404,
      contentType: 'application/json',
      body: '{"x":1}',
      raw: Buffer.from('{"x":1}'),
    });
  });
});
