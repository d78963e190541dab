import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK, type KeyLike } from 'jose';
import { CHANNELS } from '../../domain/channel';
import type { ChannelCatalogue } from '../../channels/channel-catalogue';

// The built-in OAuth2 client-credentials issuer of the embedded mode (RFC 6749 §4.4), signing ES256
// access tokens in the RFC 9068 shape. Its signing key and the channel clients' secrets live under
// the data dir (mode 0600), so `loanhub token` and a running hub share them.

export const SCOPES = ['loans:read', 'payments:write', 'payments:reverse'] as const;
export type Scope = (typeof SCOPES)[number];
/** The operations console's scope (the /ops page): never granted to a channel client. */
export const OPS_SCOPE = 'ops:read';
export type IssuerScope = Scope | typeof OPS_SCOPE;
/** The embedded issuer's one non-channel client: operations, which may only read (/ops). */
export const OPS_CLIENT_ID = 'ops-console';

interface StoredKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly createdAt: string;
}

interface StoredClient {
  readonly clientId: string;
  readonly channel: string;
  readonly secret: string;
}

export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

export interface EmbeddedIssuer {
  readonly issuer: string;
  readonly audience: string;
  jwks(): JSONWebKeySet;
  /** Re-reads the signing keys if the key file changed (after a rotation). */
  refresh(): Promise<void>;
  clients(): readonly { clientId: string; channel: string }[];
  clientSecret(clientId: string): string | undefined;
  authenticateClient(clientId: string, secret: string): boolean;
  /** The operations client (not a channel, so absent from clients()): id and secret for POST /oauth/token. */
  opsClient(): { readonly clientId: string; readonly secret: string };
  /** The scopes a client may be given: the channel scopes, or only ops:read for the ops client. */
  scopesOf(clientId: string): readonly IssuerScope[];
  /** Without scopes: every scope the client may have. A scope the client may not have throws. */
  issueToken(clientId: string, scopes?: readonly IssuerScope[]): Promise<IssuedToken>;
}

export async function openEmbeddedIssuer(opts: {
  dataDir: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  catalogue: ChannelCatalogue;
}): Promise<EmbeddedIssuer> {
  const dir = path.join(opts.dataDir, 'identity');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keysFile = path.join(dir, 'signing-keys.json');
  await loadOrCreate<StoredKey[]>(keysFile, async () => [await newKey()]);
  const clients = await loadOrCreate<StoredClient[]>(path.join(dir, 'clients.json'), async () =>
    CHANNELS.flatMap((channel) =>
      opts.catalogue.clientIdsOf(channel).map((clientId) => ({
        clientId,
        channel,
        secret: randomBytes(24).toString('base64url'),
      })),
    ),
  );

  const ops = await loadOrCreate<StoredClient>(path.join(dir, 'ops-client.json'), async () => ({
    clientId: OPS_CLIENT_ID,
    channel: '',
    secret: randomBytes(24).toString('base64url'),
  }));
  const secretOf = (clientId: string): string | undefined =>
    clientId === ops.clientId ? ops.secret : clients.find((c) => c.clientId === clientId)?.secret;
  const scopesOf = (clientId: string): readonly IssuerScope[] => {
    if (clientId === ops.clientId) return [OPS_SCOPE];
    return clients.some((c) => c.clientId === clientId) ? SCOPES : [];
  };

  // The key file can change under a running hub (`loanhub keys rotate`): re-read it when its mtime moves.
  let state = await readKeys(keysFile);
  const refresh = async (): Promise<void> => {
    const mtime = fs.statSync(keysFile).mtimeMs;
    if (mtime !== state.mtimeMs) state = await readKeys(keysFile);
  };

  return Object.freeze({
    issuer: opts.issuer,
    audience: opts.audience,
    jwks: () => state.jwks,
    refresh,
    clients: () => clients.map(({ clientId, channel }) => ({ clientId, channel })),
    clientSecret: (clientId: string) => clients.find((c) => c.clientId === clientId)?.secret,
    opsClient: () => ({ clientId: ops.clientId, secret: ops.secret }),
    scopesOf,
    authenticateClient(clientId: string, secret: string): boolean {
      const known = secretOf(clientId);
      if (known === undefined) return false;
      const a = createHash('sha256').update(known).digest();
      const b = createHash('sha256').update(secret).digest();
      return timingSafeEqual(a, b);
    },
    async issueToken(clientId: string, asked?: readonly IssuerScope[]): Promise<IssuedToken> {
      const allowed = scopesOf(clientId);
      if (allowed.length === 0) throw new Error(`unknown client ${clientId}`);
      const scopes = asked ?? allowed;
      const refused = scopes.filter((s) => !allowed.includes(s));
      if (refused.length > 0) throw new Error(`client ${clientId} may not have scope ${refused.join(' ')}`);
      await refresh();
      const scope = scopes.join(' ');
      const token = await new SignJWT({ client_id: clientId, scope })
        .setProtectedHeader({ alg: 'ES256', kid: state.current.kid, typ: 'at+jwt' })
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setSubject(clientId)
        .setIssuedAt()
        .setJti(randomBytes(12).toString('base64url'))
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(state.signingKey);
      return { access_token: token, token_type: 'Bearer', expires_in: opts.ttlSeconds, scope };
    },
  });
}

/**
 * Adds a new signing key and makes it current. Earlier keys stay published in the JWKS for `keepSeconds`
 * (at least the token lifetime), so tokens signed before the rotation stay valid until they expire.
 */
export async function rotateSigningKey(opts: {
  dataDir: string;
  keepSeconds: number;
  now?: Date;
}): Promise<{ kid: string; retired: string[] }> {
  const file = path.join(opts.dataDir, 'identity', 'signing-keys.json');
  if (!fs.existsSync(file))
    throw new Error(`no signing keys in ${path.dirname(file)}; start the hub or run \`loanhub token\` once first`);
  const now = opts.now ?? new Date();
  const keys = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredKey[];
  const fresh = await newKey(now);
  // A key stops signing when the next one is made; it is kept while tokens it signed may still be alive.
  const kept: StoredKey[] = [];
  const retired: string[] = [];
  keys.forEach((k, i) => {
    const supersededAt = new Date(keys[i + 1]?.createdAt ?? now.toISOString()).getTime();
    if (now.getTime() - supersededAt <= opts.keepSeconds * 1000) kept.push(k);
    else retired.push(k.kid);
  });
  const next = [...kept, fresh];
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(next, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { kid: fresh.kid, retired };
}

async function newKey(now: Date = new Date()): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url').slice(0, 16);
  return { kid, privateJwk: await exportJWK(privateKey), publicJwk, createdAt: now.toISOString() };
}

async function readKeys(
  file: string,
): Promise<{ mtimeMs: number; current: StoredKey; signingKey: KeyLike | Uint8Array; jwks: JSONWebKeySet }> {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const keys = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredKey[];
  const current = keys[keys.length - 1];
  if (!current) throw new Error(`no signing key in ${file}`);
  return {
    mtimeMs,
    current,
    signingKey: await importJWK(current.privateJwk, 'ES256'),
    jwks: { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })) },
  };
}
/** Reads a JSON file, or creates it exclusively; when two processes race, the loser reads the winner's. */
async function loadOrCreate<T>(file: string, create: () => Promise<T>): Promise<T> {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  const value = await create();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } finally {
    fs.unlinkSync(tmp);
  }
}
