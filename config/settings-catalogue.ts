import fs from 'node:fs';
import net from 'node:net';
import { loadChannelPolicies } from '../channels/channel-policy';
import { loadSettlementMappings } from '../channels/settlement/settlement-mapping';
import { codePageNameFor, getCodePage } from '../copybooks/code-page';
import { assertTimeZone } from '../domain/business-date';
import { CHANNELS, CORES } from '../domain/channel';
import { parseAmount } from '../domain/money';
import { parseSecretList } from '../webhooks/webhook-signature';
import { loadConfig } from './config';

// The one list of every variable the hub reads (PORT and LOANHUB_*): its default, whether it is a
// secret, what it does, and how a value is checked. `loanhub config check` prints it; the Terraform
// tests hold every variable a task definition sets against it, so the deployment and the code cannot
// drift. A new variable in the code goes here too.

/** How a value is shown: as is, fully masked, or as a URL with its password (or user and password) masked. */
export type SecretKind = 'none' | 'value' | 'url-password' | 'url-credentials';

export interface Setting {
  readonly name: string;
  readonly description: string;
  /** The default as text, or undefined when unset means "off" / "not used". */
  readonly default?: string;
  /** Where the value comes from when the variable is unset, when that is a file rather than a default. */
  readonly fileFallback?: string;
  readonly secret: SecretKind;
  /** Problems with a value that is set (empty list: fine). */
  readonly validate?: (value: string) => readonly string[];
}

const problem = (ok: boolean, message: string): readonly string[] => (ok ? [] : [message]);

const wholeNumber =
  (min: number, max: number) =>
  (v: string): readonly string[] =>
    problem(/^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max, `must be a whole number ${min}..${max}`);

const port = wholeNumber(1, 65535);

function urlCheck(protocols: readonly string[], extra?: (u: URL) => readonly string[]) {
  return (v: string): readonly string[] => {
    if (!URL.canParse(v)) return [`is not a URL (expected ${protocols.map((p) => `${p}//…`).join(' or ')})`];
    const u = new URL(v);
    if (!protocols.includes(u.protocol)) return [`must be a ${protocols.join(' or ')} URL, not ${u.protocol}`];
    return extra ? extra(u) : [];
  };
}

const hhmm = (v: string): readonly string[] =>
  problem(/^([01]\d|2[0-3]):[0-5]\d$/.test(v), 'must be HH:MM (00:00..23:59)');

function readableFile(v: string): readonly string[] {
  try {
    if (!fs.statSync(v).isFile()) return [`${v} is not a file`];
    fs.accessSync(v, fs.constants.R_OK);
    return [];
  } catch (err) {
    return [`${v} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`];
  }
}

function cidrList(v: string): readonly string[] {
  const bad = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .filter((c) => {
      const [addr, bits, ...rest] = c.split('/');
      const family = net.isIP(addr ?? '');
      const max = family === 6 ? 128 : 32;
      return family === 0 || rest.length > 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max));
    });
  return bad.length === 0 ? [] : [`not an address or CIDR: ${bad.join(', ')}`];
}

function idList(v: string): readonly string[] {
  return problem(
    v.split(',').some((s) => s.trim() !== ''),
    'must list at least one client id',
  );
}

function secretList(v: string): readonly string[] {
  try {
    parseSecretList(v, 'value');
    return [];
  } catch (err) {
    return [`must be comma-separated whsec_… secrets (${(err as { code?: string }).code ?? 'invalid'})`];
  }
}

function sftpUrl(u: URL): readonly string[] {
  const out: string[] = [];
  if (!u.username) out.push('needs the user (sftp://user@host:port/base)');
  if (u.password) out.push('must not carry a password: the key file authenticates');
  if (!u.hostname) out.push('needs the host');
  if (u.pathname === '' || u.pathname === '/')
    out.push('needs the absolute base directory (sftp://user@host:port/base)');
  return out;
}

function ebcdicCodePage(v: string): readonly string[] {
  const name = codePageNameFor(v);
  return problem(
    name !== undefined && getCodePage(name).family === 'ebcdic',
    'must be one of the EBCDIC code pages 037, 1047, 500, 284, 1140, 1145',
  );
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const hubSettings: readonly Setting[] = [
  { name: 'PORT', description: 'HTTP port of the API', default: '8080', secret: 'none', validate: port },
  {
    name: 'LOANHUB_HOST',
    description: 'address the HTTP servers bind (0.0.0.0 in a container)',
    default: '127.0.0.1',
    secret: 'none',
  },
  {
    name: 'LOANHUB_DATA_DIR',
    description: 'data directory (SQLite store, keys, archives)',
    default: '.loanhub',
    secret: 'none',
  },
  {
    name: 'LOANHUB_TIME_ZONE',
    description: "the bank's IANA time zone (business date, cutoffs)",
    default: 'America/Lima',
    secret: 'none',
    validate: (v) => {
      try {
        assertTimeZone(v);
        return [];
      } catch {
        return [`${JSON.stringify(v)} is not a known IANA time zone`];
      }
    },
  },
  {
    name: 'LOANHUB_MAX_AMOUNT',
    description: 'largest amount of one payment, any channel',
    default: '50000.00',
    secret: 'none',
    validate: (v) => {
      const r = parseAmount(v, 10n ** 18n);
      return r.ok ? [] : [r.detail];
    },
  },
  {
    name: 'LOANHUB_REPORT_CSV_DELIMITER',
    description:
      "CSV delimiter of finance's reports (recon report, report daily) for the desks' Excel locale; --delimiter wins; unset: ; for recon, , for the daily statement",
    secret: 'none',
    validate: (v) => problem(v === ';' || v === ',', 'must be ; or ,'),
  },
  {
    name: 'LOANHUB_LOG_LEVEL',
    description: 'pino log level',
    default: 'info',
    secret: 'none',
    validate: (v) => problem(LOG_LEVELS.includes(v), `must be one of ${LOG_LEVELS.join(', ')}`),
  },
  {
    name: 'LOANHUB_ISSUER',
    description: 'iss of accepted tokens (the Cognito user pool issuer in AWS)',
    default: 'urn:loanhub:embedded-issuer',
    secret: 'none',
  },
  {
    name: 'LOANHUB_AUDIENCE',
    description: 'aud of accepted tokens; unset with an external JWKS: Cognito-style access tokens',
    secret: 'none',
  },
  {
    name: 'LOANHUB_JWKS_URL',
    description: "external IdP's JWKS URL; unset: the embedded issuer",
    secret: 'none',
    validate: urlCheck(['https:', 'http:']),
  },
  {
    name: 'LOANHUB_SCOPE_PREFIX',
    description: 'prefix stripped from scopes (Cognito resource server identifier + "/")',
    default: '',
    secret: 'none',
  },
  {
    name: 'LOANHUB_TRUST_PROXY',
    description: "Express 'trust proxy' (true, a hop count, or addresses/CIDRs) behind a load balancer",
    secret: 'none',
  },
  {
    name: 'LOANHUB_IDEMPOTENCY_TTL_HOURS',
    description: 'how long idempotency keys are kept',
    default: '24',
    secret: 'none',
    validate: wholeNumber(1, 8760),
  },
  {
    name: 'LOANHUB_IDEMPOTENCY_LEASE_SECONDS',
    description:
      'how long a key being processed stays marked in flight (409) if its instance dies before answering; longer than any request takes',
    default: '60',
    secret: 'none',
    validate: wholeNumber(5, 3600),
  },
  {
    name: 'LOANHUB_OUTBOX_LEASE_SECONDS',
    description:
      "how long outbox rows claimed by a relay stay its own if the relay dies (renewed every third of it while it lives); another instance's relay takes them after",
    default: '60',
    secret: 'none',
    validate: wholeNumber(3, 3600),
  },
  {
    name: 'LOANHUB_TOKEN_TTL_SECONDS',
    description: "lifetime of the embedded issuer's tokens",
    default: '900',
    secret: 'none',
    validate: wholeNumber(1, 86400),
  },
  {
    name: 'LOANHUB_DB_POOL_MAX',
    description: 'PostgreSQL connections per process',
    default: '10',
    secret: 'none',
    validate: wholeNumber(1, 1000),
  },
  {
    name: 'LOANHUB_DB_SCHEMA',
    description: "PostgreSQL schema of the hub's tables (made when missing); unset: the database's search_path",
    secret: 'none',
    validate: (v) => problem(/^[a-z_][a-z0-9_]{0,62}$/.test(v), 'must be a lower-case identifier'),
  },
  {
    name: 'LOANHUB_AMQP_URL',
    description: 'RabbitMQ (Amazon MQ: amqps://…:5671); unset: in-process transport',
    secret: 'url-password',
    validate: urlCheck(['amqp:', 'amqps:']),
  },
  {
    name: 'LOANHUB_AMQP_MANAGEMENT_URL',
    description: 'RabbitMQ management API (queue counts, dead letters)',
    secret: 'url-credentials',
    validate: urlCheck(['https:', 'http:']),
  },
  {
    name: 'LOANHUB_AMQP_RETRY_DELAYS_MS',
    description: 'retry schedule of the core consumers (comma-separated ms; every process must agree)',
    default: '1000,2000,5000,10000,20000,30000',
    secret: 'none',
    validate: (v) =>
      problem(
        /^\s*\d+\s*(,\s*\d+\s*)*$/.test(v) && v.split(',').every((d) => Number(d) >= 1),
        'must be comma-separated milliseconds',
      ),
  },
  {
    name: 'LOANHUB_AMQP_DELIVERY_LIMIT',
    description: 'deliveries of a command before it is dead-lettered',
    default: '20',
    secret: 'none',
    validate: wholeNumber(1, 1_000_000),
  },
  {
    name: 'LOANHUB_DB_URL',
    description: 'PostgreSQL (postgres://user:password@host:5432/db); unset: SQLite under the data dir',
    secret: 'url-password',
    validate: urlCheck(['postgres:', 'postgresql:'], (u) => problem(u.hostname !== '', 'needs the host')),
  },
  {
    name: 'LOANHUB_WEBHOOKS_ALLOW_HTTP',
    description: 'dev: allow plain http:// callback URLs off loopback (development only)',
    secret: 'none',
    validate: (v) => problem(v === 'dev', 'the only value is dev (development only)'),
  },
  {
    name: 'LOANHUB_CHANNEL_POLICIES_DIR',
    description: "directory of the deployment's own <channel>.json policies; unset: the built-in ones",
    fileFallback: 'channels/policies',
    secret: 'none',
    validate: (v) => problem(fs.existsSync(v) && fs.statSync(v).isDirectory(), `${v} is not a directory`),
  },
];

const coreSettings: readonly Setting[] = CORES.flatMap((core): Setting[] => {
  const C = core.toUpperCase();
  const defaultPort = { cash: '8181', mortgage: '8182', vehicle: '8183' }[core];
  const credentials: Setting[] =
    core === 'cash'
      ? [
          {
            name: 'LOANHUB_CORE_CASH_API_KEY',
            description: 'API key of the cash core',
            default: 'loanhub-dev-cash-key',
            secret: 'value',
          },
        ]
      : core === 'mortgage'
        ? [
            {
              name: 'LOANHUB_CORE_MORTGAGE_USER',
              description: 'basic-auth user of the mortgage core',
              default: 'loanhub',
              secret: 'none',
            },
            {
              name: 'LOANHUB_CORE_MORTGAGE_PASSWORD',
              description: 'basic-auth password of the mortgage core',
              default: 'loanhub-dev-mortgage-secret',
              secret: 'value',
            },
          ]
        : [
            {
              name: 'LOANHUB_CORE_VEHICLE_TOKEN',
              description: 'bearer token of the vehicle core',
              default: 'loanhub-dev-vehicle-token',
              secret: 'value',
            },
          ];
  return [
    {
      name: `LOANHUB_CORE_${C}_URL`,
      description: `base URL of the ${core} core; unset: its simulator`,
      default: `http://127.0.0.1:${defaultPort}`,
      secret: 'none',
      validate: urlCheck(['https:', 'http:']),
    },
    {
      name: `LOANHUB_CORE_${C}_PORT`,
      description: `port of the ${core} core simulator; unset, loanhub start takes a free one when ${defaultPort} is busy`,
      default: defaultPort,
      secret: 'none',
      validate: port,
    },
    {
      name: `LOANHUB_CORE_${C}_TIMEOUT_MS`,
      description: `timeout of one call to the ${core} core`,
      default: '5000',
      secret: 'none',
      validate: wholeNumber(1, 9_999_999),
    },
    ...credentials,
  ];
});

const channelSettings: readonly Setting[] = CHANNELS.flatMap((channel): Setting[] => {
  const C = channel.toUpperCase();
  const policy = `channel policy ${channel}.json`;
  return [
    {
      name: `LOANHUB_CHANNEL_${C}_CLIENT_IDS`,
      description: `OAuth client ids that speak for ${channel} (the Cognito app client id in AWS)`,
      fileFallback: policy,
      secret: 'none',
      validate: idList,
    },
    {
      name: `LOANHUB_CHANNEL_${C}_CALLBACK_URL`,
      description: `where ${channel}'s confirmation webhooks go`,
      fileFallback: policy,
      secret: 'none',
      validate: urlCheck(['https:', 'http:']),
    },
    {
      name: `LOANHUB_CHANNEL_${C}_ALLOWED_NETWORKS`,
      description: `source networks ${channel} may call from (comma-separated CIDRs; empty: any)`,
      fileFallback: policy,
      secret: 'none',
      validate: cidrList,
    },
    {
      name: `LOANHUB_WEBHOOK_SECRETS_${C}`,
      description: `${channel}'s webhook signing secrets (whsec_…, newest first)`,
      fileFallback: 'generated file under the data dir',
      secret: 'value',
      validate: secretList,
    },
  ];
});

const batchSettings: readonly Setting[] = [
  {
    name: 'LOANHUB_MAINFRAME_SIM_PORT',
    description: "SFTP port of loanhub start's embedded mainframe simulator (0: any free port)",
    default: '0',
    secret: 'none',
    validate: wholeNumber(0, 65535),
  },
  {
    name: 'LOANHUB_BATCH_TICK_CRON',
    description:
      'how often the night schedule looks: files due after the cutoff, responses to poll (node-cron, bank time)',
    default: '* * * * *',
    secret: 'none',
    validate: (v) => problem(/^\S+(\s+\S+){4,5}$/.test(v.trim()), 'must be a cron expression of 5 or 6 fields'),
  },
  {
    name: 'LOANHUB_BATCH_SFTP_ATTEMPTS',
    description: 'attempts of one SFTP transfer before the file is left FAILED',
    default: '5',
    secret: 'none',
    validate: wholeNumber(1, 1000),
  },
  {
    name: 'LOANHUB_BATCH_SFTP_RETRY_BASE_MS',
    description: 'first backoff between SFTP attempts (doubles, with jitter)',
    default: '1000',
    secret: 'none',
    validate: wholeNumber(1, 999_999_999),
  },
  {
    name: 'LOANHUB_BATCH_SFTP_RETRY_MAX_MS',
    description: 'longest backoff between SFTP attempts',
    default: '30000',
    secret: 'none',
    validate: wholeNumber(1, 999_999_999),
  },
  {
    name: 'LOANHUB_MAINFRAME_SFTP_URL',
    description: "the mainframe's SFTP endpoint (sftp://user@host:port/base); unset: the embedded simulator",
    secret: 'none',
    validate: urlCheck(['sftp:'], sftpUrl),
  },
  {
    name: 'LOANHUB_MAINFRAME_SFTP_KEY_FILE',
    description: 'private key file of the SFTP user (the file is secret, its path is not)',
    secret: 'none',
    validate: readableFile,
  },
  {
    name: 'LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT',
    description: "the mainframe's host key as `ssh-keygen -lf` prints it (SHA256:…)",
    secret: 'none',
    validate: (v) =>
      problem(/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v), 'must be SHA256:<43 base64 characters> (ssh-keygen -lf)'),
  },
  {
    name: 'LOANHUB_MAINFRAME_CODEPAGE',
    description: 'EBCDIC code page of the mainframe files',
    default: 'cp037',
    secret: 'none',
    validate: ebcdicCodePage,
  },
  {
    name: 'LOANHUB_BATCH_CUTOFF',
    description: 'when the night files are built (bank time)',
    default: '23:30',
    secret: 'none',
    validate: hhmm,
  },
  {
    name: 'LOANHUB_BATCH_RESPONSE_DEADLINE',
    description: "when the mainframe's responses must have arrived (next morning, bank time)",
    default: '06:00',
    secret: 'none',
    validate: hhmm,
  },
  {
    name: 'LOANHUB_BUSINESS_CALENDAR_FILE',
    description: 'business calendar (weekends, holidays per year)',
    fileFallback: 'built-in Peru calendar',
    secret: 'none',
    validate: readableFile,
  },
  {
    name: 'LOANHUB_BATCH_SCHEDULE',
    description: 'whether this process runs the night schedule',
    default: 'on',
    secret: 'none',
    validate: (v) => problem(v === 'on' || v === 'off', 'must be on or off'),
  },
];

export const SETTINGS: readonly Setting[] = Object.freeze([
  ...hubSettings,
  ...coreSettings,
  ...channelSettings,
  ...batchSettings,
]);

export const SETTING_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.name));

export function settingOf(name: string): Setting | undefined {
  return SETTINGS.find((s) => s.name === name);
}

export interface SettingProblem {
  readonly name: string;
  readonly message: string;
}

/**
 * Problems that span settings: variables that only work together, and what the hub's own loaders
 * (config.ts, the channel policies, the settlement file mappings) refuse at start-up, so the check and
 * the start agree.
 */
export function crossSettingProblems(env: NodeJS.ProcessEnv): readonly SettingProblem[] {
  const out: SettingProblem[] = [];
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  if (set('LOANHUB_JWKS_URL') && !set('LOANHUB_ISSUER'))
    out.push({ name: 'LOANHUB_ISSUER', message: "missing: LOANHUB_JWKS_URL needs the iss of the IdP's tokens" });
  if (set('LOANHUB_MAINFRAME_SFTP_URL')) {
    for (const needed of ['LOANHUB_MAINFRAME_SFTP_KEY_FILE', 'LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT']) {
      if (!set(needed)) out.push({ name: needed, message: 'missing: LOANHUB_MAINFRAME_SFTP_URL needs it' });
    }
  }
  if (set('LOANHUB_AMQP_MANAGEMENT_URL') && !set('LOANHUB_AMQP_URL'))
    out.push({ name: 'LOANHUB_AMQP_URL', message: 'missing: LOANHUB_AMQP_MANAGEMENT_URL is set without a broker' });
  const known = (message: string): string => SETTINGS.find((s) => message.includes(s.name))?.name ?? 'config';
  try {
    loadConfig(env);
  } catch (err) {
    out.push({ name: known(String((err as Error).message)), message: (err as Error).message });
  }
  try {
    loadChannelPolicies(env);
  } catch (err) {
    out.push({ name: 'LOANHUB_CHANNEL_POLICIES_DIR', message: (err as Error).message });
  }
  try {
    loadSettlementMappings();
  } catch (err) {
    out.push({ name: 'channels/settlement', message: (err as Error).message });
  }
  return out;
}

/** The value as `config check` may print it: secrets masked, URL passwords (or users too) masked. */
export function maskedValue(setting: Setting, value: string): string {
  switch (setting.secret) {
    case 'none':
      return value;
    case 'value':
      return value === '' ? '' : '****';
    case 'url-password':
    case 'url-credentials': {
      if (!URL.canParse(value)) return '****';
      const u = new URL(value);
      if (u.password) u.password = '****';
      if (setting.secret === 'url-credentials' && u.username) u.username = '****';
      return u.toString();
    }
    default: {
      const never: never = setting.secret;
      throw new Error(`unknown secret kind ${String(never)}`);
    }
  }
}
