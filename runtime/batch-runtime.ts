import fs from 'node:fs';
import { embeddedConnectionFile } from '../bank/mainframe/mainframe-service';
import type { BatchDeps, BatchProgress } from '../batch/batch-deps';
import { batchSettingsFromEnv, type BatchSettings } from '../batch/batch-settings';
import { parseSftpSettings, type SftpSettings } from '../batch/sftp-settings';
import { createSsh2SftpConnector } from '../batch/ssh2-sftp-agent';
import { loadBusinessCalendar } from '../config/business-calendar-file';
import type { HubConfig } from '../config/config';
import type { Logger } from '../logging/logger';
import type { BatchMetrics } from '../metrics/batch-metrics';
import type { PaymentStore } from '../store/store-port';
import { coreAdapterConfigFromEnv } from '../adapters/core-adapters';
import type { CoreExtractSource } from '../adapters/core-extract-port';
import { createCoreExtractSource } from '../adapters/core-extract-sources';
import { CORES, type Core } from '../domain/channel';
import { reconcileAfterResponses } from '../recon/recon-scheduler';

// Builds the batch bridge's dependencies for a process: the SFTP endpoint is LOANHUB_MAINFRAME_SFTP_URL
// when set, else the embedded mainframe simulator's (what `loanhub start` wrote under the data dir).

export function sftpSettingsFor(settings: BatchSettings, dataDir: string): SftpSettings | null {
  if (settings.sftp) return settings.sftp;
  const file = embeddedConnectionFile(dataDir);
  if (!fs.existsSync(file)) return null;
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { url: string; keyFile: string; hostFingerprint: string };
  return parseSftpSettings(c.url, c.keyFile, c.hostFingerprint);
}

export function createBatchDeps(opts: {
  readonly env: NodeJS.ProcessEnv;
  readonly config: HubConfig;
  readonly store: PaymentStore;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly metrics?: BatchMetrics;
  readonly onEventWritten?: () => void;
  readonly progress?: BatchProgress;
  readonly settings?: BatchSettings;
  /**
   * Reconcile a date once every file of it has its response applied (default on when the store has
   * the reconciliation tables). `coreUrl` names the embedded simulators' URLs, read when the time comes.
   */
  readonly reconcile?: false | { readonly coreUrl?: (core: Core) => string | undefined };
}): { deps: BatchDeps; settings: BatchSettings } {
  const settings = opts.settings ?? batchSettingsFromEnv(opts.env);
  const sftp = sftpSettingsFor(settings, opts.config.dataDir);
  const deps: BatchDeps = {
    store: opts.store,
    connector: sftp ? createSsh2SftpConnector(sftp) : null,
    page: settings.page,
    dataDir: opts.config.dataDir,
    timeZone: opts.config.timeZone,
    calendar: loadBusinessCalendar(opts.env),
    now: opts.now ?? ((): Date => new Date()),
    logger: opts.logger.child({ part: 'batch' }),
    retry: settings.retry,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.onEventWritten ? { onEventWritten: opts.onEventWritten } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  };
  const recon = opts.store.recon;
  if (recon && opts.reconcile !== false) {
    const coreUrl = opts.reconcile?.coreUrl;
    const now = deps.now;
    const logger = opts.logger.child({ part: 'recon' });
    return {
      deps: {
        ...deps,
        afterResponses: async (businessDate) => {
          await reconcileAfterResponses(
            { recon, extracts: extractSources(opts.env, logger, coreUrl), now, logger },
            businessDate,
          );
        },
        // A response past its deadline: the date is reconciled once after the deadline (its payments
        // show as applied but not posted), unless a run started after it already (another process, a
        // restart, or finance's own `recon run`). The response, when it comes, reconciles it again.
        afterDeadline: async (businessDate, deadline) => {
          const last = await recon.latestRun(businessDate).catch(() => null);
          if (last && Date.parse(last.startedAt) >= deadline.getTime()) return;
          await reconcileAfterResponses(
            { recon, extracts: extractSources(opts.env, logger, coreUrl), now, logger },
            businessDate,
          );
        },
      },
      settings,
    };
  }
  return { deps, settings };
}

/** Each core's daily-extract source with its adapter's settings; a core that cannot be reached is left out (and logged). */
function extractSources(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  coreUrl?: (core: Core) => string | undefined,
): Partial<Record<Core, CoreExtractSource>> {
  const sources: Partial<Record<Core, CoreExtractSource>> = {};
  for (const core of CORES) {
    try {
      sources[core] = createCoreExtractSource(core, coreAdapterConfigFromEnv(core, env, coreUrl?.(core)));
    } catch (err) {
      logger.warn({ core, err: err instanceof Error ? err.message : String(err) }, 'no extract source for the core');
    }
  }
  return sources;
}
