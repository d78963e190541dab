import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../domain/channel';
import { CURRENCIES, parseAmount, type Currency, type MinorUnits } from '../domain/money';
import { allowHttpCallbacks, callbackUrlRefusal } from './callback-url-rule';
import agents from './policies/agents.json';
import app from './policies/app.json';
import atm from './policies/atm.json';
import stores from './policies/stores.json';
import web from './policies/web.json';
import type { OperatorErrorCode } from '../domain/errors';

// One policy per channel, from the reviewed files in channels/policies/. A deployment points
// LOANHUB_CHANNEL_POLICIES_DIR at its own copies, and overrides single settings by environment:
//   LOANHUB_CHANNEL_<CH>_CLIENT_IDS=id1,id2   LOANHUB_CHANNEL_<CH>_CALLBACK_URL=https://…
//   LOANHUB_CHANNEL_<CH>_ALLOWED_NETWORKS=10.0.0.0/8,192.168.1.0/24
// Callback URLs must be https:// outside loopback (callback-url-rule.ts).

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const amountText = z.string().regex(/^\d+(\.\d{1,2})?$/, 'a decimal string such as "1500.00"');
const currencyLimits = z.strictObject({ min: amountText, max: amountText, maxPerLoanPerDay: amountText });

const policyFileSchema = z.strictObject({
  $comment: z.string().optional(),
  channel: z.enum(CHANNELS),
  clientIds: z.array(z.string().min(1).max(128)).min(1),
  /** The currencies the channel takes are the ones with limits; each has its own (a sol is not a dollar). */
  limits: z.partialRecord(z.enum(CURRENCIES), currencyLimits),
  channelReference: z.strictObject({ pattern: z.string().min(2), example: z.string() }),
  operatingHours: z.strictObject({ from: z.string().regex(HHMM), to: z.string().regex(HHMM) }),
  paymentCutoff: z.string().regex(HHMM),
  reversal: z.strictObject({ allowed: z.boolean(), until: z.string().regex(HHMM) }),
  callback: z.strictObject({ url: z.string().nullable(), secretsEnv: z.string().regex(/^[A-Z0-9_]+$/) }),
  rateLimit: z.strictObject({
    perClientPerMinute: z.number().int().positive(),
    perIpPerMinute: z.number().int().positive(),
  }),
  allowedNetworks: z.array(z.string()),
});

export type PolicyFile = z.infer<typeof policyFileSchema>;

/** Minutes after local midnight, 0..1440. */
export type MinuteOfDay = number;

/** What one payment, and one loan's payments of a business day, may amount to in one currency. */
export interface CurrencyLimits {
  readonly currency: Currency;
  readonly min: MinorUnits;
  readonly max: MinorUnits;
  readonly maxPerLoanPerDay: MinorUnits;
}

export interface ChannelPolicy {
  readonly channel: Channel;
  readonly clientIds: readonly string[];
  /** The currencies the channel takes, in the order of its policy file. */
  readonly currencies: readonly Currency[];
  readonly limits: Readonly<Partial<Record<Currency, CurrencyLimits>>>;
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
  readonly code: OperatorErrorCode = 'channel_policy_invalid';
}

const BUILT_IN: Readonly<Record<Channel, unknown>> = { app, web, agents, atm, stores };

/**
 * Reads and checks every channel's policy at start. Every problem of every file is reported at once,
 * each with its file and field, so a deployment's reviewer fixes them in one pass.
 */
export function loadChannelPolicies(env: NodeJS.ProcessEnv = process.env): ReadonlyMap<Channel, ChannelPolicy> {
  const dir = env.LOANHUB_CHANNEL_POLICIES_DIR;
  const { allow: allowHttp, problem: allowHttpProblem } = allowHttpCallbacks(env);
  const policies = new Map<Channel, ChannelPolicy>();
  const problems: string[] = allowHttpProblem ? [allowHttpProblem] : [];
  for (const channel of CHANNELS) {
    const source = dir ? path.join(dir, `${channel}.json`) : `channels/policies/${channel}.json`;
    const raw = dir ? readJson(source) : BUILT_IN[channel];
    const found = oldFormatProblems(raw);
    const parsed = policyFileSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (found.length > 0 && issue.code === 'unrecognized_keys') continue;
        found.push(`${issue.path.join('.') || '(file)'}: ${issue.message}`);
      }
    } else if (parsed.data.channel !== channel) {
      found.push(`channel: is ${parsed.data.channel}, expected ${channel}`);
    } else {
      const policy = toPolicy(parsed.data, env, allowHttp, found);
      if (found.length === 0) policies.set(channel, policy);
    }
    problems.push(...found.map((f) => `${source}: ${f}`));
  }
  const seen = new Map<string, Channel>();
  for (const p of policies.values()) {
    for (const id of p.clientIds) {
      const other = seen.get(id);
      if (other) problems.push(`client id ${id} is given to both ${other} and ${p.channel}`);
      seen.set(id, p.channel);
    }
  }
  if (problems.length > 0) {
    throw new PolicyError(
      problems.length === 1 ? (problems[0] ?? '') : `${problems.length} problems:\n  ${problems.join('\n  ')}`,
    );
  }
  return policies;
}

/** A file written for the policies before limits were per currency says so, rather than "unknown key". */
function oldFormatProblems(raw: unknown): string[] {
  if (raw === null || typeof raw !== 'object') return [];
  const keys = Object.keys(raw);
  if (!keys.includes('amount') && !keys.includes('currencies')) return [];
  return [
    'amount and currencies are replaced by limits per currency: "limits": { "PEN": { "min", "max", "maxPerLoanPerDay" }, "USD": { … } }',
  ];
}

function toPolicy(f: PolicyFile, env: NodeJS.ProcessEnv, allowHttp: boolean, problems: string[]): ChannelPolicy {
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
  let referencePattern = /^$/;
  try {
    referencePattern = new RegExp(f.channelReference.pattern);
    if (!f.channelReference.pattern.startsWith('^') || !f.channelReference.pattern.endsWith('$')) {
      problems.push('channelReference.pattern: must be anchored with ^ and $');
    } else if (!referencePattern.test(f.channelReference.example)) {
      problems.push('channelReference.example: does not match its own pattern');
    }
  } catch {
    problems.push('channelReference.pattern: is not a regular expression');
  }
  const currencies = CURRENCIES.filter((c) => f.limits[c] !== undefined).sort(
    (a, b) => Object.keys(f.limits).indexOf(a) - Object.keys(f.limits).indexOf(b),
  );
  if (currencies.length === 0) problems.push('limits: give the limits of at least one currency (PEN, USD)');
  const limits: Partial<Record<Currency, CurrencyLimits>> = {};
  for (const currency of currencies) {
    const checked = currencyLimitsOf(currency, f.limits[currency], problems);
    if (checked) limits[currency] = checked;
  }
  const callbackUrl = env[`${prefix}CALLBACK_URL`] ?? f.callback.url;
  const callbackField = env[`${prefix}CALLBACK_URL`] !== undefined ? `${prefix}CALLBACK_URL` : 'callback.url';
  if (callbackUrl !== null) {
    const refusal = callbackUrlRefusal(callbackUrl, allowHttp);
    if (refusal) problems.push(`${callbackField}: ${refusal}`);
  }
  return Object.freeze({
    channel: f.channel,
    clientIds: list('CLIENT_IDS', f.clientIds),
    currencies,
    limits: Object.freeze(limits),
    referencePattern,
    referenceExample: f.channelReference.example,
    opensAt: minutes(f.operatingHours.from),
    closesAt: minutes(f.operatingHours.to),
    paymentCutoff: minutes(f.paymentCutoff),
    reversalAllowed: f.reversal.allowed,
    reversalUntil: minutes(f.reversal.until),
    callbackUrl,
    callbackSecretsEnv: f.callback.secretsEnv,
    ratePerClientPerMinute: f.rateLimit.perClientPerMinute,
    ratePerIpPerMinute: f.rateLimit.perIpPerMinute,
    allowedNetworks: list('ALLOWED_NETWORKS', f.allowedNetworks),
  });
}

function currencyLimitsOf(
  currency: Currency,
  text: { min: string; max: string; maxPerLoanPerDay: string } | undefined,
  problems: string[],
): CurrencyLimits | null {
  if (!text) return null;
  const before = problems.length;
  const money = (field: keyof typeof text): MinorUnits => {
    const r = parseAmount(text[field], 10n ** 18n);
    if (r.ok) return r.value;
    problems.push(`limits.${currency}.${field}: ${r.detail}`);
    return 0n as MinorUnits;
  };
  const min = money('min');
  const max = money('max');
  const maxPerLoanPerDay = money('maxPerLoanPerDay');
  if (problems.length > before) return null;
  if (min > max) problems.push(`limits.${currency}: min ${text.min} is above max ${text.max}`);
  if (max > maxPerLoanPerDay)
    problems.push(`limits.${currency}: max ${text.max} is above maxPerLoanPerDay ${text.maxPerLoanPerDay}`);
  return problems.length > before ? null : Object.freeze({ currency, min, max, maxPerLoanPerDay });
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
