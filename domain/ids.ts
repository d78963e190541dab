import { randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// Payment ids are UUIDv7 (RFC 9562): sortable by creation time, unguessable in their random tail.
export function newPaymentId(): string {
  return uuidv7();
}

export const PAYMENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Receipt numbers are what a cashier reads to a customer: channel letter, business date and a
 * random part, e.g. `A-20261123-4821-0937`. Uniqueness is enforced by the store.
 */
export function newReceiptNumber(channel: string, businessDate: string): string {
  const letter = channel.charAt(0).toUpperCase();
  const random = `${randomInt(0, 10000).toString().padStart(4, '0')}-${randomInt(0, 10000).toString().padStart(4, '0')}`;
  return `${letter}-${businessDate.replaceAll('-', '')}-${random}`;
}
