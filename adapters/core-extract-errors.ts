import type { Core } from '../domain/channel';

// What goes wrong with a core's daily extract, with a stable code and where it went wrong: the file,
// the line / record / element number, the field and the value (STYLE habit 7). A parse collects every
// bad line before it fails, so one fetch shows every problem of the file.

export const coreExtractErrorCatalogue = {
  EXTRACT_UNAVAILABLE: 'the core did not answer the extract request (down, timeout, 5xx)',
  EXTRACT_REFUSED: 'the core refused the extract request (credential, bad date, unknown route)',
  EXTRACT_INVALID: 'the extract does not parse: every bad line is listed in problems',
} as const;

export type CoreExtractErrorCode = keyof typeof coreExtractErrorCatalogue;

export interface CoreExtractProblem {
  /** 1-based line (CSV), element number (JSON `payments[n]` + 1) or record number (XML). 0: the file as a whole. */
  readonly line: number;
  readonly field: string;
  /** The offending value as read, cut to 80 characters; absent when the field is missing. */
  readonly value?: string;
  readonly message: string;
}

export class CoreExtractError extends Error {
  override readonly name = 'CoreExtractError';

  constructor(
    readonly code: CoreExtractErrorCode,
    readonly core: Core,
    message: string,
    readonly context: {
      readonly fileName?: string;
      readonly businessDate?: string;
      readonly status?: number;
      readonly problems?: readonly CoreExtractProblem[];
    } = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** One line per problem, `file line N field F: message (value "…")`: what an operator pastes into a ticket. */
  describe(): string {
    const head = `${this.code}: ${this.message}`;
    const problems = this.context.problems ?? [];
    return [
      head,
      ...problems.map(
        (p) =>
          `  ${this.context.fileName ?? this.core} line ${p.line} field ${p.field}: ${p.message}` +
          (p.value !== undefined ? ` (value ${JSON.stringify(p.value)})` : ''),
      ),
    ].join('\n');
  }
}
