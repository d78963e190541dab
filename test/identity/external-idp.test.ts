import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { CHANNELS } from '../../domain/channel';
import { api, assertNoSecretsLogged, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';
import {
  API_RESOURCE,
  CHANNEL_SCOPES,
  channelClients,
  newSigningKey,
  OTHER_RESOURCE,
  startIdp,
  type IdpClient,
  type TestIdp,
} from './oidc-fixture';

// The hub behind an external identity provider (LOANHUB_JWKS_URL + LOANHUB_ISSUER), tested against a
// real one: oidc-provider in its own process, one client-credentials client per channel, RFC 9068 JWT
// access tokens for the API's resource indicator. The IdP is restarted with other keys to rotate them
// and stopped to be "down", as a real IdP would be.

const LOAN = '100000000001';

async function inquiry(t: TestHub, token: string, channel = 'app'): Promise<[number, unknown]> {
  const r = await api(`${t.url}/v1/${channel}/loans/${LOAN}`, { token });
  return [r.status, r.json.code];
}

/** The logged reasons of the 401s so far (the client only ever hears invalid_token). */
function refusals(t: TestHub): string[] {
  return t.logLines
    .filter((l) => l.includes('request refused: invalid_token'))
    .map((l) => String((JSON.parse(l) as { reason?: unknown }).reason));
}

describe('an external IdP with audience-bound JWT access tokens (LOANHUB_AUDIENCE)', () => {
  let idp: TestIdp;
  let t: TestHub;
  let clients: IdpClient[];
  let keyA: JWK;
  const other: TestIdp[] = [];

  beforeAll(async () => {
    keyA = await newSigningKey('key-a');
    clients = channelClients();
    idp = await startIdp({ keys: [keyA], clients, withLogin: true });
    t = await startTestHub({
      LOANHUB_JWKS_URL: idp.jwksUrl,
      LOANHUB_ISSUER: idp.issuer,
      LOANHUB_AUDIENCE: API_RESOURCE,
    });
  });
  afterAll(async () => {
    await t.stop();
    await idp.stop();
    for (const o of other) await o.stop();
    assertNoSecretsLogged(t.logLines, [...idp.issued, ...other.flatMap((o) => o.issued)]);
  });

  it("every channel's client gets a JWT access token by client credentials, and the hub takes it for that channel", async () => {
    for (const channel of CHANNELS) {
      const token = await idp.clientCredentials(`${channel}-client`);
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', kid: 'key-a', alg: 'ES256' });
      expect(decodeJwt(token)).toMatchObject({
        iss: idp.issuer,
        aud: API_RESOURCE,
        client_id: `${channel}-client`,
        scope: CHANNEL_SCOPES,
      });
      // agents is not network-restricted in the shipped policies; every channel answers.
      expect([channel, ...(await inquiry(t, token, channel))]).toEqual([channel, 200, undefined]);
    }
  });

  it('a payment taken with an IdP token is the channel client’s own', async () => {
    const token = await idp.clientCredentials('web-client');
    const r = await api(`${t.url}/v1/web/payments`, {
      token,
      body: { loanNumber: LOAN, amount: '12.50', currency: 'PEN', channelReference: sampleReference('web') },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([r.status, r.json.channel, r.json.status]).toEqual([201, 'web', 'ACCEPTED']);
  });

  it('the scopes the IdP granted are the ones that count: loans:read alone may not pay', async () => {
    const token = await idp.clientCredentials('app-client', { scope: 'loans:read' });
    expect(decodeJwt(token).scope).toBe('loans:read');
    expect(await inquiry(t, token)).toEqual([200, undefined]);
    const r = await api(`${t.url}/v1/app/payments`, {
      token,
      body: { loanNumber: LOAN, amount: '1.00', currency: 'PEN', channelReference: sampleReference('app') },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([r.status, r.json.code]).toEqual([403, 'insufficient_scope']);
  });

  it("one channel's client may not act for another channel", async () => {
    const token = await idp.clientCredentials('atm-client');
    expect(await inquiry(t, token, 'app')).toEqual([403, 'forbidden_channel']);
  });

  it('a token the same IdP issued for another resource (another aud) gets 401, though its scopes look right', async () => {
    const token = await idp.clientCredentials('app-client', { resource: OTHER_RESOURCE });
    expect(decodeJwt(token)).toMatchObject({ aud: OTHER_RESOURCE, scope: CHANNEL_SCOPES, client_id: 'app-client' });
    expect(await inquiry(t, token)).toEqual([401, 'invalid_token']);
    expect(refusals(t).some((l) => l.startsWith('ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "aud"'))).toBe(true);
  });

  it('a token from another issuer gets 401, even signed with a key the hub trusts', async () => {
    // A second tenant of the IdP that shares the signing key: only `iss` tells its tokens apart.
    const tenant = await startIdp({ issuer: 'http://127.0.0.1/another-tenant', keys: [keyA], clients });
    other.push(tenant);
    const token = await tenant.clientCredentials('app-client');
    expect(decodeProtectedHeader(token).kid).toBe('key-a');
    expect(await inquiry(t, token)).toEqual([401, 'invalid_token']);
    expect(refusals(t).some((l) => l.startsWith('ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "iss"'))).toBe(true);
    await tenant.stop();
  });

  it('an ID token from a real login at the IdP gets 401', async () => {
    const idToken = await idp.idToken();
    expect(decodeJwt(idToken)).toMatchObject({ iss: idp.issuer, sub: 'alice', aud: 'channel-portal' });
    expect(await inquiry(t, idToken)).toEqual([401, 'invalid_token']);
  });

  describe('key rotation at the IdP, then the IdP down', () => {
    let keyB: JWK;
    let keyC: JWK;
    let signedByAStillUnseen: string;
    let signedByBStillUnseen: string;
    let signedByC: string;

    it('after a rotation the hub picks the new key up from the JWKS; tokens of the old key stay valid', async () => {
      const beforeRotation = await idp.clientCredentials('app-client');
      signedByAStillUnseen = await idp.clientCredentials('app-client');
      expect(await inquiry(t, beforeRotation)).toEqual([200, undefined]);

      // Rotate: the IdP restarts signing with B and still publishes A until A's tokens expire.
      keyB = await newSigningKey('key-b');
      await idp.stop();
      idp = await startIdp({ ...idp.options, port: idp.port, issuer: idp.issuer, keys: [keyB, keyA] });
      const afterRotation = await idp.clientCredentials('app-client');
      signedByBStillUnseen = await idp.clientCredentials('app-client');
      expect(decodeProtectedHeader(afterRotation).kid).toBe('key-b');

      expect(await inquiry(t, afterRotation)).toEqual([200, undefined]);
      // Never seen by the hub before (no cached verdict): verified with A from the refetched JWKS.
      expect(await inquiry(t, signedByAStillUnseen)).toEqual([200, undefined]);
    });

    it('while the IdP is down, tokens of keys the hub holds keep working and an unknown kid fails closed', async () => {
      // The IdP rotates to C, but goes down before the hub ever fetched a JWKS with C in it.
      keyC = await newSigningKey('key-c');
      const rotatedAgain = await startIdp({
        ...idp.options,
        port: undefined,
        issuer: idp.issuer,
        keys: [keyC, keyB, keyA],
      });
      signedByC = await rotatedAgain.clientCredentials('app-client');
      other.push(rotatedAgain);
      await rotatedAgain.stop();
      await idp.stop();

      expect(await inquiry(t, signedByBStillUnseen)).toEqual([200, undefined]);
      expect(await inquiry(t, signedByC)).toEqual([401, 'invalid_token']);
      const reason = refusals(t).find((l) => l.includes('key-c')) ?? '';
      expect(reason).toMatch(/ERR_JWKS_NO_MATCHING_KEY/);
      expect(reason).toMatch(/fetching .*\/jwks failed/);
    });

    it('when the IdP is back with the new key, the token that failed closed is taken', async () => {
      idp = await startIdp({ ...idp.options, port: idp.port, issuer: idp.issuer, keys: [keyC, keyB, keyA] });
      expect(await inquiry(t, signedByC)).toEqual([200, undefined]);
    });
  });
});

describe('an external IdP with Cognito-style access tokens (no LOANHUB_AUDIENCE, LOANHUB_SCOPE_PREFIX)', () => {
  // Cognito access tokens carry `token_use: access`, `client_id` and custom scopes prefixed with the
  // resource server's identifier; the hub then checks no audience.
  const PREFIX = 'loanhub/';
  let idp: TestIdp;
  let t: TestHub;

  beforeAll(async () => {
    const prefixed = CHANNEL_SCOPES.split(' ')
      .map((s) => PREFIX + s)
      .join(' ');
    const cards = 'cards/payments:write cards/loans:read';
    idp = await startIdp({
      keys: [await newSigningKey('pool-key-1')],
      clients: channelClients(() => `${prefixed} ${cards} loans:read`),
      resources: { [API_RESOURCE]: prefixed, [OTHER_RESOURCE]: `${cards} loans:read` },
      tokenUse: true,
      withLogin: true,
    });
    t = await startTestHub({
      LOANHUB_JWKS_URL: idp.jwksUrl,
      LOANHUB_ISSUER: idp.issuer,
      LOANHUB_SCOPE_PREFIX: PREFIX,
    });
  });
  afterAll(async () => {
    await t.stop();
    await idp.stop();
    assertNoSecretsLogged(t.logLines, idp.issued);
  });

  it('a token with token_use access and prefixed scopes is taken, the prefix stripped', async () => {
    const token = await idp.clientCredentials('app-client');
    expect(decodeJwt(token)).toMatchObject({
      token_use: 'access',
      scope: `${PREFIX}loans:read ${PREFIX}payments:write ${PREFIX}payments:reverse`,
    });
    expect(await inquiry(t, token)).toEqual([200, undefined]);
    const r = await api(`${t.url}/v1/app/payments`, {
      token,
      body: { loanNumber: LOAN, amount: '3.00', currency: 'PEN', channelReference: sampleReference('app') },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(r.status).toBe(201);
  });

  it("a token of the same pool for another resource server grants none of the hub's scopes", async () => {
    // Its scopes are cards/… and a bare loans:read: neither carries the hub's prefix.
    const token = await idp.clientCredentials('app-client', { resource: OTHER_RESOURCE });
    expect(decodeJwt(token).scope).toBe('cards/payments:write cards/loans:read loans:read');
    expect(await inquiry(t, token)).toEqual([403, 'insufficient_scope']);
  });

  it('an ID token gets 401 (it says no token_use access)', async () => {
    expect(await inquiry(t, await idp.idToken())).toEqual([401, 'invalid_token']);
    expect(refusals(t).some((l) => l.includes('token_use=access'))).toBe(true);
  });
});
