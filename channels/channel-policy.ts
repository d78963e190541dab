import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../domain/channel';
import { CURRENCIES, parseAmount, type Currency, type MinorUnits } from '../domain/money';
import agents from './policies/agents.json';
import app from './policies/app.json';
import atm from './policies/atm.json';
import stores from './policies/stores.json';
import web from './policies/web.json';

// One policy per channel, from the reviewed files in channels/policies/. A deployment points
// LOANHUB_CHANNEL_POLICIES_DIR at its own copies, and overrides single settings by environment:
//   LOANHUB_CHANNEL_<CH>_CLIENT_IDS=id1,id2   LOANHUB_CHANNEL_<CH>_CALLBACK_URL=https://…
//   LOANHUB_CHANNEL_<CH>_ALLOWED_NETWORKS=10.0.0.0/8,192.168.1.0/24

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const amountText = z.string().regex(/^\d+(\.\d{1,2})?$/);

const policyFileSchema = z.strictObject({
  $comment: z.string().optional(),
  channel: z.enum(CHANNELS),
  clientIds: z.array(z.string().min(1).max(128)).min(1),
  currencies: z.array(z.enum(CURRENCIES)).min(1),
  amount: z.strictObject({ min: amountText, max: amountText, maxPerLoanPerDay: amountText }),
  channelReference: z.strictObject({ pattern: z.string().min(2), example: z.string() }),
  operatingHours: z.strictObject({ from: z.string().regex(HHMM), to: z.string().regex(HHMM) }),
  paymentCutoff: z.string().regex(HHMM),
  reversal: z.strictObject({ allowed: z.boolean(), until: z.string().regex(HHMM) }),
  callback: z.strictObject({ url: z.url().nullable(), secretsEnv: z.string().regex(/^[A-Z0-9_]+$/) }),
  rateLimit: z.strictObject({
    perClientPerMinute: z.number().int().positive(),
    perIpPerMinute: z.number().int().positive(),
  }),
  allowedNetworks: z.array(z.string()),
});

export type PolicyFile = z.infer<typeof policyFileSchema>;

/** Minutes after local midnight, 0..1440. */
export type MinuteOfDay = number;

export interface ChannelPolicy {
  readonly channel: Channel;
  readonly clientIds: readonly string[];
  readonly currencies: readonly Currency[];
  readonly minAmount: MinorUnits;
  readonly maxAmount: MinorUnits;
  readonly maxPerLoanPerDay: MinorUnits;
  readonly referencePattern: RegExp;
  readonly referenceExample: string;
  readonly opensAt: MinuteOfDay;
  readonly closesAt: MinuteOfDay;
  readonly paymentCutoff: MinuteOfDay;
  readonly reversalAllowed: boolean;
  readonly reversalUntil: MinuteOfDay;
  readonly callbackUrl: string | null;
  /** Name of the variable holding the channel's `whsec_…` signing secrets (comma-separated, newest first). */
  readonly callbackSecretsEnv: string;
  readonly ratePerClientPerMinute: number;
  readonly ratePerIpPerMinute: number;
  readonly allowedNetworks: readonly string[];
}

export class PolicyError extends Error {
  readonly code = 'channel_policy_invalid';
}

const BUILT_IN: Readonly<Record<Channel, unknown>> = { app, web, agents, atm, stores };

export function loadChannelPolicies(env: NodeJS.ProcessEnv = process.env): ReadonlyMap<Channel, ChannelPolicy> {
  const dir = env.LOANHUB_CHANNEL_POLICIES_DIR;
  const policies = new Map<Channel, ChannelPolicy>();
  for (const channel of CHANNELS) {
    const source = dir ? path.join(dir, `${channel}.json`) : `channels/policies/${channel}.json`;
    const raw = dir ? readJson(source) : BUILT_IN[channel];
    const parsed = policyFileSchema.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new PolicyError(`${source}: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    if (parsed.data.channel !== channel)
      throw new PolicyError(`${source}: channel is ${parsed.data.channel}, expected ${channel}`);
    policies.set(channel, toPolicy(parsed.data, env, source));
  }
  const seen = new Map<string, Channel>();
  for (const p of policies.values()) {
    for (const id of p.clientIds) {
      const other = seen.get(id);
      if (other) throw new PolicyError(`client id ${id} is given to both ${other} and ${p.channel}`);
      seen.set(id, p.channel);
    }
  }
  return policies;
}

function toPolicy(f: PolicyFile, env: NodeJS.ProcessEnv, source: string): ChannelPolicy {
  const prefix = `LOANHUB_CHANNEL_${f.channel.toUpperCase()}_`;
  const list = (name: string, fallback: readonly string[]): readonly string[] => {
    const v = env[prefix + name];
    return v === undefined
      ? fallback
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  };
  const money = (field: string, text: string): MinorUnits => {
    const r = parseAmount(text, 10n ** 18n);
    if (!r.ok) throw new PolicyError(`${source}: amount.${field}: ${r.detail}`);
    return r.value;
  };
  let referencePattern: RegExp;
  try {
    referencePattern = new RegExp(f.channelReference.pattern);
  } catch (cause) {
    throw new PolicyError(`${source}: channelReference.pattern is not a regular expression`, { cause });
  }
  if (!f.channelReference.pattern.startsWith('^') || !f.channelReference.pattern.endsWith('$')) {
    throw new PolicyError(`${source}: channelReference.pattern must be anchored with ^ and $`);
  }
  if (!referencePattern.test(f.channelReference.example)) {
    throw new PolicyError(`${source}: channelReference.example does not match its own pattern`);
  }
  const min = money('min', f.amount.min);
  const max = money('max', f.amount.max);
  if (min > max) throw new PolicyError(`${source}: amount.min is above amount.max`);
  return Object.freeze({
    channel: f.channel,
    clientIds: list('CLIENT_IDS', f.clientIds),
    currencies: f.currencies,
    minAmount: min,
    maxAmount: max,
    maxPerLoanPerDay: money('maxPerLoanPerDay', f.amount.maxPerLoanPerDay),
    referencePattern,
    referenceExample: f.channelReference.example,
    opensAt: minutes(f.operatingHours.from),
    closesAt: minutes(f.operatingHours.to),
    paymentCutoff: minutes(f.paymentCutoff),
    reversalAllowed: f.reversal.allowed,
    reversalUntil: minutes(f.reversal.until),
    callbackUrl: env[`${prefix}CALLBACK_URL`] ?? f.callback.url,
    callbackSecretsEnv: f.callback.secretsEnv,
    ratePerClientPerMinute: f.rateLimit.perClientPerMinute,
    ratePerIpPerMinute: f.rateLimit.perIpPerMinute,
    allowedNetworks: list('ALLOWED_NETWORKS', f.allowedNetworks),
  });
}

function minutes(hhmm: string): MinuteOfDay {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new PolicyError(`${file}: cannot read the policy file`, { cause });
  }
}
