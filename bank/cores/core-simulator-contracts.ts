import type { Core } from '../../domain/channel';
import { cashSimulatorContract } from './cash/cash-simulator';
import type { CoreSimulatorContract } from './core-simulator-contract';
import { mortgageSimulatorContract } from './mortgage/mortgage-simulator';
import { vehicleSimulatorContract } from './vehicle/vehicle-simulator';

// Which contract each core's simulator speaks.

export const CORE_SIMULATOR_CONTRACTS: Readonly<Record<Core, CoreSimulatorContract>> = Object.freeze({
  cash: cashSimulatorContract,
  mortgage: mortgageSimulatorContract,
  vehicle: vehicleSimulatorContract,
});
