// The vehicle core's wire contract (crédito vehicular): one XML endpoint, every answer HTTP 200 with a
// two-digit ResultCode in the style of ISO 8583 response codes; the credential is a token inside the
// request's <Auth> element. Amounts are 12-digit zero-padded minor units, currencies ISO 4217 numeric.

export const VEHICLE_TOKEN_ENV = 'LOANHUB_CORE_VEHICLE_TOKEN';
/** Development default; the simulator and the adapter both fall back to it when the variable is unset. */
export const DEFAULT_VEHICLE_TOKEN = 'loanhub-dev-vehicle-token';

export const VEHICLE_GATEWAY_PATH = '/vehicle/gateway';

/** INQ inquiry, PAY payment, REV reversal, EXT the daily extract of a <BusinessDate> (YYYYMMDD). */
export const VEHICLE_OPERATIONS = ['INQ', 'PAY', 'REV', 'EXT'] as const;
/** Root of the EXT answer: <ResultCode>, <BusinessDate>, <RecordCount> and one <Record> per movement. */
export const VEHICLE_EXTRACT_ROOT = 'VehicleDailyExtract';
/** <Type> of an extract record: PAY a payment applied, REV a reversal done. */
export type VehicleExtractType = 'PAY' | 'REV';
export type VehicleOperation = (typeof VEHICLE_OPERATIONS)[number];

/** Every result code the vehicle core answers. */
export const VEHICLE_RESULT_CODES = Object.freeze({
  '00': 'APPROVED',
  '13': 'INVALID AMOUNT',
  '14': 'LOAN NOT FOUND',
  '25': 'ORIGINAL NOT FOUND',
  '30': 'FORMAT ERROR',
  '51': 'LOAN CLOSED',
  '52': 'CURRENCY MISMATCH',
  '61': 'EXCEEDS AMOUNT DUE',
  '63': 'SECURITY VIOLATION',
  '94': 'DUPLICATE TRACE REFERENCE',
  '96': 'SYSTEM MALFUNCTION',
} as const);
export type VehicleResultCode = keyof typeof VEHICLE_RESULT_CODES;

export function isVehicleResultCode(value: unknown): value is VehicleResultCode {
  return typeof value === 'string' && Object.hasOwn(VEHICLE_RESULT_CODES, value);
}

/** Loan status on the wire: A(ctive) or C(losed). */
export type VehicleLoanStatus = 'A' | 'C';

export function vehicleTokenFromEnv(env: NodeJS.ProcessEnv): string {
  return env[VEHICLE_TOKEN_ENV] ?? DEFAULT_VEHICLE_TOKEN;
}
