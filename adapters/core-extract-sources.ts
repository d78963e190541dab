import type { Core } from '../domain/channel';
import { createCashExtractSource } from './cash/cash-extract';
import { CoreConfigError, createCoreHttpExchange, type CoreAdapterConfig } from './core-adapters';
import type { CoreExtractSource } from './core-extract-port';
import { createMortgageExtractSource } from './mortgage/mortgage-extract';
import { createVehicleExtractSource } from './vehicle/vehicle-extract';

// The daily-extract source of a core, from the same configuration as its adapter
// (`coreAdapterConfigFromEnv(core, env, fallbackBaseUrl?)`): same URL, timeout and credentials.

export function createCoreExtractSource(core: Core, config: CoreAdapterConfig): CoreExtractSource {
  const exchange = createCoreHttpExchange(core, config);
  const credentials = config.credentials;
  switch (core) {
    case 'cash':
      if (credentials.kind !== 'api_key') break;
      return createCashExtractSource(exchange, credentials.apiKey);
    case 'mortgage':
      if (credentials.kind !== 'basic') break;
      return createMortgageExtractSource(exchange, credentials.username, credentials.password);
    case 'vehicle':
      if (credentials.kind !== 'token') break;
      return createVehicleExtractSource(exchange, credentials.token);
    default: {
      const never: never = core;
      throw new Error(`unknown core ${String(never)}`);
    }
  }
  throw new CoreConfigError(`${core}.credentials`, `the ${core} core does not take ${credentials.kind} credentials`);
}
