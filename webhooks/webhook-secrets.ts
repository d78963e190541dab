import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelCatalogue } from '../channels/channel-catalogue';
import { CHANNELS, isChannel, type Channel } from '../domain/channel';
import { parseSecret, parseSecretList, WebhookSecretError, type SigningKey } from './webhook-signature';

// Where each channel's signing secrets come from. A deployment sets the variable named by the channel's
// policy (`callback.secretsEnv`, comma-separated `whsec_…`, newest first). The embedded hub with no such
// variable keeps one generated secret per channel in ${dataDir}/identity/webhook-secrets.json (0600), so
// `npm start` signs its webhooks and `loanhub webhooks secret --channel X` can hand the secret over.

export type SecretSource =
  { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'file'; readonly file: string };

export interface ChannelSecrets {
  readonly channel: Channel;
  readonly keys: readonly SigningKey[];
  readonly source: SecretSource;
}

export function embeddedSecretsFile(dataDir: string): string {
  return path.join(dataDir, 'identity', 'webhook-secrets.json');
}

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

type SecretFile = Partial<Record<Channel, string[]>>;

function readSecretFile(file: string): SecretFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file} is not readable JSON`, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file} is not an object`);
  const out: SecretFile = {};
  for (const [channel, list] of Object.entries(raw)) {
    if (!isChannel(channel)) continue;
    if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string'))
      throw new Error(`${file}: ${channel} must be a list of secrets`);
    out[channel] = list;
  }
  return out;
}

/**
 * The embedded secrets, generating those missing. The file is written to a temp name (0600) and
 * renamed, so a reader never sees half of it; a CLI and a hub racing to create it end with one file.
 */
export function ensureEmbeddedSecrets(dataDir: string): SecretFile {
  const file = embeddedSecretsFile(dataDir);
  const current = readSecretFile(file);
  if (CHANNELS.every((c) => (current[c]?.length ?? 0) > 0)) return current;
  const next: SecretFile = { ...current };
  for (const c of CHANNELS) if ((next[c]?.length ?? 0) === 0) next[c] = [newSecret()];
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // Someone else may have finished first: keep theirs (secrets already handed out stay valid).
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readSecretFile(file);
    if (!CHANNELS.every((c) => (theirs[c]?.length ?? 0) > 0)) fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readSecretFile(file);
}

/** Each channel's keys: from its variable when set, else from the embedded file (created if missing). */
export function resolveChannelSecrets(
  catalogue: ChannelCatalogue,
  env: NodeJS.ProcessEnv,
  dataDir: string,
): ReadonlyMap<Channel, ChannelSecrets> {
  const result = new Map<Channel, ChannelSecrets>();
  let embedded: SecretFile | undefined;
  for (const channel of CHANNELS) {
    const variable = catalogue.policy(channel).callbackSecretsEnv;
    const value = env[variable];
    if (value !== undefined && value.trim() !== '') {
      result.set(channel, { channel, keys: parseSecretList(value, variable), source: { kind: 'env', variable } });
      continue;
    }
    embedded ??= ensureEmbeddedSecrets(dataDir);
    const file = embeddedSecretsFile(dataDir);
    const list = embedded[channel] ?? [];
    if (list.length === 0) throw new WebhookSecretError('not_whsec', `${file} (${channel})`);
    result.set(channel, {
      channel,
      keys: list.map((s) => parseSecret(s, `${file} (${channel})`)),
      source: { kind: 'file', file },
    });
  }
  return result;
}
