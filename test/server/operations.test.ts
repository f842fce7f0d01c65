import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { startReceiver } from "../delivery/receiver.js";
import { until } from "../helpers.js";
import { startHookServer, json } from "../hooks/hook-server.js";
import { startTestServer, userPayload } from "./helpers.js";

/** SPEC §6, as written there. */
const SPEC_ENDPOINTS = [
  "POST /v1/events",
  "GET /v1/events",
  "GET /v1/events/{id}",
  "GET /v1/events/stream",
  "GET /v1/catalog",
  "GET /v1/catalog/{type}",
  "GET /v1/hooks",
  "POST /v1/hooks",
  "DELETE /v1/hooks/{id}",
  "GET /v1/decisions",
  "POST /v1/evaluate/{type}",
  "POST /v1/subscriptions",
  "GET /v1/subscriptions",
  "GET /v1/subscriptions/{id}",
  "PATCH /v1/subscriptions/{id}",
  "DELETE /v1/subscriptions/{id}",
  "GET /v1/subscriptions/{id}/secret",
  "POST /v1/subscriptions/{id}/rotate-secret",
  "POST /v1/subscriptions/{id}/pause",
  "POST /v1/subscriptions/{id}/resume",
  "POST /v1/subscriptions/{id}/test",
  "POST /v1/subscriptions/{id}/replay",
  "POST /v1/subscriptions/{id}/retry-dead",
  "GET /v1/deliveries",
  "GET /v1/deliveries/{id}",
  "POST /v1/deliveries/{id}/retry",
  "POST /v1/keys",
  "GET /v1/keys",
  "DELETE /v1/keys/{id}",
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /openapi.json",
  "GET /",
];

describe("operations endpoints and the OpenAPI document", () => {
  it("/openapi.json is valid OpenAPI 3.1 and describes every route the server has, and every SPEC §6 endpoint", async () => {
    const t = await startTestServer({ delivery: false });
    const r = await t.call("GET", "/openapi.json");
    expect(r.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(r.body);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");

    const documented = new Set(Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    // What Hono actually routes (middleware excluded), in OpenAPI path syntax.
    const served = t.server.app.routes.filter((x) => x.method !== "ALL").map((x) => `${x.method} ${x.path.replace(/:([a-z_]+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThanOrEqual(SPEC_ENDPOINTS.length);
    for (const route of served) expect(documented, route).toContain(route);
    for (const route of SPEC_ENDPOINTS) expect(served, route).toContain(route);
    expect(documented.size).toBe(new Set(served).size);

    // The request schemas are the ones that validate: a field the document requires is required by the server.
    const create = r.body.paths["/v1/subscriptions"].post.requestBody.content["application/json"].schema;
    expect(create.required).toEqual(["name", "filter", "destination"]);
    expect(create.additionalProperties).toBe(false);
    const key = await t.key("acme", "admin");
    const missing = await t.call("POST", "/v1/subscriptions", { key, body: { name: "x", filter: ["user.*"] } });
    expect(missing.body.errors[0].pointer).toBe("/destination");
    expect(r.body.components.schemas.Problem.required).toEqual(expect.arrayContaining(["type", "title", "status", "detail", "code"]));
  });

  it("healthz, readyz, the dashboard placeholder, and metrics guarded by AUTHBUS_METRICS_KEY", async () => {
    const receiver = await startReceiver();
    const hook = await startHookServer(json({ is_allowed: false }));
    const t = await startTestServer({ metricsKey: "metrics-secret-123" });
    try {
      expect((await t.call("GET", "/healthz")).body).toEqual({ status: "ok" });
      expect((await t.call("GET", "/readyz")).body).toEqual({ status: "ready" });
      const page = await t.call("GET", "/");
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toContain('<div id="root">');
      expect(page.text).not.toMatch(/(src|href)="https?:/);

      const key = await t.key("acme", "admin");
      await t.call("POST", "/v1/subscriptions", { key, body: { name: "m", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } } });
      await t.call("POST", "/v1/hooks", { key, body: { type: "user.pre_create", url: hook.url } });
      await t.call("POST", "/v1/events", { key, body: { events: [userPayload("a"), userPayload("b")].map((payload) => ({ type: "user.created", payload })) } });
      await t.call("POST", "/v1/evaluate/user.pre_create", { key, body: { payload: userPayload("c") } });
      await until(() => receiver.received.length === 2, 10_000, "deliveries");

      expect((await t.call("GET", "/metrics")).status).toBe(401);
      expect((await t.call("GET", "/metrics", { key: "wrong" })).status).toBe(401);
      const m = await t.call("GET", "/metrics", { key: "metrics-secret-123" });
      expect(m.status).toBe(200);
      expect(m.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(m.text).toContain('authbus_events_recorded_total{app="acme"} 2');
      await until(async () => (await t.call("GET", "/metrics", { key: "metrics-secret-123" })).text.includes('authbus_deliveries_total{outcome="delivered"} 2'), 5000, "delivery counter");
      expect(m.text).toMatch(/authbus_delivery_latency_seconds_count \d/);
      expect(m.text).toContain('authbus_hook_decisions_total{type="user.pre_create",decision="deny"} 1');
      expect(m.text).toMatch(/authbus_subscription_backlog\{app="acme",subscription="sub_[0-9a-f]+"\} \d/);
      expect(m.text).toMatch(/authbus_subscription_lag_seconds\{app="acme",subscription="sub_[0-9a-f]+"\} \d/);
      for (const line of m.text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^authbus_/);
    } finally {
      await receiver.close();
    }
  });

  it("close() ends open event streams and answers readyz 503 while shutting down", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "read");
    const res = await fetch(`${t.url}/v1/events/stream`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const reading = (async () => {
      for await (const _ of res.body!) void _;
    })();
    const started = Date.now();
    await t.server.close();
    await reading;
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await t.server.fetch(new Request("http://x/readyz"))).status).toBe(503);
  });
});

describe("structured logs", () => {
  it("one JSON line per request with its id, route, status and app; keys never appear", async () => {
    const { PassThrough } = await import("node:stream");
    const { createRuntime } = await import("../../src/runtime.js");
    const { createServer } = await import("../../src/server/server.js");
    const { createLogger } = await import("../../src/server/logger.js");
    const { tempDbPath } = await import("../helpers.js");
    const sink = new PassThrough();
    let text = "";
    sink.on("data", (c: Buffer) => (text += c.toString()));
    const runtime = createRuntime({ database: `sqlite:${tempDbPath()}`, delivery: { enabled: false } });
    const server = createServer(runtime, { logger: createLogger({ destination: sink }) });
    try {
      await runtime.apps.ensure("acme");
      const key = (await runtime.keys.create("acme", "admin")).key;
      const call = (path: string, init: RequestInit = {}) => server.fetch(new Request(`http://x${path}`, { ...init, headers: { authorization: `Bearer ${key}`, "x-request-id": "req-42", ...init.headers } }));
      expect((await call("/v1/events")).status).toBe(200);
      expect((await call("/v1/subscriptions/sub_nope")).status).toBe(404);
      await until(() => text.split("\n").filter(Boolean).length >= 2, 2000, "log lines");
      const lines = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ level: "info", service: "authbus", req_id: "req-42", method: "GET", path: "/v1/events", route: "/v1/events", status: 200, app: "acme", msg: "request" });
      expect(lines[1]).toMatchObject({ route: "/v1/subscriptions/:id", status: 404 });
      expect(text).not.toContain(key);
    } finally {
      await server.close();
      await runtime.close();
    }
  });
});
