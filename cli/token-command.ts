import { InvalidArgumentError, type Command } from 'commander';
import { openEmbeddedIssuer, SCOPES, type Scope } from '../api/auth/embedded-issuer';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { loadConfig } from '../config/config';
import { CHANNELS, isChannel, type Channel } from '../domain/channel';

// `loanhub token` and `loanhub clients`: the embedded issuer's tokens and client secrets, from the same
// data dir as a running hub. Output is plain so `$(npx loanhub token --channel app)` works.

export function registerTokenCommands(program: Command): void {
  program
    .command('token')
    .description('print an access token for a channel, signed by the embedded issuer of this data dir')
    .requiredOption('--channel <channel>', `one of ${CHANNELS.join(', ')}`, parseChannel)
    .option('--scope <scopes>', `space-separated scopes (default: all of ${SCOPES.join(' ')})`)
    .option('--json', 'print the whole token response as JSON')
    .action(async (opts: { channel: Channel; scope?: string; json?: boolean }) => {
      const issuer = await openIssuer();
      const clientId = firstClient(opts.channel);
      const scopes = opts.scope ? parseScopes(opts.scope) : [...SCOPES];
      const token = await issuer.issueToken(clientId, scopes);
      process.stdout.write(opts.json ? `${JSON.stringify(token, null, 2)}\n` : `${token.access_token}\n`);
    });

  program
    .command('clients')
    .description("list the embedded issuer's channel clients (client_id and client_secret for POST /oauth/token)")
    .option('--channel <channel>', 'only this channel', parseChannel)
    .option('--json', 'print as JSON')
    .action(async (opts: { channel?: Channel; json?: boolean }) => {
      const issuer = await openIssuer();
      const rows = issuer
        .clients()
        .filter((c) => !opts.channel || c.channel === opts.channel)
        .map((c) => ({
          channel: c.channel,
          clientId: c.clientId,
          clientSecret: issuer.clientSecret(c.clientId) ?? '',
        }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const r of rows) process.stdout.write(`${r.channel.padEnd(8)} ${r.clientId.padEnd(15)} ${r.clientSecret}\n`);
    });
}

async function openIssuer() {
  const config = loadConfig();
  return openEmbeddedIssuer({
    dataDir: config.dataDir,
    issuer: config.issuer,
    audience: config.audience ?? 'loanhub-api',
    ttlSeconds: config.tokenTtlSeconds,
    catalogue: createChannelCatalogue(),
  });
}

function firstClient(channel: Channel): string {
  const id = createChannelCatalogue().clientIdsOf(channel)[0];
  if (!id) throw new Error(`channel ${channel} has no client`);
  return id;
}

export function parseChannel(value: string): Channel {
  if (!isChannel(value)) throw new InvalidArgumentError(`unknown channel; use one of ${CHANNELS.join(', ')}`);
  return value;
}

function parseScopes(value: string): Scope[] {
  const asked = value.split(/[ ,]+/).filter(Boolean);
  const bad = asked.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length > 0) throw new Error(`unknown scope(s): ${bad.join(' ')}; known: ${SCOPES.join(' ')}`);
  return asked as Scope[];
}
