import type { Channel } from '../domain/channel';
import { loadChannelPolicies, type ChannelPolicy } from './channel-policy';

// The channel catalogue: each channel's policy, and which OAuth clients speak for which channel.

export interface ChannelCatalogue {
  policy(channel: Channel): ChannelPolicy;
  channelOfClient(clientId: string): Channel | undefined;
  clientIdsOf(channel: Channel): readonly string[];
}

export function createChannelCatalogue(env: NodeJS.ProcessEnv = process.env): ChannelCatalogue {
  const policies = loadChannelPolicies(env);
  const byClient = new Map<string, Channel>();
  for (const p of policies.values()) for (const id of p.clientIds) byClient.set(id, p.channel);
  const policy = (channel: Channel): ChannelPolicy => {
    const p = policies.get(channel);
    if (!p) throw new Error(`no policy for channel ${channel}`);
    return p;
  };
  return Object.freeze({
    policy,
    channelOfClient: (clientId: string) => byClient.get(clientId),
    clientIdsOf: (channel: Channel) => policy(channel).clientIds,
  });
}
