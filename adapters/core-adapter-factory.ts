import type { Core } from '../domain/channel';
import { createCashAdapter } from './cash/cash-adapter';
import { CoreConfigError, createCoreHttpExchange, type CoreAdapterConfig, type CoreCredentials } from './core-adapters';
import type { CoreAdapter } from './core-port';
import { createMortgageAdapter } from './mortgage/mortgage-adapter';
import { createVehicleAdapter } from './vehicle/vehicle-adapter';

// Builds the adapter for a core from its configuration. Apart from core-adapters.ts (configuration and
// the HTTP exchange), which the three adapters import: a factory there would make an import cycle.

function wrongCredentials(core: Core, expected: CoreCredentials['kind'], got: CoreCredentials['kind']): never {
  throw new CoreConfigError(`${core}.credentials`, `the ${core} core takes ${expected} credentials, not ${got}`);
}

/** The adapter for one core, speaking that core's contract through a timed HTTP exchange. */
export function createCoreAdapter(core: Core, config: CoreAdapterConfig): CoreAdapter {
  const exchange = createCoreHttpExchange(core, config);
  const credentials = config.credentials;
  switch (core) {
    case 'cash':
      if (credentials.kind !== 'api_key') return wrongCredentials(core, 'api_key', credentials.kind);
      return createCashAdapter(exchange, credentials.apiKey);
    case 'mortgage':
      if (credentials.kind !== 'basic') return wrongCredentials(core, 'basic', credentials.kind);
      return createMortgageAdapter(exchange, credentials.username, credentials.password);
    case 'vehicle':
      if (credentials.kind !== 'token') return wrongCredentials(core, 'token', credentials.kind);
      return createVehicleAdapter(exchange, credentials.token);
    default: {
      const never: never = core;
      throw new Error(`unknown core ${String(never)}`);
    }
  }
}
