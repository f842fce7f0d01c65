/**
 * The OpenAPI 3.1 document, generated from the route table: the same TypeBox schemas that
 * validate request bodies and queries describe them here. Schemas carrying an `$id` become
 * components and are referenced wherever they appear.
 */
import type { TSchema } from "@sinclair/typebox";
import { ERROR_CODES, type ErrorCode } from "../core/errors.js";
import { readAuthbusVersion } from "../version.js";
import type { RouteDef } from "./route-table.js";
import { Problem } from "./schemas.js";

type Json = Record<string, unknown>;

/** Plain JSON (TypeBox's symbol keys dropped), with `$id` schemas moved to components. */
function toJsonSchema(schema: TSchema, components: Map<string, Json>, root = false): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  return hoist(plain, components, root);
}

function hoist(node: unknown, components: Map<string, Json>, keepRoot: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => hoist(n, components, false)) as unknown as Json;
  if (typeof node !== "object" || node === null) return node as Json;
  const o = node as Json;
  const id = typeof o.$id === "string" ? o.$id : undefined;
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "$id") continue;
    // Keys under `properties`/`patternProperties` are names, not schemas: recurse into their values only.
    out[k] = k === "properties" || k === "patternProperties" ? Object.fromEntries(Object.entries(v as Json).map(([n, s]) => [n, hoist(s, components, false)])) : hoist(v, components, false);
  }
  if (id === undefined || keepRoot) return out;
  if (!components.has(id)) components.set(id, out);
  return { $ref: `#/components/schemas/${id}` };
}

const ERROR_STATUSES: Record<string, number[]> = {
  public: [],
  metrics: [401],
  read: [401, 403, 422, 429],
  ingest: [400, 401, 403, 413, 415, 422, 429],
  admin: [400, 401, 403, 413, 415, 422, 429],
};

function codesFor(status: number): string {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].httpStatus === status).map((c) => `\`${c}\``).join(", ");
}

export function buildOpenApi(routes: readonly RouteDef[], options: { serverUrl?: string } = {}): Json {
  const components = new Map<string, Json>();
  components.set("Problem", toJsonSchema(Problem, components, true));
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const params: Json[] = [...r.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    for (const [name, s] of Object.entries(r.query?.properties ?? {})) {
      const required = (r.query?.required ?? []).includes(name);
      const schema = toJsonSchema(s as TSchema, components);
      params.push({ name, in: "query", required, schema, ...(typeof schema.description === "string" ? { description: schema.description } : {}) });
    }
    if (r.path === "/v1/events/stream") params.push({ name: "Last-Event-ID", in: "header", required: false, schema: { type: "string", pattern: "^[0-9]+$" }, description: "Resume after this seq." });
    const responses: Json = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = res.schema
        ? { description: res.description, content: { [res.contentType ?? "application/json"]: { schema: toJsonSchema(res.schema, components) } } }
        : { description: res.description };
    }
    const errors = new Set(ERROR_STATUSES[r.access] ?? []);
    if (r.path.includes("{")) errors.add(404);
    if (!r.body) (errors.delete(400), errors.delete(413), errors.delete(415));
    if (r.method === "POST" && r.path === "/v1/events") errors.add(409);
    if (r.access !== "public") (errors.add(500), errors.add(503));
    for (const status of [...errors].sort()) {
      responses[String(status)] = { description: `Problem: ${codesFor(status)}.`, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } };
    }
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: r.body.required, content: { "application/json": { schema: toJsonSchema(r.body.schema, components) } } } } : {}),
      responses,
      ...(r.access === "public" ? { security: [] } : r.access === "metrics" ? { security: [{}, { bearer: [] }] } : { "x-authbus-scope": r.access }),
    };
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Authbus HTTP API",
      version: readAuthbusVersion(),
      description:
        "Durable authentication events, blocking hooks and webhook delivery. Send `Authorization: Bearer <key>`; `x-authbus-scope` names the least scope an operation needs (`admin` keys can do everything, `read` keys only GET, `ingest` keys only POST events and evaluate). Errors are `application/problem+json` with a stable `code`.",
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key: `abk_...`." } },
      schemas: Object.fromEntries(components),
    },
  };
}
