// A real OAuth 2.0 / OpenID Connect provider (panva/oidc-provider, OpenID certified) for the identity
// tests, in its own process as an IdP would be. oidc-provider 9 is ESM-only, hence this launcher: the
// CommonJS tests start it with `node oidc-provider-server.mjs` and read one JSON line from stdout.
//
// Configuration comes as JSON in OIDC_TEST_CONFIG:
//   issuer, port           the `iss` and where to listen (127.0.0.1)
//   keys                   private JWKs (with kid); the first one signs, all are published in the JWKS
//   clients                [{ client_id, client_secret, scope }] (client-credentials clients)
//   resources              { "<resource indicator>": "<scopes it accepts>" }; the first is the default
//   tokenUse               add `token_use: access` to access tokens (what Cognito's look like)
//   loginClient            { client_id, client_secret, redirect_uri }: a web client for the code flow
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
const resources = Object.entries(config.resources);
const [defaultResource] = resources[0];
const TTL = config.accessTokenTtlSeconds ?? 300;

const clients = config.clients.map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  scope: c.scope,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
}));
if (config.loginClient) {
  clients.push({
    client_id: config.loginClient.client_id,
    client_secret: config.loginClient.client_secret,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [config.loginClient.redirect_uri],
    id_token_signed_response_alg: 'ES256',
  });
}

const provider = new Provider(config.issuer, {
  clients,
  scopes: ['openid', ...new Set(resources.flatMap(([, scope]) => scope.split(' ')))],
  jwks: { keys: config.keys },
  cookies: { keys: ['identity-test-cookie-key'] },
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: Boolean(config.loginClient) },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const scope = config.resources[indicator];
        if (scope === undefined) throw new errors.InvalidTarget();
        // accessTokenFormat 'jwt': RFC 9068 JWT access tokens, signed with the provider's current key.
        return {
          scope,
          audience: indicator,
          accessTokenTTL: TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  // The code flow's consent is granted at once: the tests want the ID token, not a consent page.
  loadExistingGrant: async (ctx) => {
    if (!ctx.oidc.session?.accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
  extraTokenClaims: () => (config.tokenUse ? { token_use: 'access' } : undefined),
  ttl: { ClientCredentials: TTL, AccessToken: TTL, IdToken: TTL },
  pkce: { required: () => false },
});
// Quiet: the provider prints development warnings (devInteractions, in-memory adapter) we know about.
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.stack}\n`));

const server = http.createServer(provider.callback());
server.listen(config.port ?? 0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
