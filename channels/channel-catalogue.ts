import { CHANNELS, type Channel } from '../domain/channel';

// Which OAuth clients speak for which channel. A deployment maps its IdP's client ids with
// LOANHUB_CHANNEL_CLIENTS (`app=id1|id2,web=id3`); the embedded issuer uses the defaults below.

export const DEFAULT_CLIENT_IDS: Readonly<Record<Channel, readonly string[]>> = Object.freeze({
  app: ['app-client'],
  web: ['web-client'],
  agents: ['agents-client'],
  atm: ['atm-client'],
  stores: ['stores-client'],
});

export interface ChannelCatalogue {
  channelOfClient(clientId: string): Channel | undefined;
  clientIdsOf(channel: Channel): readonly string[];
}

export function createChannelCatalogue(env: NodeJS.ProcessEnv = process.env): ChannelCatalogue {
  const map: Record<Channel, readonly string[]> = { ...DEFAULT_CLIENT_IDS };
  const spec = env.LOANHUB_CHANNEL_CLIENTS;
  if (spec) {
    for (const part of spec.split(',')) {
      const [channel, ids] = part.split('=');
      if (!channel || !ids || !(CHANNELS as readonly string[]).includes(channel)) {
        throw new Error(`LOANHUB_CHANNEL_CLIENTS: cannot read ${JSON.stringify(part)} (expected channel=id1|id2)`);
      }
      map[channel as Channel] = ids.split('|').filter((s) => s.length > 0);
    }
  }
  const byClient = new Map<string, Channel>();
  for (const channel of CHANNELS) for (const id of map[channel]) byClient.set(id, channel);
  return Object.freeze({
    channelOfClient: (clientId: string) => byClient.get(clientId),
    clientIdsOf: (channel: Channel) => map[channel],
  });
}
