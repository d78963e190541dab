import http, { type Server } from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCoreAdapter, coreAdapterConfigFromEnv } from '../adapters/core-adapters';
import { createCoreCommandHandler } from '../adapters/core-consumer';
import type { CoreAdapter } from '../adapters/core-port';
import { startCoreSimulators, type CoreSimulator } from '../adapters/core-simulators';
import { createApiApp } from '../api/app';
import { openEmbeddedIssuer, type EmbeddedIssuer } from '../api/auth/embedded-issuer';
import { createTokenVerifier } from '../api/auth/token-verifier';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import type { HubConfig } from '../config/config';
import { CORES, type Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import { createHubMetrics } from '../metrics/hub-metrics';
import { createInProcessTransport } from '../outbox/in-process-transport';
import { createOutboxRelay, type OutboxRelay } from '../outbox/outbox-relay';
import type { Subscription, Transport } from '../outbox/transport-port';
import { recordCoreResult } from '../payments/record-core-result';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import type { PaymentStore } from '../store/store-port';

// The embedded hub: store, transport, relay, one consumer per core, the core simulators and the API in
// one process (`loanhub start`). Parts start in dependency order and stop in reverse.

export interface RunningHub {
  readonly url: string;
  readonly store: PaymentStore;
  readonly transport: Transport;
  readonly relay: OutboxRelay;
  readonly issuer: EmbeddedIssuer;
  readonly simulators: readonly CoreSimulator[];
  stop(): Promise<void>;
}

export interface StartHubOptions {
  readonly config: HubConfig;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Start the three core simulators in this process (the embedded default). */
  readonly simulators?: boolean;
  /** The clock of the API's policy checks (tests move it to check hours and cutoffs). */
  readonly now?: () => Date;
}

export async function startHub(opts: StartHubOptions): Promise<RunningHub> {
  const { config, logger } = opts;
  const env = opts.env ?? process.env;
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    while (stack.length > 0) {
      const stop = stack.pop();
      if (stop) await stop().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    }
  };
  try {
    const store = openSqliteStore({ file: path.join(config.dataDir, 'hub.db') });
    stack.push(() => store.close());

    const simulators =
      opts.simulators === false
        ? []
        : await startCoreSimulators({ dataDir: config.dataDir, host: config.host, ports: config.corePorts });
    stack.push(async () => {
      await Promise.all(simulators.map((s) => s.close()));
    });
    const adapters = new Map<Core, CoreAdapter>();
    for (const core of CORES) {
      const sim = simulators.find((s) => s.core === core);
      adapters.set(core, createCoreAdapter(core, coreAdapterConfigFromEnv(core, env, sim?.url)));
    }
    const adapterOf = (core: Core): CoreAdapter => {
      const adapter = adapters.get(core);
      if (!adapter) throw new Error(`no adapter for core ${core}`);
      return adapter;
    };

    const transport = createInProcessTransport({ logger: logger.child({ part: 'transport' }) });
    await transport.start();
    stack.push(() => transport.close());

    const subscriptions: Subscription[] = [];
    stack.push(async () => {
      await Promise.all(subscriptions.map((s) => s.cancel()));
    });
    const now = opts.now ?? ((): Date => new Date());
    subscriptions.push(await transport.consumeResults((message) => recordCoreResult({ store, logger, now }, message)));
    for (const core of CORES) {
      const handler = createCoreCommandHandler({ core, adapter: adapterOf(core), transport, logger });
      subscriptions.push(await transport.consumeCommands(core, handler));
    }

    const relay = createOutboxRelay({
      store,
      transport,
      logger: logger.child({ part: 'relay' }),
      now,
      exclusive: true,
    });
    relay.start();
    stack.push(() => relay.stop());

    const catalogue = createChannelCatalogue(env);
    const issuer = await openEmbeddedIssuer({
      dataDir: config.dataDir,
      issuer: config.issuer,
      audience: config.audience ?? 'loanhub-api',
      ttlSeconds: config.tokenTtlSeconds,
      catalogue,
    });
    const verifier = config.jwksUrl
      ? createTokenVerifier({
          issuer: config.issuer,
          ...(config.audience !== undefined ? { audience: config.audience } : {}),
          keys: { kind: 'remote', url: config.jwksUrl },
          scopePrefix: config.scopePrefix,
        })
      : createTokenVerifier({
          issuer: issuer.issuer,
          audience: issuer.audience,
          keys: { kind: 'local', jwks: () => issuer.jwks(), refresh: () => issuer.refresh() },
        });
    const metrics = createHubMetrics();
    const app = createApiApp({
      store,
      verifier,
      catalogue,
      ...(config.jwksUrl ? {} : { issuer }),
      metrics,
      ...(config.trustProxy !== undefined ? { trustProxy: trustProxyOf(config.trustProxy) } : {}),
      now,
      inquire: (core, loanNumber) => adapterOf(core).inquire(loanNumber),
      logger,
      timeZone: config.timeZone,
      maxAmountMinor: config.maxAmountMinor,
      idempotencyTtlMs: config.idempotencyTtlHours * 3600_000,
      readiness: async () => ({
        store: await store.ping().then(
          () => true,
          () => false,
        ),
        transport: transport.isReady(),
      }),
      onOutboxWritten: () => relay.notify(),
    });
    const server = await listen(app, config.port, config.host);
    stack.push(() => closeServer(server));
    const address = server.address() as AddressInfo;
    const url = `http://${config.host}:${address.port}`;
    logger.info({ url, dataDir: config.dataDir, transport: transport.kind, store: store.kind }, 'loanhub is up');
    return { url, store, transport, relay, issuer, simulators, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.keepAliveTimeout = 5_000;
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function trustProxyOf(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
