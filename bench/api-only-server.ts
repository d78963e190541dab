import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiApp } from '../api/app';
import { openEmbeddedIssuer } from '../api/auth/embedded-issuer';
import { createTokenVerifier } from '../api/auth/token-verifier';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { createLogger } from '../logging/logger';
import { createHubMetrics } from '../metrics/hub-metrics';
import { openHubStore } from '../store/open-store';

// The API alone for the benchmark: auth, WAF, policy, idempotency and the durable write with its outbox
// rows (SQLite synchronous=FULL, or PostgreSQL with LOANHUB_DB_URL/LOANHUB_DB_SCHEMA), and nothing else in
// the process (no relay, workers or simulators).
// Prints its port and a token on stdout. LOANHUB_CHANNEL_POLICIES_DIR gives the benchmark's policies.

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-api-bench-'));
  const catalogue = createChannelCatalogue(process.env);
  const { store } = await openHubStore({
    dataDir: dir,
    dbUrl: process.env.LOANHUB_DB_URL,
    ...(process.env.LOANHUB_DB_SCHEMA ? { schema: process.env.LOANHUB_DB_SCHEMA } : {}),
  });
  const issuer = await openEmbeddedIssuer({
    dataDir: dir,
    issuer: 'urn:bench',
    audience: 'loanhub-api',
    ttlSeconds: 3600,
    catalogue,
  });
  const app = createApiApp({
    store,
    verifier: createTokenVerifier({
      issuer: 'urn:bench',
      audience: 'loanhub-api',
      keys: { kind: 'local', jwks: () => issuer.jwks() },
    }),
    catalogue,
    inquire: async () => null,
    logger: createLogger({ level: 'warn' }),
    metrics: createHubMetrics(),
    timeZone: 'America/Lima',
    maxAmountMinor: 5_000_000n,
    idempotencyTtlMs: 24 * 3600_000,
    readiness: async () => ({ store: true }),
    onOutboxWritten: () => undefined,
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    void issuer.issueToken('app-client').then((t) => process.stdout.write(`${port} ${t.access_token}\n`));
  });
  process.on('SIGTERM', () => {
    server.close();
    void store.close().then(() => fs.rmSync(dir, { recursive: true, force: true }));
  });
}

void main();
