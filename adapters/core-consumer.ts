import type { Core } from '../domain/channel';
import { formatAmount, isCurrency, minorUnits, parseAmount } from '../domain/money';
import type { Logger } from '../logging/logger';
import type { CoreMetrics } from '../metrics/core-metrics';
import {
  MESSAGE_SCHEMA_VERSION,
  type CoreCommandMessage,
  type CoreResultMessage,
  type DeliveryInfo,
  type Disposition,
  type Transport,
} from '../outbox/transport-port';
import { CoreUnavailableError, type CoreAdapter, type CoreOutcome } from './core-port';

// The consumer runtime every core shares: take a command, ask the core through its adapter, publish the
// core's answer as a result, and only then ack. A core that cannot answer now is retried later; a
// message nobody can process goes to the dead letters with its reason.

export interface CoreConsumerDeps {
  readonly core: Core;
  readonly adapter: CoreAdapter;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly metrics?: CoreMetrics;
}

export function createCoreCommandHandler(
  deps: CoreConsumerDeps,
): (message: CoreCommandMessage, delivery: DeliveryInfo) => Promise<Disposition> {
  const handle = handler(deps);
  const core = deps.core;
  return async (message, delivery) => {
    deps.metrics?.consumed.inc({ core });
    // retried / dead-lettered are counted by the transport (commandOutcomeObserver): only it knows
    // whether a `retry` was parked or was the last attempt and went to the dead letters
    return handle(message, delivery);
  };
}

function handler(
  deps: CoreConsumerDeps,
): (message: CoreCommandMessage, delivery: DeliveryInfo) => Promise<Disposition> {
  return async (message, delivery) => {
    const log = deps.logger.child({
      paymentId: message.paymentId,
      core: deps.core,
      messageId: message.messageId,
      attempt: delivery.attempt,
    });
    const problem = checkCommand(message, deps.core);
    if (problem) {
      log.error({ problem }, 'unprocessable core command sent to dead letters');
      return { kind: 'dead', reason: problem };
    }
    const amount = parseAmount(message.body.amount, 10n ** 20n);
    if (!amount.ok || !isCurrency(message.body.currency)) {
      return { kind: 'dead', reason: 'command carries an invalid amount or currency' };
    }
    let outcome: CoreOutcome;
    try {
      outcome =
        message.type === 'apply_payment'
          ? await deps.adapter.applyPayment({
              paymentId: message.paymentId,
              receiptNumber: message.body.receiptNumber,
              loanNumber: message.body.loanNumber,
              amount: minorUnits(amount.value),
              currency: message.body.currency,
              channel: message.body.channel,
              businessDate: message.body.businessDate,
            })
          : await deps.adapter.reversePayment({
              paymentId: message.paymentId,
              loanNumber: message.body.loanNumber,
              amount: minorUnits(amount.value),
              currency: message.body.currency,
            });
    } catch (err) {
      if (err instanceof CoreUnavailableError && err.retryable) {
        log.warn({ err: err.message }, 'core unavailable; command will be retried');
        return { kind: 'retry', reason: err.message };
      }
      const reason = err instanceof Error ? err.message : String(err);
      log.error({ err: reason }, 'core answered outside its contract; command sent to dead letters');
      return { kind: 'dead', reason };
    }
    await deps.transport.publishResult(resultOf(message, outcome));
    if (outcome.kind === 'applied') deps.metrics?.applied.inc({ core: deps.core });
    else deps.metrics?.rejected.inc({ core: deps.core, reason: outcome.reason });
    log.info(
      { outcome: outcome.kind, reason: outcome.kind === 'rejected' ? outcome.reason : undefined },
      'core answered',
    );
    return { kind: 'ack' };
  };
}

function checkCommand(message: CoreCommandMessage, core: Core): string | null {
  if (message.schemaVersion !== MESSAGE_SCHEMA_VERSION)
    return `unsupported schema version ${String(message.schemaVersion)}`;
  if (message.core !== core) return `command for core ${String(message.core)} delivered to ${core}`;
  if (message.type !== 'apply_payment' && message.type !== 'reverse_payment')
    return `unknown command type ${String(message.type)}`;
  if (typeof message.paymentId !== 'string' || !message.body || typeof message.body.loanNumber !== 'string') {
    return 'command lacks a payment id or loan number';
  }
  return null;
}

function resultOf(command: CoreCommandMessage, outcome: CoreOutcome): CoreResultMessage {
  const applying = command.type === 'apply_payment';
  const type: CoreResultMessage['type'] =
    outcome.kind === 'applied'
      ? applying
        ? 'payment_applied'
        : 'reversal_applied'
      : applying
        ? 'payment_rejected'
        : 'reversal_rejected';
  return {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    messageId: `${command.paymentId}:${type}`,
    type,
    paymentId: command.paymentId,
    core: command.core,
    correlationId: command.correlationId,
    timestamp: new Date().toISOString(),
    ...(command.traceparent ? { traceparent: command.traceparent } : {}),
    body:
      outcome.kind === 'applied'
        ? { coreReference: outcome.coreReference, amountDueAfter: formatAmount(outcome.amountDueAfter) }
        : { reason: outcome.reason, detail: outcome.detail },
  };
}
