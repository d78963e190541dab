import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callbackUrlRefusal } from '../../channels/callback-url-rule';
import { loadChannelPolicies } from '../../channels/channel-policy';
import { CHANNELS, type Channel } from '../../domain/channel';

// The channel policies are checked when the hub starts: limits per currency, callback URLs, and every
// problem of every file reported at once.

const SHIPPED = path.join(__dirname, '../../channels/policies');
type PolicyJson = Record<string, unknown> & { limits: Record<string, Record<string, string>> };

function policyDir(edit: (channel: Channel, p: PolicyJson) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-policy-load-'));
  for (const channel of CHANNELS) {
    const p = JSON.parse(fs.readFileSync(path.join(SHIPPED, `${channel}.json`), 'utf8')) as PolicyJson;
    edit(channel, p);
    fs.writeFileSync(path.join(dir, `${channel}.json`), JSON.stringify(p));
  }
  return dir;
}

function loadError(env: NodeJS.ProcessEnv): string {
  try {
    loadChannelPolicies(env);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('channel_policy_invalid');
    return (err as Error).message;
  }
  throw new Error('the policies loaded');
}

describe('limits per currency', () => {
  it('the shipped policies give every channel its own PEN and USD limits', () => {
    const policies = loadChannelPolicies({});
    for (const channel of CHANNELS) {
      const p = policies.get(channel);
      expect(p?.currencies).toEqual(['PEN', 'USD']);
      // A dollar is worth more than a sol: no channel lets a USD payment go as high as a PEN one.
      expect((p?.limits.USD?.max ?? 0n) < (p?.limits.PEN?.max ?? 0n)).toBe(true);
    }
    expect(policies.get('atm')?.limits.PEN).toEqual({
      currency: 'PEN',
      min: 1000n,
      max: 300000n,
      maxPerLoanPerDay: 600000n,
    });
  });

  it('a currency without limits is a currency the channel does not take', () => {
    const dir = policyDir((c, p) => {
      if (c === 'stores') delete p.limits.USD;
    });
    expect(loadChannelPolicies({ LOANHUB_CHANNEL_POLICIES_DIR: dir }).get('stores')?.currencies).toEqual(['PEN']);
  });

  it('a policy file of the old shape (one amount for every currency) is refused with what to write instead', () => {
    const dir = policyDir((c, p) => {
      if (c !== 'app') return;
      p.currencies = ['PEN', 'USD'];
      p.amount = p.limits.PEN;
      delete (p as Partial<PolicyJson>).limits;
    });
    const message = loadError({ LOANHUB_CHANNEL_POLICIES_DIR: dir });
    expect(message).toContain('app.json: amount and currencies are replaced by limits per currency');
  });

  it('every problem of every file is reported at once, each with its file and field', () => {
    const dir = policyDir((c, p) => {
      if (c === 'app') p.limits.USD = { min: '10.00', max: '5.00', maxPerLoanPerDay: '100.00' };
      if (c === 'web') p.limits.PEN = { min: '1.00', max: '900.00', maxPerLoanPerDay: '800.00' };
      if (c === 'atm') p.limits.USD = { min: '1.00', max: '1,000.00', maxPerLoanPerDay: '2000.00' };
      if (c === 'agents') p.limits = {};
      if (c === 'stores') p.limits.EUR = { min: '1.00', max: '2.00', maxPerLoanPerDay: '3.00' };
    });
    const message = loadError({ LOANHUB_CHANNEL_POLICIES_DIR: dir });
    expect(message).toMatch(/^5 problems:/);
    expect(message).toContain('app.json: limits.USD: min 10.00 is above max 5.00');
    expect(message).toContain('web.json: limits.PEN: max 900.00 is above maxPerLoanPerDay 800.00');
    expect(message).toMatch(/atm\.json: limits\.USD\.max: /);
    expect(message).toContain('agents.json: limits: give the limits of at least one currency');
    expect(message).toMatch(/stores\.json: limits: .*EUR/);
  });
});

describe('callback URLs must be https:// outside loopback', () => {
  it.each([
    ['https://hooks.bank.example/loanhub', null],
    ['http://127.0.0.1:9999/hooks/loanhub', null],
    ['http://localhost:9999/hooks', null],
    ['http://[::1]:9999/hooks', null],
    ['http://hooks.bank.example/loanhub', /must be https:\/\/ outside loopback.*LOANHUB_WEBHOOKS_ALLOW_HTTP=dev/],
    ['http://10.20.0.5/hooks', /must be https:\/\/ outside loopback/],
    ['http://127.0.0.1.nip.io/hooks', /must be https:\/\/ outside loopback/],
    ['ftp://hooks.bank.example/x', /must be https:\/\//],
    ['https://user:pass@hooks.bank.example/x', /carries credentials/],
    ['not a url', /is not a URL/],
  ])('%s', (url, expected) => {
    const refusal = callbackUrlRefusal(url, false);
    if (expected === null) expect(refusal).toBeNull();
    else expect(refusal).toMatch(expected);
  });

  it('the hub refuses to start with a plain-http callback off loopback, from a policy file or its variable', () => {
    const dir = policyDir((c, p) => {
      if (c === 'web') (p.callback as Record<string, unknown>).url = 'http://hooks.bank.example/web';
    });
    const message = loadError({
      LOANHUB_CHANNEL_POLICIES_DIR: dir,
      LOANHUB_CHANNEL_ATM_CALLBACK_URL: 'http://atm-switch.bank.example/hooks',
    });
    expect(message).toContain('web.json: callback.url: must be https:// outside loopback');
    expect(message).toContain('atm.json: LOANHUB_CHANNEL_ATM_CALLBACK_URL: must be https:// outside loopback');
  });

  it('LOANHUB_WEBHOOKS_ALLOW_HTTP=dev lets a development setup use http:// anywhere; any other value is refused', () => {
    const env = { LOANHUB_CHANNEL_APP_CALLBACK_URL: 'http://receiver.dev.internal:9999/hooks' };
    expect(loadError(env)).toContain('must be https:// outside loopback');
    expect(loadChannelPolicies({ ...env, LOANHUB_WEBHOOKS_ALLOW_HTTP: 'dev' }).get('app')?.callbackUrl).toBe(
      'http://receiver.dev.internal:9999/hooks',
    );
    expect(loadError({ ...env, LOANHUB_WEBHOOKS_ALLOW_HTTP: 'yes' })).toContain(
      'LOANHUB_WEBHOOKS_ALLOW_HTTP is "yes"; the only value is "dev"',
    );
  });
});
