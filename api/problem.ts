import type { Response } from 'express';
import { ERROR_CATALOGUE, HubError, type ErrorCode } from '../domain/errors';

// RFC 9457 problem details. `type` is a stable URN per code, `code` is the member channels switch on.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly [extension: string]: unknown;
}

export function problemOf(err: HubError, requestId: string | undefined): ProblemBody {
  const entry = ERROR_CATALOGUE[err.code];
  // Extension members first: they can never overwrite the members RFC 9457 defines.
  return {
    ...err.extras,
    type: `urn:loanhub:problem:${err.code}`,
    title: entry.title,
    status: entry.status,
    code: err.code,
    detail: err.detail,
    ...(requestId ? { requestId } : {}),
  };
}

export function sendProblem(
  res: Response,
  err: HubError,
  requestId: string | undefined,
  headers: Record<string, string> = {},
): void {
  const body = problemOf(err, requestId);
  res
    .status(body.status)
    .set({ 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...headers })
    .send(JSON.stringify(body));
}

export function problem(code: ErrorCode, detail: string, extras?: Record<string, unknown>): HubError {
  return new HubError(code, detail, extras);
}
