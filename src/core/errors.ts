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
  payload_too_large: { httpStatus: 413, description: "The serialised event exceeds the 1 MiB limit." },
  idempotency_conflict: { httpStatus: 409, description: "An event with this id was already recorded with a different type or payload." },
  invalid_pattern: { httpStatus: 422, description: "A type pattern is malformed (segments of [a-z0-9_], `*` for one segment, a final `**` for any depth)." },
  invalid_query: { httpStatus: 422, description: "A query filter is malformed (bad time, negative seq, limit out of range)." },
  transaction_required: { httpStatus: 500, description: "`tx` was given but the connection has no open transaction, or belongs to another database." },
  store_failed: { httpStatus: 503, description: "The store could not complete the operation; nothing was acknowledged." },
  bus_closed: { httpStatus: 503, description: "The bus was closed; no new work is accepted." },
  duplicate_handler: { httpStatus: 409, description: "A handler with this name is already registered on the bus." },
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

function formatIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.pointer || "/"} ${i.message}`);
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}
