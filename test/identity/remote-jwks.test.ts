import { jwtVerify, type JWK } from 'jose';
import { createRemoteJwks, type RemoteJwks } from '../../api/auth/remote-jwks';
import { channelClients, newSigningKey, startIdp, type TestIdp } from './oidc-fixture';

// The JWKS cache of the external-IdP path, against the real provider, on a clock the test moves: what
// happens after the cache's max age while the IdP is down, and how often an unknown kid may refetch.

const MAX_AGE = 10 * 60_000;
const INTERVAL = 10_000;

let idp: TestIdp;
let keyA: JWK;
let clock = 1_000_000;
let fetches = 0;
const clients = channelClients();

function cache(): RemoteJwks {
  return createRemoteJwks({
    url: new URL(idp.jwksUrl),
    maxAgeMs: MAX_AGE,
    unknownKidBurst: 3,
    refetchIntervalMs: INTERVAL,
    now: () => clock,
    fetch: (input, init) => {
      fetches += 1;
      return fetch(input, init);
    },
  });
}

async function verifies(jwks: RemoteJwks, token: string): Promise<string> {
  try {
    await jwtVerify(token, jwks.getKey, { issuer: idp.issuer });
    return 'ok';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
}

/** Lets a background refresh finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise((r) => setTimeout(r, 10));
}

beforeAll(async () => {
  keyA = await newSigningKey('key-a');
  idp = await startIdp({ keys: [keyA], clients });
});
afterAll(async () => {
  await idp.stop();
});
beforeEach(() => {
  fetches = 0;
});

async function restartIdp(keys: JWK[]): Promise<void> {
  await idp.stop();
  idp = await startIdp({ ...idp.options, port: idp.port, issuer: idp.issuer, keys });
}

describe('the JWKS cache of an external IdP', () => {
  it('keeps verifying with the keys it holds long past its max age while the IdP is down', async () => {
    const jwks = cache();
    const token = await idp.clientCredentials('app-client');
    expect(await verifies(jwks, token)).toBe('ok');
    await idp.stop();
    clock += 6 * MAX_AGE; // an hour of outage
    expect(await verifies(jwks, token)).toBe('ok');
    await settle();
    expect(jwks.lastError()).toMatch(/fetching .*\/jwks failed/);
    clock += INTERVAL;
    expect(await verifies(jwks, token)).toBe('ok');
    await restartIdp([keyA]);
  });

  it('refreshes a stale set in the background, so a key the IdP added is there before any token uses it', async () => {
    const jwks = cache();
    const signedByA = await idp.clientCredentials('app-client');
    expect(await verifies(jwks, signedByA)).toBe('ok');
    await restartIdp([await newSigningKey('key-b'), keyA]);
    const signedByB = await idp.clientCredentials('app-client');
    clock += MAX_AGE + 1;
    // Served from the stale set at once; the refresh runs behind it.
    expect(await verifies(jwks, signedByA)).toBe('ok');
    await settle();
    expect([fetches, jwks.fetchedAt()]).toEqual([2, clock]);
    expect(await verifies(jwks, signedByB)).toBe('ok');
    expect(fetches).toBe(2);
    await restartIdp([keyA]);
  });

  it('an unknown kid refetches a few times back to back, then once per interval', async () => {
    const jwks = cache();
    expect(await verifies(jwks, await idp.clientCredentials('app-client'))).toBe('ok');
    // Tokens of a key this IdP never published (another tenant with the same issuer name).
    const stranger = await startIdp({ issuer: idp.issuer, keys: [await newSigningKey('key-x')], clients });
    const forged = await stranger.clientCredentials('app-client');
    await stranger.stop();
    fetches = 0;
    const verdicts: string[] = [];
    for (let i = 0; i < 5; i += 1) verdicts.push(await verifies(jwks, forged));
    expect(verdicts.every((v) => v.startsWith('ERR_JWKS_NO_MATCHING_KEY'))).toBe(true);
    expect(fetches).toBe(3);
    expect(verdicts[4]).toMatch(/rate-limited/);
    clock += INTERVAL;
    await verifies(jwks, forged);
    await verifies(jwks, forged);
    expect(fetches).toBe(4);
  });

  it('fails closed when the IdP has never been reachable, and retries at most once a second', async () => {
    await idp.stop();
    const jwks = cache();
    const token = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS1hIn0.eyJpc3MiOiJ4In0.c2ln';
    expect(await verifies(jwks, token)).toMatch(/^ERR_JWKS_UNAVAILABLE: fetching .* failed/);
    expect(await verifies(jwks, token)).toMatch(/^ERR_JWKS_UNAVAILABLE/);
    expect(fetches).toBe(1);
    clock += 1000;
    await verifies(jwks, token);
    expect(fetches).toBe(2);
    await restartIdp([keyA]);
  });
});
