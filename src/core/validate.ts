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

/** Deepest nesting accepted in a payload or context. */
export const MAX_JSON_DEPTH = 256;

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
 * The pointer is only built on failure: this runs on every emit.
 */
export function assertJsonValue(value: unknown, prefix = ""): void {
  if (isPlainJson(value, 0)) return;
  explainNonJson(value, prefix);
}

/** Fast, allocation-free check for the common case; deep or odd values go to the precise walk. */
function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
    case "object": {
      if (v === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (v[i] === undefined || !isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in v) {
        const child = (v as Record<string, unknown>)[key];
        if (child !== undefined && !isPlainJson(child, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Throws with the pointer of the first offending value (tracks cycles); returns when the value is only deep. */
function explainNonJson(value: unknown, prefix: string): void {
  const path: (string | number)[] = [];
  const seen = new Set<object>();
  const fail = (what: string): never => {
    throw new NotJsonValueError(prefix + path.map((k) => `/${typeof k === "number" ? k : escapePointer(k)}`).join(""), what);
  };
  const walk = (v: unknown): void => {
    // Recursion is bounded here so a hostile payload gets a typed error, not a stack overflow.
    if (path.length > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    switch (typeof v) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(v)) fail(String(v));
        return;
      case "object": {
        if (v === null) return;
        if (seen.has(v)) fail("circular reference");
        seen.add(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            path.push(i);
            if (v[i] === undefined) fail("undefined");
            walk(v[i]);
            path.pop();
          }
        } else {
          const proto = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) {
            fail(`an instance of ${(v as object).constructor?.name ?? "a class"}; pass plain objects (e.g. dates as RFC 3339 strings)`);
          }
          for (const key in v) {
            const child = (v as Record<string, unknown>)[key];
            if (child === undefined) continue; // omitted by JSON, like an absent optional field
            path.push(key);
            walk(child);
            path.pop();
          }
        }
        seen.delete(v);
        return;
      }
      default:
        fail(typeof v);
    }
  };
  walk(value);
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
  // UTF-8 is at most 3 bytes per UTF-16 unit: only long strings need counting.
  const size = payloadJson.length * 3 <= MAX_EVENT_BYTES ? payloadJson.length : Buffer.byteLength(payloadJson);
  if (size > MAX_EVENT_BYTES) throw new PayloadTooLargeError(size, MAX_EVENT_BYTES);
  return { type, payloadJson };
}
