/**
 * Validation of what callers emit: known type, JSON-only values, schema, size.
 * Pointers are RFC 6901, relative to the emitted input `{type, payload, context}`.
 */
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { FormatRegistry, type TSchema } from "@sinclair/typebox";
import { CATALOG } from "./catalog/definitions.js";
import { isEventType, type EventType } from "./catalog/catalog.js";
import { ContextInput } from "./envelope.js";
import { NotJsonValueError, PayloadTooLargeError, UnknownEventTypeError, ValidationError, type ValidationIssue } from "./errors.js";

/** Largest serialised event (payload + context) accepted: 1 MiB, as the HTTP API. */
export const MAX_EVENT_BYTES = 1024 * 1024;

// RFC 3339 date-time, the only format the catalog uses.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));

const checks = new Map<string, TypeCheck<TSchema>>();
function checkerFor(key: string, schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(key);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(key, c);
  }
  return c;
}

export function assertEventType(type: unknown): asserts type is EventType {
  if (typeof type !== "string" || !isEventType(type)) throw new UnknownEventTypeError(String(type));
}

/** Issues of `value` against `schema`, pointers prefixed with `prefix`. Empty when valid. */
export function schemaIssues(key: string, schema: TSchema, value: unknown, prefix: string): ValidationIssue[] {
  const checker = checkerFor(key, schema);
  if (checker.Check(value)) return [];
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const e of checker.Errors(value)) {
    // TypeBox reports a missing property twice (required, then type); one line per pointer is clearer.
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    issues.push({ pointer: prefix + e.path, message: e.message });
    if (issues.length >= 20) break;
  }
  return issues;
}

/**
 * Throws NotJsonValueError at the first value JSON cannot carry faithfully.
 * JSON.stringify would silently drop or rewrite these, so the stored event would differ from what was emitted.
 */
export function assertJsonValue(value: unknown, pointer = "", seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new NotJsonValueError(pointer, String(value));
      return;
    case "object": {
      if (value === null) return;
      if (seen.has(value)) throw new NotJsonValueError(pointer, "circular reference");
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw new NotJsonValueError(`${pointer}/${i}`, "undefined");
          assertJsonValue(value[i], `${pointer}/${i}`, seen);
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new NotJsonValueError(pointer, `an instance of ${(value as object).constructor?.name ?? "a class"}; pass plain objects (e.g. dates as RFC 3339 strings)`);
        }
        for (const key of Object.keys(value)) {
          const v = (value as Record<string, unknown>)[key];
          if (v === undefined) continue; // omitted by JSON, like an absent optional field
          assertJsonValue(v, `${pointer}/${escapePointer(key)}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw new NotJsonValueError(pointer, typeof value);
  }
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export interface ValidatedInput {
  type: EventType;
  payloadJson: string;
}

/** Validates an event's type, payload and caller context; returns the serialised payload. */
export function validateEmit(type: unknown, payload: unknown, context: unknown): ValidatedInput {
  assertEventType(type);
  assertJsonValue(payload, "/payload");
  if (context !== undefined) assertJsonValue(context, "/context");
  const issues = schemaIssues(type, CATALOG[type].payload, payload, "/payload");
  if (context !== undefined) issues.push(...schemaIssues("$context", ContextInput, context, "/context"));
  if (issues.length > 0) throw new ValidationError(type, issues);
  const payloadJson = JSON.stringify(payload);
  const size = Buffer.byteLength(payloadJson);
  if (size > MAX_EVENT_BYTES) throw new PayloadTooLargeError(size, MAX_EVENT_BYTES);
  return { type, payloadJson };
}
