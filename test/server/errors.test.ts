import http from "node:http";
import { describe, expect, it } from "vitest";
import { problemOf } from "../../src/server/problem.js";
import { startTestServer, userPayload } from "./helpers.js";

const event = { type: "user.created", payload: userPayload("u1") };

function expectProblem(r: { status: number; headers: Headers; body: any; text: string }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.body).toMatchObject({ type: `urn:authbus:error:${code}`, status, code, title: expect.any(String), detail: expect.any(String) });
  expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+/);
  expect(r.headers.get("x-request-id")).toBe(r.body.request_id);
}

/** A raw request (fetch cannot send a Content-Length that differs from the body, nor keep a chunked upload going). */
function rawPost(url: string, path: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    (async () => {
      for (const c of chunks) if (!req.destroyed) await new Promise<void>((r) => req.write(c, () => r()));
      req.end();
    })().catch(() => undefined);
  });
}

describe("HTTP errors are problem+json with a stable code", () => {
  it("400 malformed JSON, 401 missing or unknown key, 403 scope, 404 unknown id and route, 405, 415, 422 pointers", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const read = await t.key("acme", "read");
    expectProblem(await t.call("POST", "/v1/events", { key: admin, raw: '{"type": "user.created",', headers: { "content-type": "application/json" } }), 400, "malformed_json");
    expectProblem(await t.call("GET", "/v1/events"), 401, "unauthorized");
    expectProblem(await t.call("GET", "/v1/events", { key: "abk_nope" }), 401, "unauthorized");
    expectProblem(await t.call("GET", "/v1/events", { headers: { authorization: `Basic ${admin}` } }), 401, "unauthorized");
    expectProblem(await t.call("POST", "/v1/events", { key: read, body: event }), 403, "forbidden");
    expectProblem(await t.call("GET", "/v1/subscriptions/sub_nope", { key: admin }), 404, "not_found");
    expectProblem(await t.call("GET", "/v2/nothing", { key: admin }), 404, "not_found");
    const wrongMethod = await t.call("PUT", "/v1/subscriptions/sub_x", { key: admin });
    expectProblem(wrongMethod, 405, "method_not_allowed");
    expect(wrongMethod.headers.get("allow")).toBe("GET, PATCH, DELETE");
    expectProblem(await t.call("POST", "/v1/events", { key: admin, raw: "type=user.created", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    expectProblem(await t.call("POST", "/v1/events", { key: admin, raw: JSON.stringify(event) }), 415, "unsupported_media_type");
    const unprocessable = await t.call("POST", "/v1/subscriptions", { key: admin, body: { name: "x", filter: ["user..bad"], destination: { type: "webhook", url: "ftp://x" } } });
    expectProblem(unprocessable, 422, "invalid_subscription");
    expect(unprocessable.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(["/filter/0", "/destination/url"]);
    const extra = await t.call("POST", "/v1/keys", { key: admin, body: { scope: "root", extra: 1 } });
    expectProblem(extra, 422, "invalid_request");
    expect(extra.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(["/scope"]));
    // Every response carries its request id; a sane caller-chosen one is kept.
    const traced = await t.call("GET", "/v1/events", { key: admin, headers: { "x-request-id": "trace-123" } });
    expect(traced.headers.get("x-request-id")).toBe("trace-123");
  });

  it("409 on an idempotency conflict", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const id = "0192f5c4-7a5e-7c3e-9a3b-8d1c2b3a4f5f";
    await t.call("POST", "/v1/events", { key: admin, body: { ...event, id } });
    expectProblem(await t.call("POST", "/v1/events", { key: admin, body: { ...event, id, payload: userPayload("u2") } }), 409, "idempotency_conflict");
  });

  it("413 for bodies over 1 MiB, whether declared by Content-Length or streamed chunked", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const big = JSON.stringify({ ...event, payload: { ...event.payload, pad: "x".repeat(1024 * 1024) } });
    const declared = await t.call("POST", "/v1/events", { key: admin, raw: big, headers: { "content-type": "application/json" } });
    expectProblem(declared, 413, "payload_too_large");
    const chunk = Buffer.alloc(64 * 1024, "x");
    const streamed = await rawPost(t.url, "/v1/events", { authorization: `Bearer ${admin}`, "content-type": "application/json", "transfer-encoding": "chunked" }, Array.from({ length: 20 }, () => chunk));
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).code).toBe("payload_too_large");
    expect(await t.runtime.forApp("acme").query()).toHaveLength(0);
  });

  it("429 with Retry-After after too many failed authentications from one address, even for a good key", async () => {
    const t = await startTestServer({ delivery: false, authFailureLimit: { max: 3, windowMs: 60_000 } });
    const admin = await t.key("acme", "admin");
    for (let i = 0; i < 3; i++) expect((await t.call("GET", "/v1/events", { key: `abk_guess${i}` })).status).toBe(401);
    const limited = await t.call("GET", "/v1/events", { key: admin });
    expectProblem(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(50);
    // Health stays reachable.
    expect((await t.call("GET", "/healthz")).status).toBe(200);
  });

  it("an unexpected failure is a 500 with the request id and neither the message nor the stack", async () => {
    const t = await startTestServer({ delivery: false });
    const r = problemOf(new Error("SELECT secret FROM vault failed at /srv/app.ts:12"), "req-1");
    expect(r.expected).toBe(false);
    expect(r.problem).toEqual({ type: "urn:authbus:error:internal_error", title: "Internal error", status: 500, detail: "Internal error; request id req-1", code: "internal_error", request_id: "req-1" });
    t.server.app.get("/boom", () => {
      throw new Error("secret detail at /srv/app.ts:12");
    });
    const res = await t.call("GET", "/boom");
    expectProblem(res, 500, "internal_error");
    expect(res.text).not.toContain("secret detail");
  });
});
