import type { Currency } from '../../domain/money';
import type { OperatorErrorCode } from '../../domain/errors';

// Field codecs of the vehicle contract. An amount is exactly 12 digits of minor units, zero-padded
// on the left; a value that does not fit fails with a typed error and is never truncated (STYLE habit 6).

export const VEHICLE_AMOUNT_DIGITS = 12;
const MAX_AMOUNT = 10n ** BigInt(VEHICLE_AMOUNT_DIGITS) - 1n;

export class VehicleFieldError extends Error {
  readonly code: OperatorErrorCode = 'vehicle_field_invalid';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'VehicleFieldError';
  }
}

export function encodeVehicleAmount(minor: bigint): string {
  if (minor < 0n || minor > MAX_AMOUNT) {
    throw new VehicleFieldError('Amount', `amount must fit in ${VEHICLE_AMOUNT_DIGITS} digits of minor units`);
  }
  return minor.toString().padStart(VEHICLE_AMOUNT_DIGITS, '0');
}

/** undefined unless the text is exactly 12 digits. */
export function decodeVehicleAmount(text: unknown): bigint | undefined {
  return typeof text === 'string' && /^[0-9]{12}$/.test(text) ? BigInt(text) : undefined;
}

/** ISO 4217 numeric codes of the currencies the hub knows. */
const NUMERIC_CODES: Readonly<Record<Currency, string>> = Object.freeze({ PEN: '604', USD: '840' });

export function encodeVehicleCurrency(currency: Currency): string {
  return NUMERIC_CODES[currency];
}

export function decodeVehicleCurrency(text: unknown): Currency | undefined {
  if (text === NUMERIC_CODES.PEN) return 'PEN';
  if (text === NUMERIC_CODES.USD) return 'USD';
  return undefined;
}
