import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

// The XML envelopes of the vehicle contract. Both directions are flat: a root element whose children
// are text-only fields (plus <Auth><Token> in requests). Values stay strings: parseTagValue is off so
// "000000012550" or "00" never turns into a number.

export const VEHICLE_REQUEST_ROOT = 'VehicleLoanRequest';
export const VEHICLE_RESPONSE_ROOT = 'VehicleLoanResponse';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
});

/** Text fields, nested elements, and repeated elements (an array: one element per entry, as in the daily extract). */
export type VehicleValue = string | { readonly [name: string]: VehicleValue } | readonly VehicleValue[];
export type VehicleFields = Readonly<Record<string, VehicleValue>>;

export function buildVehicleMessage(root: string, fields: VehicleFields): string {
  return `${XML_DECLARATION}${String(builder.build({ [root]: fields }))}`;
}

export type VehicleParse =
  | { readonly ok: true; readonly fields: ReadonlyMap<string, unknown> }
  | { readonly ok: false; readonly detail: string };

/**
 * Reads a message with the expected root into its child fields. A DOCTYPE is refused outright: the
 * contract has no use for one and it is how entity-expansion attacks arrive.
 */
export function parseVehicleMessage(root: string, xml: string): VehicleParse {
  if (/<!DOCTYPE/i.test(xml)) return { ok: false, detail: 'DOCTYPE is not allowed' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, detail: `not well-formed XML (line ${valid.err.line}: ${valid.err.msg})` };
  const document: unknown = parser.parse(xml);
  if (typeof document !== 'object' || document === null) return { ok: false, detail: 'empty document' };
  const body: unknown = Reflect.get(document, root);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, detail: `root element must be <${root}> with child elements` };
  }
  return { ok: true, fields: new Map(Object.entries(body)) };
}

/** A text field, or undefined when absent, repeated or nested. */
export function textField(fields: ReadonlyMap<string, unknown>, name: string): string | undefined {
  const value = fields.get(name);
  return typeof value === 'string' ? value : undefined;
}
