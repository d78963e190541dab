import { coreAdapterConfigFromEnv } from '../adapters/core-adapters';
import type { CoreExtractSource } from '../adapters/core-extract-port';
import { createCoreExtractSource } from '../adapters/core-extract-sources';
import { CORES, type Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import type { ReconDeps } from '../recon/run-reconciliation';
import type { PaymentStore } from '../store/store-port';

// Builds reconciliation's dependencies for a process: the store's recon tables and each core's extract
// source from the same settings as its adapter (LOANHUB_CORE_<CORE>_URL and credentials; `fallbackUrls`
// for the embedded simulators). For the CLI and for the night scheduler:
//   await reconcileAfterResponses(createReconDeps({ store, env, logger }).deps, businessDate)

export function extractSourcesFromEnv(
  env: NodeJS.ProcessEnv,
  fallbackUrls: Partial<Record<Core, string>> = {},
): { sources: Partial<Record<Core, CoreExtractSource>>; problems: { core: Core; error: string }[] } {
  const sources: Partial<Record<Core, CoreExtractSource>> = {};
  const problems: { core: Core; error: string }[] = [];
  for (const core of CORES) {
    try {
      sources[core] = createCoreExtractSource(core, coreAdapterConfigFromEnv(core, env, fallbackUrls[core]));
    } catch (err) {
      // A core whose settings do not hold is reported and matched on the extract already loaded.
      problems.push({ core, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { sources, problems };
}

export function createReconDeps(opts: {
  readonly store: PaymentStore;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Skip the cores' extracts (match what is loaded). */
  readonly withoutExtracts?: boolean;
  readonly fallbackUrls?: Partial<Record<Core, string>>;
}): { deps: ReconDeps; problems: { core: Core; error: string }[] } {
  const recon = opts.store.recon;
  if (!recon) throw new Error(`the ${opts.store.kind} store has no reconciliation tables`);
  const wired = opts.withoutExtracts
    ? { sources: {}, problems: [] }
    : extractSourcesFromEnv(opts.env, opts.fallbackUrls ?? {});
  return {
    deps: {
      recon,
      extracts: wired.sources,
      now: opts.now ?? ((): Date => new Date()),
      logger: opts.logger.child({ part: 'recon' }),
    },
    problems: wired.problems,
  };
}
