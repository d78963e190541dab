import type { DeadLetter, Lane } from './transport-port';
import type { OperatorErrorCode } from '../domain/errors';

// Where the in-process transport keeps the messages it gave up on, so that they outlive the process:
// the outbox row of a dead command is marked sent (the transport finished with it), so without this
// a restart would lose it from view. `loanhub dlq list|show|replay` reads and replays them here, the
// running hub's transport takes the replays (RabbitMQ keeps its dead letters in its own DLQs instead).
//
// A letter's life: dead ──replay requested──▶ replay ──taken by the transport──▶ replaying
//   replaying ──acked──▶ (removed)      replaying ──dead again──▶ dead (history kept and extended)
// A hub that stops while letters are `replaying` takes them again at its next start.

/** A dead letter as the in-process transport writes it: always a message of the hub. */
export interface HubDeadLetter extends DeadLetter {
  readonly message: NonNullable<DeadLetter['message']>;
}

export interface ReplayChoice {
  readonly id?: string;
  readonly all?: boolean;
}

export interface DeadLetterStore {
  /**
   * Keeps a dead letter durably before resolving; one per lane and message id, so a message that dies
   * again after a replay replaces its earlier letter (its history carries the earlier attempts).
   */
  add(letter: HubDeadLetter): Promise<void>;
  /** Dead letters (not those being replayed), oldest first; every lane unless one is given. */
  list(lane?: Lane): Promise<HubDeadLetter[]>;
  /** The dead letter with this message id, in whichever lane holds it. */
  find(id: string): Promise<HubDeadLetter | null>;
  /**
   * Marks dead letters of a lane for replay and returns how many; a letter already marked or being
   * replayed is not counted again, so repeating a replay finds nothing more.
   */
  requestReplay(lane: Lane, which: ReplayChoice): Promise<number>;
  /** Moves up to `limit` letters marked for replay to `replaying` and returns them, oldest first. */
  takeReplays(limit: number): Promise<HubDeadLetter[]>;
  /** A replayed letter's message was finished (acked): the letter is gone. */
  settleReplay(lane: Lane, id: string): Promise<void>;
  /** At start-up of the only transport on this store: letters left `replaying` by a stopped hub are due again. */
  resumeReplays(): Promise<number>;
  close(): Promise<void>;
}

/** Why a dead-letter request was refused; `code` is stable. */
export class DeadLetterStoreError extends Error {
  constructor(
    readonly code: Extract<OperatorErrorCode, `dead_letter_${string}`>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeadLetterStoreError';
  }
}

export function assertReplayChoice(which: ReplayChoice): void {
  if (which.all !== true && which.id === undefined) throw new RangeError('replay needs an id or all');
}
