/**
 * Every error Authbus throws on purpose is an AuthbusError with a stable `code`.
 * `message` is safe to log and to show to API clients; private detail goes in `cause`.
 * The table ERROR_CODES is the single source for docs/reference/errors.md and, later,
 * for the HTTP status mapping of the server.
 */

export interface ErrorCodeInfo {
  readonly code: string;
  readonly httpStatus: number;
  readonly description: string;
}

export const ERROR_CODES = {
  invalid_options: { httpStatus: 500, description: "createAuthbus() options failed validation; `issues` lists the JSON pointers." },
  unknown_event_type: { httpStatus: 422, description: "The event type is not in the catalog." },
  blocking_event_type: { httpStatus: 422, description: "A blocking type (`user.pre_create`, ...) was emitted; blocking types are evaluated with `before()`, not recorded." },
  invalid_event_id: { httpStatus: 422, description: "A caller-chosen event id is not a UUID." },
  invalid_payload: { httpStatus: 422, description: "The payload or context breaks the type's schema; `issues` lists the JSON pointers." },
  not_json_value: { httpStatus: 422, description: "A value cannot be represented in JSON (function, symbol, bigint, NaN, Infinity, undefined in an array, circular reference, non-plain object)." },
  payload_too_large: { httpStatus: 413, description: "The serialised event, or an HTTP request body, exceeds the 1 MiB limit." },
  idempotency_conflict: { httpStatus: 409, description: "An event with this id was already recorded with a different type or payload." },
  invalid_pattern: { httpStatus: 422, description: "A type pattern is malformed (segments of [a-z0-9_], `*` for one segment, a final `**` for any depth)." },
  invalid_query: { httpStatus: 422, description: "A query filter is malformed (bad time, negative seq, limit out of range)." },
  transaction_required: { httpStatus: 500, description: "`tx` was given but the connection has no open transaction, or belongs to another database." },
  store_failed: { httpStatus: 503, description: "The store could not complete the operation; nothing was acknowledged." },
  bus_closed: { httpStatus: 503, description: "The bus was closed; no new work is accepted." },
  duplicate_handler: { httpStatus: 409, description: "A handler with this name is already registered on the bus." },
  non_blocking_event_type: { httpStatus: 422, description: "`before()`/`guard()` or a hook registration named a non-blocking type; only blocking types (`user.pre_create`, ...) have hooks." },
  hook_denied: { httpStatus: 403, description: "A blocking hook denied the operation (`is_allowed: false`), or a hook failed and was not registered `failOpen` (fail closed); `title` and `reason` are the hook's, `decisionId` finds the evaluation in the decision ledger." },
  hook_failed: { httpStatus: 502, description: "A hook threw, timed out, exceeded the chain budget, could not be reached or answered invalidly. Seen as the `cause` of a fail-closed `HookDeniedError` and in the decision ledger; `reason` says which." },
  invalid_hook: { httpStatus: 422, description: "A hook registration is invalid: not a blocking type, bad URL or secret, refused address, duplicate name, bad timeout." },
  ssrf_refused: { httpStatus: 422, description: "An outgoing request was refused because its address is not public (loopback, private, link-local, CGNAT, metadata, multicast, reserved); set `allowPrivateNetworks: true` for development and tests." },
  webhook_malformed: { httpStatus: 400, description: "`verifyWebhook`: a `webhook-id`, `webhook-timestamp` or `webhook-signature` header is missing or malformed, or the body is unreadable, too large or not JSON. Answer the sender 400 and do not process it." },
  webhook_signature_invalid: { httpStatus: 401, description: "`verifyWebhook`: no `v1` signature in `webhook-signature` matches the body with any of the given secrets (tampered body, wrong or rotated-out secret)." },
  webhook_timestamp_stale: { httpStatus: 401, description: "`verifyWebhook`: the signature is valid but `webhook-timestamp` is further than the tolerance (default 300 s) in the past or future (replay, or a skewed clock); `skewSeconds` says how far." },
  not_found: { httpStatus: 404, description: "No such subscription, delivery, event or hook in this app (another app's ids answer the same)." },
  invalid_subscription: { httpStatus: 422, description: "A subscription's fields are invalid (filter pattern, URL, headers, retry schedule, format); `issues` lists the JSON pointers." },
  malformed_json: { httpStatus: 400, description: "Server: the request body is not valid JSON (or not UTF-8)." },
  unauthorized: { httpStatus: 401, description: "Server: the `Authorization: Bearer <key>` header is missing, or the key is unknown or revoked." },
  forbidden: { httpStatus: 403, description: "Server: the key's scope does not allow this request (`ingest` may only POST events and evaluate hooks; `read` may only read)." },
  method_not_allowed: { httpStatus: 405, description: "Server: the path exists but not with this method; `Allow` lists the methods it has." },
  unsupported_media_type: { httpStatus: 415, description: "Server: a request body was sent with a `Content-Type` other than `application/json`." },
  invalid_request: { httpStatus: 422, description: "Server: the request body or query breaks the endpoint's schema; `issues` lists the JSON pointers." },
  rate_limited: { httpStatus: 429, description: "Server: too many failed authentications from this client address; retry after `Retry-After` seconds." },
  invalid_app: { httpStatus: 422, description: "An app id is malformed (1 to 63 of a-z, 0-9, `_` and `-`, starting with a letter or digit) or already exists." },
  internal_error: { httpStatus: 500, description: "Server: an unexpected failure; the response carries the request id to find it in the logs, never the detail." },
} as const satisfies Record<string, Omit<ErrorCodeInfo, "code">>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One failing location, as an RFC 6901 JSON pointer relative to the emitted input `{type, payload, context}`. */
export interface ValidationIssue {
  readonly pointer: string;
  readonly message: string;
}

export class AuthbusError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidOptionsError extends AuthbusError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super("invalid_options", `Invalid Authbus options: ${formatIssues(issues)}`);
    this.issues = issues;
  }
}

export class UnknownEventTypeError extends AuthbusError {
  readonly type: string;
  constructor(type: string) {
    super("unknown_event_type", `Unknown event type ${JSON.stringify(type)}: it is not in the catalog`);
    this.type = type;
  }
}

export class BlockingEventTypeError extends AuthbusError {
  readonly type: string;
  constructor(type: string) {
    super("blocking_event_type", `${type} is a blocking event type: evaluate it with before(), it is not recorded with emit()`);
    this.type = type;
  }
}

export class InvalidEventIdError extends AuthbusError {
  constructor(id: unknown) {
    super("invalid_event_id", `Event id ${JSON.stringify(String(id)).slice(0, 80)} is not a UUID`);
  }
}

export class ValidationError extends AuthbusError {
  readonly type: string;
  readonly issues: readonly ValidationIssue[];
  constructor(type: string, issues: readonly ValidationIssue[]) {
    super("invalid_payload", `Invalid ${type} event: ${formatIssues(issues)}`);
    this.type = type;
    this.issues = issues;
  }
}

export class NotJsonValueError extends AuthbusError {
  readonly pointer: string;
  constructor(pointer: string, what: string) {
    super("not_json_value", `Value at ${pointer || "/"} is not JSON-serialisable: ${what}`);
    this.pointer = pointer;
  }
}

export class PayloadTooLargeError extends AuthbusError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super("payload_too_large", `Event is ${size} bytes serialised; the limit is ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

export class IdempotencyConflictError extends AuthbusError {
  readonly id: string;
  constructor(id: string) {
    super("idempotency_conflict", `Event ${id} was already recorded with a different type or payload`);
    this.id = id;
  }
}

export class InvalidPatternError extends AuthbusError {
  readonly pattern: string;
  constructor(pattern: string) {
    super("invalid_pattern", `Invalid type pattern ${JSON.stringify(pattern)}: use dot-separated segments of [a-z0-9_], "*" for one segment, a final "**" for any depth`);
    this.pattern = pattern;
  }
}

export class InvalidQueryError extends AuthbusError {
  constructor(message: string) {
    super("invalid_query", message);
  }
}

export class TransactionRequiredError extends AuthbusError {
  constructor(message: string) {
    super("transaction_required", message);
  }
}

export class StoreError extends AuthbusError {
  constructor(message: string, cause?: unknown) {
    super("store_failed", message, { cause });
  }
}

export class BusClosedError extends AuthbusError {
  constructor() {
    super("bus_closed", "The bus is closed");
  }
}

export class DuplicateHandlerError extends AuthbusError {
  constructor(name: string) {
    super("duplicate_handler", `A handler named ${JSON.stringify(name)} is already registered`);
  }
}

export class NonBlockingEventTypeError extends AuthbusError {
  readonly type: string;
  constructor(type: string) {
    super("non_blocking_event_type", `${type} is not a blocking event type: it has no hooks (record it with emit())`);
    this.type = type;
  }
}

export interface HookDenial {
  /** The blocking type that was evaluated. */
  readonly type: string;
  /** The hook that denied or failed. */
  readonly hookId: string;
  /** The evaluation's id in the decision ledger (`bus.decisions.query`). */
  readonly decisionId: string;
  readonly title?: string | undefined;
  readonly reason?: string | undefined;
}

/**
 * The operation must not happen. `title` and `reason` are the hook's own words, meant for the end
 * user (Authgear shows them on the page). When a hook failed (fail closed), they are absent and the
 * private detail is in `cause` (a HookFailedError), which is not safe to show.
 */
export class HookDeniedError extends AuthbusError {
  readonly type: string;
  readonly hookId: string;
  readonly decisionId: string;
  readonly title: string | undefined;
  readonly reason: string | undefined;
  constructor(denial: HookDenial, cause?: unknown) {
    const said = [denial.title, denial.reason].filter((s) => typeof s === "string" && s.length > 0).join(": ");
    const why = said || (cause === undefined ? "denied by a hook" : "a hook failed (fail closed)");
    super("hook_denied", `${denial.type} was not allowed: ${why}`, cause === undefined ? undefined : { cause });
    this.type = denial.type;
    this.hookId = denial.hookId;
    this.decisionId = denial.decisionId;
    this.title = denial.title;
    this.reason = denial.reason;
  }
}

export type HookFailure = "threw" | "timeout" | "budget_exhausted" | "invalid_response" | "http_status" | "network" | "response_too_large" | "ssrf_refused";

export class HookFailedError extends AuthbusError {
  readonly failure: HookFailure;
  readonly issues: readonly ValidationIssue[];
  constructor(failure: HookFailure, message: string, options?: { cause?: unknown; issues?: readonly ValidationIssue[] }) {
    super("hook_failed", message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.failure = failure;
    this.issues = options?.issues ?? [];
  }
}

export class InvalidHookError extends AuthbusError {
  constructor(message: string, cause?: unknown) {
    super("invalid_hook", message, cause === undefined ? undefined : { cause });
  }
}

export class SsrfRefusedError extends AuthbusError {
  /** The refused address (after DNS) or host. */
  readonly address: string;
  constructor(address: string, range: string) {
    super("ssrf_refused", `Refused to connect to ${address} (${range} address); set allowPrivateNetworks: true to allow non-public addresses in development and tests`);
    this.address = address;
  }
}

export type WebhookVerificationCode = "webhook_malformed" | "webhook_signature_invalid" | "webhook_timestamp_stale";

/** Base of what `verifyWebhook` throws for an untrusted request: `catch (e) { if (e instanceof WebhookVerificationError) ... }`. */
export class WebhookVerificationError extends AuthbusError {
  declare readonly code: WebhookVerificationCode;
  constructor(code: WebhookVerificationCode, message: string) {
    super(code, message);
  }
}

export class WebhookMalformedError extends WebhookVerificationError {
  constructor(message: string) {
    super("webhook_malformed", message);
  }
}

export class WebhookSignatureInvalidError extends WebhookVerificationError {
  constructor(message = "No webhook-signature entry matches the body with the given secret(s)") {
    super("webhook_signature_invalid", message);
  }
}

export class WebhookTimestampStaleError extends WebhookVerificationError {
  /** The `webhook-timestamp` received (UNIX seconds). */
  readonly timestamp: number;
  /** timestamp − now in seconds: negative when too old, positive when in the future. */
  readonly skewSeconds: number;
  constructor(timestamp: number, skewSeconds: number, toleranceSeconds: number) {
    const how = skewSeconds < 0 ? `${-skewSeconds} s old` : `${skewSeconds} s in the future`;
    super("webhook_timestamp_stale", `webhook-timestamp is ${how}; the tolerance is ${toleranceSeconds} s`);
    this.timestamp = timestamp;
    this.skewSeconds = skewSeconds;
  }
}

function formatIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.pointer || "/"} ${i.message}`);
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}

export class NotFoundError extends AuthbusError {
  readonly resource: string;
  readonly id: string;
  constructor(resource: string, id: string) {
    super("not_found", `No ${resource} ${JSON.stringify(String(id)).slice(0, 120)} in this app`);
    this.resource = resource;
    this.id = id;
  }
}

export class InvalidSubscriptionError extends AuthbusError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super("invalid_subscription", `Invalid subscription: ${formatIssues(issues)}`);
    this.issues = issues;
  }
}

/** Server: the request body is not JSON. */
export class MalformedJsonError extends AuthbusError {
  constructor(message = "The request body is not valid JSON") {
    super("malformed_json", message);
  }
}

export class UnauthorizedError extends AuthbusError {
  constructor(message = "Missing, unknown or revoked API key: send Authorization: Bearer <key>") {
    super("unauthorized", message);
  }
}

export class ForbiddenError extends AuthbusError {
  constructor(message: string) {
    super("forbidden", message);
  }
}

export class MethodNotAllowedError extends AuthbusError {
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[]) {
    super("method_not_allowed", `${method} is not allowed here; use ${allow.join(", ")}`);
    this.allow = allow;
  }
}

export class UnsupportedMediaTypeError extends AuthbusError {
  constructor(contentType: string | undefined) {
    super("unsupported_media_type", `Content-Type ${JSON.stringify(contentType ?? "")} is not supported: send application/json`);
  }
}

export class InvalidRequestError extends AuthbusError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super("invalid_request", `Invalid request: ${formatIssues(issues)}`);
    this.issues = issues;
  }
}

export class RateLimitedError extends AuthbusError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("rate_limited", `Too many failed authentications from this address; retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class InvalidAppError extends AuthbusError {
  constructor(message: string) {
    super("invalid_app", message);
  }
}

export class InternalError extends AuthbusError {
  constructor(requestId?: string) {
    super("internal_error", requestId ? `Internal error; request id ${requestId}` : "Internal error");
  }
}

/**
 * One item of a batch failed: carries the item's own code (so clients branch the same way) and its
 * issues with pointers into the batch (`/events/3/payload/user/id`). Nothing of the batch was recorded.
 */
export class BatchItemError extends AuthbusError {
  readonly index: number;
  readonly issues: readonly ValidationIssue[];
  constructor(index: number, inner: AuthbusError, prefix = `/events/${index}`) {
    super(inner.code, `events[${index}]: ${inner.message}`, { cause: inner });
    this.index = index;
    const own = (inner as { issues?: readonly ValidationIssue[] }).issues;
    const pointer = (inner as { pointer?: string }).pointer;
    this.issues = own && own.length > 0 ? own.map((i) => ({ pointer: prefix + i.pointer, message: i.message })) : [{ pointer: prefix + (pointer ?? ""), message: inner.message }];
  }
}
