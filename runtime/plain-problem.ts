import type http from 'node:http';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../api/problem';
import { HubError, type ErrorCode } from '../domain/errors';

/**
 * An RFC 9457 answer from the plain `http` endpoints of the processes that serve no API (a `work`
 * process, the batch scheduler): the same body, codes and titles as the API's, from the one catalogue.
 */
export function writeProblem(res: http.ServerResponse, code: ErrorCode, detail: string): void {
  const body = problemOf(new HubError(code, detail), undefined);
  res.writeHead(body.status, { 'Content-Type': PROBLEM_CONTENT_TYPE }).end(JSON.stringify(body));
}
