/**
 * One table of routes that three things read: the router (server.ts), request validation (here)
 * and the OpenAPI generator (openapi.ts). A route says who may call it, what body and query it
 * takes (TypeBox schemas, compiled once) and what it answers.
 */
import type { Context } from "hono";
import type { TObject, TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { InvalidRequestError, MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError, type AuthbusError, type ValidationIssue } from "../core/errors.js";
import type { AppBus } from "../app-bus.js";
import type { Runtime } from "../runtime.js";
import type { Principal } from "../tenancy/tenancy.js";

/** public: no key; read: GET with a read or admin key; ingest: an ingest or admin key; admin: admin keys only; metrics: AUTHBUS_METRICS_KEY when set. */
export type Access = "public" | "read" | "ingest" | "admin" | "metrics";
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteResponse {
  description: string;
  schema?: TSchema;
  /** Default application/json. */
  contentType?: string;
}

export interface RequestCtx {
  c: Context<ServerEnv>;
  runtime: Runtime;
  /** Set for every route but public and metrics ones. */
  principal: Principal;
  bus: AppBus;
  params: Record<string, string>;
  /** Validated against the route's query schema (values are strings). */
  query: Record<string, string>;
  /** Validated against the route's body schema; undefined when an optional body was absent. */
  body: unknown;
  /** Set by the server: aborted when it shuts down (long-lived responses end). */
  closing: AbortSignal;
}

export interface RouteDef {
  method: Method;
  /** OpenAPI form: `/v1/subscriptions/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  body?: {
    schema: TSchema;
    required: boolean;
    /** Custom check instead of the compiled schema (e.g. a union with better pointers). */
    check?: (value: unknown) => ValidationIssue[];
    /** The error for schema failures; default InvalidRequestError (`invalid_request`). */
    error?: (issues: ValidationIssue[]) => AuthbusError;
  };
  query?: TObject;
  /** Query parameters that may repeat (`?type=a&type=b`). */
  repeatable?: readonly string[];
  responses: Record<number, RouteResponse>;
  handle(ctx: RequestCtx): Promise<Response> | Response;
}

export interface ServerEnv {
  Variables: { requestId: string; appId?: string };
}

export function defineRoutes(routes: RouteDef[]): RouteDef[] {
  return routes;
}

/** `/v1/subscriptions/{id}` → `/v1/subscriptions/:id` (Hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([a-z_]+)\}/g, ":$1");
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
export function schemaIssues(schema: TSchema, value: unknown, prefix = ""): ValidationIssue[] {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  if (check.Check(value)) return [];
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const e of check.Errors(value)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    issues.push({ pointer: prefix + e.path, message: e.message });
    if (issues.length >= 20) break;
  }
  return issues;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a JSON body under the size limit: a declared Content-Length over it is refused before
 * reading, and a body without one (chunked) is cut off as soon as it passes the limit.
 * Returns undefined for an empty body.
 */
export async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new PayloadTooLargeError(Number(declared), limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (declared !== null && /^\d+$/.test(declared)) {
    // The HTTP parser holds the body to its declared length, so the adapter's direct read (no web streams) is safe.
    const buf = new Uint8Array(await req.arrayBuffer());
    if (buf.byteLength > limit) throw new PayloadTooLargeError(buf.byteLength, limit);
    chunks.push(buf);
    total = buf.byteLength;
  } else if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw new PayloadTooLargeError(total, limit);
      }
      chunks.push(value);
    }
  }
  if (total === 0) return undefined;
  const contentType = req.headers.get("content-type") ?? undefined;
  if (!contentType || !JSON_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
  let text: string;
  try {
    text = decoder.decode(Buffer.concat(chunks, total));
  } catch {
    throw new MalformedJsonError("The request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MalformedJsonError(`The request body is not valid JSON: ${(e as Error).message}`);
  }
}

export async function validatedBody(route: RouteDef, req: Request, limit: number): Promise<unknown> {
  if (!route.body) return undefined;
  const value = await readJsonBody(req, limit);
  if (value === undefined) {
    if (!route.body.required) return undefined;
    const contentType = req.headers.get("content-type") ?? undefined;
    if (!contentType || !JSON_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
    throw new MalformedJsonError("The request body is empty; this endpoint takes a JSON object");
  }
  const issues = route.body.check ? route.body.check(value) : schemaIssues(route.body.schema, value);
  if (issues.length > 0) throw route.body.error ? route.body.error(issues) : new InvalidRequestError(issues);
  return value;
}

/** Query values as strings (the last of repeated ones, or all joined with commas when repeatable), checked against the schema. */
export function validatedQuery(route: RouteDef, c: Context): Record<string, string> {
  if (!c.req.url.includes("?")) return {};
  const all = c.req.queries();
  const out: Record<string, string> = {};
  for (const [k, values] of Object.entries(all)) {
    if (values.length === 0) continue;
    out[k] = route.repeatable?.includes(k) ? values.join(",") : values[values.length - 1]!;
  }
  if (!route.query) return out;
  const known: Record<string, string> = {};
  for (const k of Object.keys(route.query.properties)) if (out[k] !== undefined) known[k] = out[k]!;
  const issues = schemaIssues(route.query, known).map((i) => ({ pointer: i.pointer, message: `query parameter ${i.pointer.slice(1)}: ${i.message}` }));
  if (issues.length > 0) throw new InvalidRequestError(issues);
  return known;
}

export const json = (data: unknown, status = 200): Response =>
  new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json; charset=utf-8" } });

export const noContent = (): Response => new Response(null, { status: 204 });
