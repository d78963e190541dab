import path from 'node:path';
import { assertTimeZone, DEFAULT_BANK_TIME_ZONE } from '../domain/business-date';
import { parseAmount } from '../domain/money';

// Everything the hub reads from its environment, read once and validated at start-up.

export interface HubConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly timeZone: string;
  readonly maxAmountMinor: bigint;
  readonly logLevel: string;
  readonly issuer: string;
  /** Unset with an external JWKS: Cognito-style access tokens (no aud, token_use=access). */
  readonly audience: string | undefined;
  /** External IdP's JWKS; unset means the built-in issuer of the embedded mode. */
  readonly jwksUrl: URL | undefined;
  readonly scopePrefix: string;
  readonly trustProxy: string | undefined;
  readonly idempotencyTtlHours: number;
  readonly idempotencyLeaseSeconds: number;
  readonly outboxLeaseSeconds: number;
  readonly tokenTtlSeconds: number;
  readonly amqpUrl: string | undefined;
  /** PostgreSQL (LOANHUB_DB_URL); undefined keeps the embedded SQLite file in the data dir. */
  readonly dbUrl: string | undefined;
  readonly dbPoolMax: number;
  readonly dbSchema: string | undefined;
  readonly corePorts: { readonly cash: number; readonly mortgage: number; readonly vehicle: number };
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { port?: number } = {}): HubConfig {
  const port = overrides.port ?? intFrom(env, 'PORT', 8080);
  const timeZone = env.LOANHUB_TIME_ZONE ?? DEFAULT_BANK_TIME_ZONE;
  try {
    assertTimeZone(timeZone);
  } catch (cause) {
    throw new ConfigError(`LOANHUB_TIME_ZONE ${JSON.stringify(timeZone)} is not a known IANA time zone`, { cause });
  }
  let jwksUrl: URL | undefined;
  if (env.LOANHUB_JWKS_URL) {
    try {
      jwksUrl = new URL(env.LOANHUB_JWKS_URL);
    } catch (cause) {
      throw new ConfigError('LOANHUB_JWKS_URL is not a URL', { cause });
    }
    if (!env.LOANHUB_ISSUER)
      throw new ConfigError("LOANHUB_JWKS_URL needs LOANHUB_ISSUER (the iss of the IdP's tokens)");
  }
  // LOANHUB_DB_URL's form is checked by the settings catalogue (config check) and when the store opens.
  const dbUrl = env.LOANHUB_DB_URL || undefined;
  const dbSchema = env.LOANHUB_DB_SCHEMA || undefined;
  if (dbSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(dbSchema)) {
    throw new ConfigError('LOANHUB_DB_SCHEMA must be a lower-case identifier');
  }
  const max = parseAmount(env.LOANHUB_MAX_AMOUNT ?? '50000.00', 10n ** 18n);
  if (!max.ok) throw new ConfigError(`LOANHUB_MAX_AMOUNT: ${max.detail}`);
  return Object.freeze({
    port,
    host: env.LOANHUB_HOST ?? '127.0.0.1',
    dataDir: path.resolve(env.LOANHUB_DATA_DIR ?? '.loanhub'),
    timeZone,
    maxAmountMinor: max.value,
    logLevel: env.LOANHUB_LOG_LEVEL ?? 'info',
    issuer: env.LOANHUB_ISSUER ?? 'urn:loanhub:embedded-issuer',
    audience: env.LOANHUB_AUDIENCE ?? (jwksUrl ? undefined : 'loanhub-api'),
    jwksUrl,
    scopePrefix: env.LOANHUB_SCOPE_PREFIX ?? '',
    trustProxy: env.LOANHUB_TRUST_PROXY || undefined,
    idempotencyTtlHours: intFrom(env, 'LOANHUB_IDEMPOTENCY_TTL_HOURS', 24),
    idempotencyLeaseSeconds: intFrom(env, 'LOANHUB_IDEMPOTENCY_LEASE_SECONDS', 60),
    outboxLeaseSeconds: intFrom(env, 'LOANHUB_OUTBOX_LEASE_SECONDS', 60),
    tokenTtlSeconds: intFrom(env, 'LOANHUB_TOKEN_TTL_SECONDS', 900),
    amqpUrl: env.LOANHUB_AMQP_URL || undefined,
    dbUrl,
    dbPoolMax: intFrom(env, 'LOANHUB_DB_POOL_MAX', 10),
    dbSchema,
    corePorts: Object.freeze({
      cash: intFrom(env, 'LOANHUB_CORE_CASH_PORT', 8181),
      mortgage: intFrom(env, 'LOANHUB_CORE_MORTGAGE_PORT', 8182),
      vehicle: intFrom(env, 'LOANHUB_CORE_VEHICLE_PORT', 8183),
    }),
  });
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}
