import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { CHANNELS, type Channel } from '../../domain/channel';
import { freePorts } from '../integration/hub-fixture';

// Starts the real OpenID provider of oidc-provider-server.mjs as a child process and speaks OAuth 2.0 to
// it the way a channel's backend would: client credentials at its token endpoint, and for the ID-token
// case a whole authorization-code login through its own interaction pages.

export const API_RESOURCE = 'https://api.loanhub.example';
/** Another API of the same bank on the same IdP, whose scopes happen to have the same names. */
export const OTHER_RESOURCE = 'https://cards.bank.example';
export const CHANNEL_SCOPES = 'loans:read payments:write payments:reverse';

export interface IdpClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly scope: string;
}

export interface IdpOptions {
  readonly issuer?: string;
  readonly port?: number;
  /** Private JWKs with kid; the first signs, all are published. */
  readonly keys: readonly JWK[];
  readonly clients: readonly IdpClient[];
  /** Resource indicator -> scopes it accepts; the first is the default resource. */
  readonly resources?: Readonly<Record<string, string>>;
  /** Cognito-style access tokens: `token_use: access`. */
  readonly tokenUse?: boolean;
  readonly withLogin?: boolean;
}

export interface TestIdp {
  readonly issuer: string;
  readonly port: number;
  readonly jwksUrl: string;
  readonly options: IdpOptions;
  /** Every token and secret this IdP handed out, for the no-secrets-in-logs check. */
  readonly issued: string[];
  clientCredentials(clientId: string, params?: { scope?: string; resource?: string }): Promise<string>;
  /** Logs `alice` in through the authorization-code flow and returns the ID token. */
  idToken(): Promise<string>;
  stop(): Promise<void>;
}

const LAUNCHER = path.join(__dirname, 'oidc-provider-server.mjs');
const LOGIN_REDIRECT = 'https://channel-portal.bank.example/callback';

export async function newSigningKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

/** One client-credentials client per channel, named as the channel catalogue expects, with its scopes. */
export function channelClients(scopeOf: (channel: Channel) => string = () => CHANNEL_SCOPES): IdpClient[] {
  return CHANNELS.map((channel) => ({
    client_id: `${channel}-client`,
    client_secret: randomBytes(18).toString('base64url'),
    scope: scopeOf(channel),
  }));
}

export async function startIdp(options: IdpOptions): Promise<TestIdp> {
  const port = options.port ?? (await freePorts(1))[0] ?? 0;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const loginClient = options.withLogin
    ? {
        client_id: 'channel-portal',
        client_secret: randomBytes(18).toString('base64url'),
        redirect_uri: LOGIN_REDIRECT,
      }
    : undefined;
  const config = {
    issuer,
    port,
    keys: options.keys,
    clients: options.clients,
    resources: (options.resources ?? { [API_RESOURCE]: CHANNEL_SCOPES, [OTHER_RESOURCE]: CHANNEL_SCOPES }) as Readonly<
      Record<string, string>
    >,
    tokenUse: options.tokenUse ?? false,
    loginClient,
  };
  const child = spawn(process.execPath, [LAUNCHER], {
    env: { ...process.env, OIDC_TEST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await ready(child);
  const base = `http://127.0.0.1:${port}`;
  const issued: string[] = [...options.clients.map((c) => c.client_secret)];
  if (loginClient) issued.push(loginClient.client_secret);

  const basic = (id: string, secret: string): string =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  return {
    issuer,
    port,
    jwksUrl: `${base}/jwks`,
    options,
    issued,
    async clientCredentials(clientId, params = {}) {
      const client = options.clients.find((c) => c.client_id === clientId);
      if (!client) throw new Error(`the test IdP has no client ${clientId}`);
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      // Client credentials grant only the scopes asked for: by default every scope the resource takes.
      const resourceScopes = config.resources[params.resource ?? API_RESOURCE] ?? '';
      form.set('scope', params.scope ?? resourceScopes);
      if (params.resource !== undefined) form.set('resource', params.resource);
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { authorization: basic(client.client_id, client.client_secret) },
        body: form,
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!res.ok || !body.access_token)
        throw new Error(`token request failed: ${res.status} ${body.error} ${body.error_description}`);
      issued.push(body.access_token);
      return body.access_token;
    },
    async idToken() {
      if (!loginClient) throw new Error('start the IdP with withLogin: true');
      const jar = new Map<string, string>();
      const go = async (url: string, init: RequestInit = {}): Promise<string> => {
        const res = await fetch(new URL(url, base), {
          ...init,
          redirect: 'manual',
          headers: {
            ...(init.headers as Record<string, string>),
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          },
        });
        for (const c of res.headers.getSetCookie()) {
          const pair = c.split(';')[0] ?? '';
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (res.status !== 303 || !location) throw new Error(`login step ${url}: ${res.status} ${await res.text()}`);
        return location;
      };
      const authorize = new URLSearchParams({
        client_id: loginClient.client_id,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: loginClient.redirect_uri,
        state: randomBytes(8).toString('hex'),
        nonce: randomBytes(8).toString('hex'),
      });
      const interaction = await go(`/auth?${authorize.toString()}`);
      const resume = await go(interaction, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'prompt=login&login=alice',
      });
      const callback = new URL(await go(resume));
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code in ${callback.href}`);
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { authorization: basic(loginClient.client_id, loginClient.client_secret) },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: loginClient.redirect_uri }),
      });
      const body = (await res.json()) as { id_token?: string; access_token?: string };
      if (!body.id_token) throw new Error(`no id_token: ${res.status} ${JSON.stringify(Object.keys(body))}`);
      issued.push(body.id_token);
      if (body.access_token) issued.push(body.access_token);
      return body.id_token;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function ready(child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (out.includes('\n')) {
        child.stdout?.off('data', onData);
        const line = JSON.parse(out.split('\n')[0] ?? '{}') as { ready?: boolean };
        if (line.ready) resolve();
        else reject(new Error(`the test IdP said ${out}`));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the test IdP exited with ${code}: ${stderr.replace(/.*WARNING.*\n/g, '')}`)),
    );
  });
}
