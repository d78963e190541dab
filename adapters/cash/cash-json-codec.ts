// The cash core carries cents as JSON integers. Writing them goes from bigint to digits directly, so
// an amount never passes through a JavaScript number on the way out; reading accepts only safe
// integers (below 2^53 a JSON number is exact), which zod's z.int() enforces.

export type CashJsonValue = string | bigint;

/** Serialises a flat object whose values are strings or integer amounts. */
export function encodeCashJson(fields: Readonly<Record<string, CashJsonValue>>): string {
  const parts = Object.entries(fields).map(([key, value]) => {
    const encoded = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    return `${JSON.stringify(key)}:${encoded}`;
  });
  return `{${parts.join(',')}}`;
}

/** A JSON number already checked to be a safe integer, as bigint. */
export function centsFromJson(value: number): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`cents value ${value} is not a safe integer`);
  return BigInt(value);
}
