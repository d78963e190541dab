// The five channels through which customers pay, and the three loan cores that own the loans.

export const CHANNELS = ['app', 'web', 'agents', 'atm', 'stores'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CORES = ['cash', 'mortgage', 'vehicle'] as const;
export type Core = (typeof CORES)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

export function isCore(value: unknown): value is Core {
  return typeof value === 'string' && (CORES as readonly string[]).includes(value);
}
