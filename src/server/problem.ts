/**
 * Every error answer is RFC 9457 `application/problem+json`. The status comes from ERROR_CODES,
 * the one table that maps the library's stable codes to HTTP; `detail` is the error's message,
 * which AuthbusError keeps safe to show. Anything that is not an AuthbusError is a 500 whose
 * detail is only the request id: the stack and message go to the log, never to the client.
 */
import { AuthbusError, ERROR_CODES, InternalError, MethodNotAllowedError, RateLimitedError, type ErrorCode, type ValidationIssue } from "../core/errors.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: { pointer: string; message: string }[];
  request_id?: string;
}

/** `not_found` → "Not found". */
export function titleOf(code: string): string {
  const words = code.replace(/_/g, " ");
  return (words.charAt(0).toUpperCase() + words.slice(1)).replace(/\bjson\b/g, "JSON");
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].httpStatus;
}

export function problemOf(error: unknown, requestId?: string): { problem: Problem; headers: Record<string, string>; expected: boolean } {
  const expected = error instanceof AuthbusError;
  const e = expected ? (error as AuthbusError) : new InternalError(requestId);
  const problem: Problem = {
    type: `urn:authbus:error:${e.code}`,
    title: titleOf(e.code),
    status: statusOf(e.code),
    detail: e.message,
    code: e.code,
  };
  const issues = (e as { issues?: readonly ValidationIssue[] }).issues;
  if (issues && issues.length > 0) problem.errors = issues.map((i) => ({ pointer: i.pointer, message: i.message }));
  if (requestId) problem.request_id = requestId;
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE };
  if (e instanceof RateLimitedError) headers["retry-after"] = String(e.retryAfterSeconds);
  if (e instanceof MethodNotAllowedError) headers.allow = e.allow.join(", ");
  return { problem, headers, expected };
}

export function problemResponse(error: unknown, requestId?: string): Response {
  const { problem, headers } = problemOf(error, requestId);
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
