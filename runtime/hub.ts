import { loadBusinessCalendar } from '../config/business-calendar-file';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createCoreAdapter } from '../adapters/core-adapter-factory';
import { coreAdapterConfigFromEnv } from '../adapters/core-adapters';
import { createCoreCommandHandler } from '../adapters/core-consumer';
import type { CoreAdapter, LoanInquiry } from '../adapters/core-port';
import { simulatorPortEnvName, startCoreSimulators, type CoreSimulator } from '../bank/cores/core-simulator-server';
import { withResilience } from '../adapters/resilient-core-adapter';
import { createApiApp } from '../api/app';
import { openEmbeddedIssuer, type EmbeddedIssuer } from '../api/auth/embedded-issuer';
import { createTokenVerifier } from '../api/auth/token-verifier';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { loadSettlementMappings } from '../channels/settlement/settlement-mapping';
import type { HubConfig } from '../config/config';
import { CORES, type Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import { commandOutcomeObserver, createCoreMetrics } from '../metrics/core-metrics';
import { createHubMetrics, type HubMetrics } from '../metrics/hub-metrics';
import type { DeadLetterStore } from '../outbox/dead-letter-port';
import { createInProcessTransport } from '../outbox/in-process-transport';
import { createOutboxRelay, type OutboxRelay } from '../outbox/outbox-relay';
import { createRabbitMqInquiryClient, serveRabbitMqInquiries } from '../outbox/rabbitmq-inquiry';
import { createRabbitMqTransport } from '../outbox/rabbitmq-transport';
import { retryScheduleFromEnv } from '../outbox/retry-schedule';
import type { Subscription, Transport } from '../outbox/transport-port';
import { recordCoreResult } from '../payments/record-core-result';
import { openHubStore, type OpenedStore } from '../store/open-store';
import type { PaymentStore } from '../store/store-port';
import { createWebhookDispatcher, type WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { startMainframeService, type MainframeService } from '../bank/mainframe/mainframe-service';
import { batchSettingsFromEnv } from '../batch/batch-settings';
import { createNightScheduler, type NightScheduler } from '../batch/night-scheduler';
import { createBatchMetrics } from '../metrics/batch-metrics';
import { createQueueMetrics, inProcessDepthSource, type QueueDepthSource } from '../metrics/queue-metrics';
import { createWebhookMetrics } from '../metrics/webhook-metrics';
import { reportQueues } from '../outbox/rabbitmq-admin';
import { createBatchDeps } from './batch-runtime';
import { startIdempotencyPurge } from './idempotency-purge';
import { writeProblem } from './plain-problem';

// The composition root. One function builds any of the hub's processes from its roles:
//   loanhub start   api + relay + results + workers for every core + simulators (one process)
//   loanhub serve   api + relay + results                (needs LOANHUB_AMQP_URL)
//   loanhub work    workers for some cores               (needs LOANHUB_AMQP_URL)
// Parts start in dependency order and stop in reverse; SIGTERM stops intake first and lets in-flight
// work finish.

export interface HubRoles {
  readonly api: boolean;
  readonly relay: boolean;
  readonly results: boolean;
  readonly workers: readonly Core[];
  readonly simulators: boolean;
  /** The nightly mainframe batch's schedule (and, with simulators, the embedded mainframe). */
  readonly batch?: boolean;
}

export const ALL_ROLES: HubRoles = {
  api: true,
  relay: true,
  results: true,
  workers: CORES,
  simulators: true,
  batch: true,
};

export interface RunningHub {
  /** The API's base URL, or the metrics/health URL of a worker process. */
  readonly url: string;
  readonly store: PaymentStore | null;
  readonly transport: Transport;
  readonly relay: OutboxRelay | null;
  readonly issuer: EmbeddedIssuer;
  readonly simulators: readonly CoreSimulator[];
  readonly metrics: HubMetrics;
  /** The embedded mainframe simulator (start on its defaults), and the night's scheduler when it runs. */
  readonly mainframe: MainframeService | null;
  readonly scheduler: NightScheduler | null;
  stop(): Promise<void>;
}

export interface StartHubOptions {
  readonly config: HubConfig;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly roles?: HubRoles;
  /** The clock of the API's policy checks (tests move it to check hours and cutoffs). */
  readonly now?: () => Date;
}

export async function startHub(opts: StartHubOptions): Promise<RunningHub> {
  const { config, logger } = opts;
  const env = opts.env ?? process.env;
  const roles = opts.roles ?? ALL_ROLES;
  const now = opts.now ?? ((): Date => new Date());
  const split = !(roles.api && roles.relay && roles.results && roles.workers.length === CORES.length);
  if (split && !config.amqpUrl) {
    throw new Error('running the API and the core workers in separate processes needs a broker: set LOANHUB_AMQP_URL');
  }
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    while (stack.length > 0) {
      const stop = stack.pop();
      if (stop) await stop().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    }
  };
  try {
    const needsStore = roles.api || roles.relay || roles.results;
    // LOANHUB_DB_URL: PostgreSQL, shared by every instance; else the SQLite file in the data dir.
    const opened: OpenedStore | null = needsStore
      ? await openHubStore({
          dataDir: config.dataDir,
          dbUrl: config.dbUrl,
          poolMax: config.dbPoolMax,
          ...(config.dbSchema !== undefined ? { schema: config.dbSchema } : {}),
        })
      : null;
    const store = opened?.store ?? null;
    if (store) stack.push(() => store.close());
    // SQLite is one node's database: this process is the only relay and dispatcher on it.
    const exclusive = store?.kind === 'sqlite';
    if (store && roles.api) {
      const purge = startIdempotencyPurge({ store, logger, now });
      stack.push(async () => purge.stop());
    }
    const metrics = createHubMetrics();
    const coreMetrics = createCoreMetrics(
      metrics.registry,
      store ? { outboxStats: () => store.outboxStats(), now } : {},
    );

    const catalogue = createChannelCatalogue(env);
    // The channels' settlement file layouts are reviewed config too: a broken one stops the start.
    loadSettlementMappings();
    // Confirmation webhooks go out from the process that owns the store and its outbox.
    let webhooks: WebhookDispatcher | null = null;
    if (roles.relay && store) {
      const w = createWebhookDispatcher({
        store,
        exclusive,
        catalogue,
        logger,
        env,
        dataDir: config.dataDir,
        now,
        metrics: createWebhookMetrics(metrics.registry, { deliveries: store.deliveries, now }),
      });
      w.start();
      stack.push(() => w.stop());
      webhooks = w;
    }

    // The nightly mainframe batch: on the embedded defaults a simulated mainframe served over SFTP by
    // the ssh2 server (the hub connects to it like to the real one); with LOANHUB_MAINFRAME_SFTP_URL the
    // bank's server and no simulator. `loanhub start` runs the schedule; production runs `batch schedule`.
    const simulatorUrls = new Map<Core, string>();
    let mainframe: MainframeService | null = null;
    let scheduler: NightScheduler | null = null;
    if (store && roles.relay) {
      const batchMetrics = createBatchMetrics(metrics.registry, store.batch);
      if (roles.batch) {
        const settings = batchSettingsFromEnv(env);
        if (roles.simulators && !settings.sftp) {
          const m = await startMainframeService({
            dataDir: config.dataDir,
            page: settings.page,
            host: config.host,
            sftpPort: Number(env.LOANHUB_MAINFRAME_SIM_PORT || 0),
            log: (msg, fields) => logger.child({ part: 'mainframe-simulator' }).info(fields ?? {}, msg),
          });
          stack.push(() => m.close());
          mainframe = m;
        }
        if (settings.schedule) {
          const { deps } = createBatchDeps({
            env,
            config,
            store,
            logger,
            now,
            metrics: batchMetrics,
            onEventWritten: () => webhooks?.notify(),
            settings,
            // Reconciliation after the night fetches the cores' extracts; on the embedded defaults
            // from the simulators this process starts below (their URLs are known once they listen).
            reconcile: { coreUrl: (core) => simulatorUrls.get(core) },
          });
          const s = createNightScheduler(deps, {
            cutoffMinute: settings.cutoffMinute,
            deadlineMinute: settings.deadlineMinute,
            cron: settings.tickCron,
          });
          s.start();
          stack.push(() => s.stop());
          scheduler = s;
        }
      }
    }

    const simulators = roles.simulators
      ? await startCoreSimulators({
          dataDir: config.dataDir,
          host: config.host,
          ports: config.corePorts,
          // A default port nobody chose gives way when it is busy (two embedded hubs on one machine); a
          // port set in its variable fails with a message naming that variable.
          preferredOnly: CORES.filter((core) => !env[simulatorPortEnvName(core)]),
          onPortTaken: ({ core, busyPort, url }) =>
            logger.warn(
              { core, busyPort, url },
              `${core} core simulator: port ${busyPort} is in use, listening on ${url} instead (${simulatorPortEnvName(core)} chooses)`,
            ),
          env,
        })
      : [];
    for (const sim of simulators) simulatorUrls.set(sim.core, sim.url);
    stack.push(async () => {
      await Promise.all(simulators.map((s) => s.close()));
    });
    const adapters = new Map<Core, CoreAdapter>();
    for (const core of CORES) {
      const sim = simulators.find((s) => s.core === core);
      const adapter = createCoreAdapter(core, coreAdapterConfigFromEnv(core, env, sim?.url));
      adapters.set(core, withResilience(adapter, { logger, metrics: coreMetrics }));
    }
    const adapterOf = (core: Core): CoreAdapter => {
      const adapter = adapters.get(core);
      if (!adapter) throw new Error(`no adapter for core ${core}`);
      return adapter;
    };

    const openDeadLetters = (): DeadLetterStore => {
      if (!opened) throw new Error('the in-process transport needs the store of this process');
      const letters = opened.openDeadLetters();
      stack.push(() => letters.close());
      return letters;
    };
    let queueDepths: QueueDepthSource;
    let transport: Transport;
    const amqpUrl = config.amqpUrl;
    if (amqpUrl) {
      transport = createRabbitMqTransport({
        url: amqpUrl,
        logger: logger.child({ part: 'transport' }),
        observer: commandOutcomeObserver(coreMetrics),
        ...retryScheduleFromEnv(env),
      });
      // What `loanhub queues` shows, read from the broker at each scrape.
      queueDepths = async () =>
        (
          await reportQueues(amqpUrl, {
            retryDelaysMs: retryScheduleFromEnv(env).retryDelaysMs,
            managementUrl: env.LOANHUB_AMQP_MANAGEMENT_URL || undefined,
          })
        ).counts.map((c) => ({ ...c, lane: c.core }));
    } else {
      const inProcess = createInProcessTransport({
        logger: logger.child({ part: 'transport' }),
        // the same schedule variables as RabbitMQ; dead letters durable in the hub's file (loanhub dlq)
        retryDelaysMs: retryScheduleFromEnv(env).retryDelaysMs,
        maxAttempts: retryScheduleFromEnv(env).deliveryLimit,
        deadLetters: openDeadLetters(),
        observer: commandOutcomeObserver(coreMetrics),
      });
      transport = inProcess;
      queueDepths = inProcessDepthSource(inProcess);
    }
    await transport.start();
    stack.push(() => transport.close());
    // Queue depths and dead letters per core at each scrape (bounded: a slow broker never hangs /metrics).
    createQueueMetrics(metrics.registry, queueDepths, {
      onError: (err) =>
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics: could not read queue depths'),
    });

    const subscriptions: Subscription[] = [];
    // Cancelled before the transport closes: stop taking messages, finish the ones in hand.
    stack.push(async () => {
      await Promise.all(subscriptions.map((s) => s.cancel()));
    });
    if (roles.results && store) {
      subscriptions.push(
        await transport.consumeResults((message) =>
          recordCoreResult({ store, logger, now, onEventWritten: () => webhooks?.notify() }, message),
        ),
      );
    }
    for (const core of roles.workers) {
      const handler = createCoreCommandHandler({
        core,
        adapter: adapterOf(core),
        transport,
        logger,
        metrics: coreMetrics,
      });
      subscriptions.push(await transport.consumeCommands(core, handler));
    }

    // Debt inquiry: straight through the adapter when this process has the core's workers (or there is
    // no broker); otherwise request/reply over RabbitMQ to the process that has them.
    let inquire = (core: Core, loanNumber: string): Promise<LoanInquiry | null> => adapterOf(core).inquire(loanNumber);
    if (config.amqpUrl && roles.workers.length > 0) {
      const served = await serveRabbitMqInquiries({ url: config.amqpUrl, cores: roles.workers, inquire, logger });
      stack.push(() => served.close());
    }
    if (config.amqpUrl && roles.api && roles.workers.length < CORES.length) {
      const client = createRabbitMqInquiryClient({ url: config.amqpUrl, logger });
      stack.push(() => client.close());
      const local = new Set<Core>(roles.workers);
      const direct = inquire;
      inquire = (core, loanNumber) => (local.has(core) ? direct(core, loanNumber) : client.inquire(core, loanNumber));
    }

    let relay: OutboxRelay | null = null;
    if (roles.relay && store) {
      const r = createOutboxRelay({
        store,
        transport,
        logger: logger.child({ part: 'relay' }),
        now,
        exclusive,
        metrics: coreMetrics,
        leaseMs: config.outboxLeaseSeconds * 1000,
      });
      r.start();
      stack.push(() => r.stop());
      relay = r;
    }

    const issuer = await openEmbeddedIssuer({
      dataDir: config.dataDir,
      issuer: config.issuer,
      audience: config.audience ?? 'loanhub-api',
      ttlSeconds: config.tokenTtlSeconds,
      catalogue,
    });

    let app: Express | ((req: http.IncomingMessage, res: http.ServerResponse) => void);
    if (roles.api && store) {
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
      const onOutboxWritten = (): void => {
        relay?.notify();
        webhooks?.notify();
      };
      app = createApiApp({
        store,
        verifier,
        catalogue,
        ...(config.jwksUrl ? {} : { issuer }),
        metrics,
        ...(config.trustProxy !== undefined ? { trustProxy: trustProxyOf(config.trustProxy) } : {}),
        now,
        inquire,
        logger,
        timeZone: config.timeZone,
        calendar: loadBusinessCalendar(env),
        maxAmountMinor: config.maxAmountMinor,
        idempotencyTtlMs: config.idempotencyTtlHours * 3600_000,
        idempotencyLeaseMs: config.idempotencyLeaseSeconds * 1000,
        readiness: async () => ({
          store: await store.ping().then(
            () => true,
            () => false,
          ),
          transport: transport.isReady(),
        }),
        onOutboxWritten,
      });
    } else {
      app = workerEndpoints(metrics, transport);
    }
    const server = await listen(app, config.port, config.host);
    stack.push(() => closeServer(server));
    const address = server.address() as AddressInfo;
    const url = `http://${config.host}:${address.port}`;
    logger.info(
      {
        url,
        dataDir: config.dataDir,
        transport: transport.kind,
        store: store?.kind ?? 'none',
        roles: { ...roles, workers: [...roles.workers] },
      },
      'loanhub is up',
    );
    return { url, store, transport, relay, issuer, simulators, metrics, mainframe, scheduler, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A worker process serves only /healthz, /readyz and /metrics. */
function workerEndpoints(
  metrics: HubMetrics,
  transport: Transport,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text);
        },
        () => writeProblem(res, 'metrics_failed', 'metrics could not be collected'),
      );
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url === '/readyz') {
      const ready = transport.isReady();
      res
        .writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks: { transport: ready } }));
      return;
    }
    writeProblem(res, 'not_found', 'a worker serves /healthz, /readyz and /metrics');
  };
}

function listen(
  app: Express | ((req: http.IncomingMessage, res: http.ServerResponse) => void),
  port: number,
  host: string,
): Promise<Server> {
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
