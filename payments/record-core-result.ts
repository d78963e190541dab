import type { PaymentEvent } from '../domain/payment-state';
import type { Logger } from '../logging/logger';
import type { CoreResultMessage } from '../domain/core-messages';
import type { PaymentStore } from '../store/store-port';
import { paymentEventRow } from './payment-event';

/**
 * Records what a core answered. Idempotent through the state machine: a repeated result leaves the
 * payment as it is; a result that contradicts the payment's state is logged, never applied.
 */
export async function recordCoreResult(
  deps: { store: PaymentStore; logger: Logger; now: () => Date; onEventWritten?: () => void },
  message: CoreResultMessage,
): Promise<void> {
  const event = eventOf(message);
  const outcome = await deps.store.recordEvent({
    paymentId: message.paymentId,
    event,
    ...(message.body.coreReference ? { coreReference: message.body.coreReference } : {}),
    at: deps.now().toISOString(),
    outbox: (after) => [paymentEventRow(after, message.type === 'reversal_rejected' ? 'reversal_refused' : 'status')],
  });
  const log = deps.logger.child({ paymentId: message.paymentId, core: message.core, result: message.type });
  if (outcome.kind !== 'done') {
    log.error({ outcome: outcome.kind }, 'core result for a payment the hub does not know');
    return;
  }
  const r = outcome.result;
  if (r.kind === 'changed') deps.onEventWritten?.();
  if (r.kind === 'changed') log.info({ status: r.status, reason: r.reason ?? undefined }, 'payment status changed');
  else if (r.kind === 'unchanged') log.info({ status: r.status }, 'repeated core result ignored');
  else log.error({ status: r.status, event: r.event }, 'core result contradicts the payment state; not applied');
}

function eventOf(message: CoreResultMessage): PaymentEvent {
  switch (message.type) {
    case 'payment_applied':
      return { type: 'core_applied' };
    case 'payment_rejected':
      return { type: 'core_rejected', reason: message.body.reason ?? 'rejected_by_core' };
    case 'reversal_applied':
      return { type: 'reversal_applied' };
    case 'reversal_rejected':
      return { type: 'reversal_rejected', reason: message.body.reason ?? 'rejected_by_core' };
    default: {
      const never: never = message.type;
      throw new Error(`unknown core result type ${String(never)}`);
    }
  }
}
