/** The server side of the dashboard: its files, event renderings and subscription stats. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { until } from "../helpers.js";
import { startReceiver } from "../delivery/receiver.js";
import { startTestServer, userPayload } from "../server/helpers.js";
import { dashboardAsset, dashboardIndex } from "../../src/server/dashboard.js";
import { windowSeconds } from "../../src/server/routes/stats.js";
import { createSqliteStore } from "../../src/stores/sqlite/sqlite-store.js";
import type { AttemptResult } from "../../src/core/ports/deliveries.js";

describe("dashboard files", () => {
  it("answers 503 with an explanation when the dashboard was not built, and serves it once it is", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authbus-dash-"));
    try {
      const missing = await dashboardIndex(dir);
      expect(missing.status).toBe(503);
      expect(missing.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await missing.text()).toContain("npm run build:dashboard");

      fs.mkdirSync(path.join(dir, "assets"));
      fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>x</title>");
      fs.writeFileSync(path.join(dir, "assets", "index-abc123.js"), "console.log(1)");
      fs.writeFileSync(path.join(dir, "secret.txt"), "no");
      const page = await dashboardIndex(dir);
      expect(page.status).toBe(200);
      expect(page.headers.get("cache-control")).toBe("no-store");
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
      const js = (await dashboardAsset("index-abc123.js", dir))!;
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(await dashboardAsset("../secret.txt", dir)).toBeUndefined();
      expect(await dashboardAsset("..", dir)).toBeUndefined();
      expect(await dashboardAsset("missing.js", dir)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stats buckets", () => {
  it("counts attempts per minute over the window, successes being 2xx, and ignores older ones", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "admin");
    const sub = (await t.call("POST", "/v1/subscriptions", { key, body: { name: "s", filter: ["user.*"], destination: { type: "webhook", url: "http://127.0.0.1:9/hook" } } })).body;
    // The attempts are written at known times through a second store on the server's database file.
    const store = createSqliteStore({ filename: t.dbPath });
    try {
      const [d1, d2] = ["d1", "d2"].map((id, i) => ({ id: `${id}_${sub.id}`, event_id: `e${i}`, seq: i + 1, subject: null, state: "pending" as const, reason: null }));
      await store.deliveries.fanOut("acme", sub.id, [d1!, d2!], 2);
      const now = Date.now();
      const attempt = (d: typeof d1, n: number, at_ms: number, status_code: number | null, latency_ms: number): AttemptResult => ({
        app_id: "acme", subscription_id: sub.id, delivery_id: d!.id, n, at_ms, status_code, latency_ms, error: null, response_head: null, state: "pending", next_attempt_at_ms: null, flagged: null, reason: null,
      });
      await store.deliveries.recordAttempts([attempt(d1, 1, now - 3_700_000, 200, 5), attempt(d1, 2, now - 30_000, 503, 40), attempt(d1, 3, now - 20_000, 204, 10), attempt(d2, 1, now - 3_590_000, null, 100)]);
      const r = await t.call("GET", `/v1/subscriptions/${sub.id}/stats`, { key });
      expect(r.status).toBe(200);
      const s = r.body;
      expect(s.bucket_seconds).toBe(60);
      expect(s.buckets).toHaveLength(60);
      expect(s.attempts).toBe(3);
      expect(s.succeeded).toBe(1);
      expect(s.failed).toBe(2);
      expect(s.success_rate).toBeCloseTo(1 / 3);
      expect(s.avg_latency_ms).toBe(50);
      expect(s.buckets[0]).toMatchObject({ attempts: 1, failed: 1, avg_latency_ms: 100 });
      expect(s.buckets[59]).toMatchObject({ attempts: 2, succeeded: 1, failed: 1, avg_latency_ms: 25, max_latency_ms: 40 });
      expect(Date.parse(s.buckets[59].start) - Date.parse(s.buckets[0].start)).toBe(59 * 60_000);
      expect(s.p95_latency_ms).toBe(100);
      expect(s).not.toHaveProperty("complete");
      expect(s).not.toHaveProperty("deliveries_scanned");
    } finally {
      await store.close();
    }
  });

  it("parses windows from 1m to 24h", () => {
    expect(windowSeconds(undefined)).toBe(3600);
    expect(windowSeconds("15m")).toBe(900);
    expect(windowSeconds("24h")).toBe(86_400);
    for (const bad of ["0m", "25h", "1d", "h", "90s"]) expect(() => windowSeconds(bad)).toThrow(/window/);
  });
});

describe("dashboard API routes", () => {
  it("GET /v1/subscriptions/{id}/stats buckets the attempts of the last hour", async () => {
    const receiver = await startReceiver((_r, n) => (n === 2 ? { status: 500 } : { status: 204 }));
    const t = await startTestServer();
    try {
      const key = await t.key("acme", "admin");
      const sub = await t.call("POST", "/v1/subscriptions", { key, body: { name: "s", filter: ["user.*"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0], ordering: "seq" } });
      for (const id of ["a", "b", "c"]) await t.call("POST", "/v1/events", { key, body: { type: "user.created", payload: userPayload(id) } });
      await until(() => receiver.received.length === 3, 10_000, "three attempts");
      await until(async () => (await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats`, { key })).body.attempts === 3, 5000, "recorded attempts");
      const r = await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats?window=1h`, { key });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ window_seconds: 3600, bucket_seconds: 60, attempts: 3, succeeded: 2, failed: 1 });
      expect(r.body.buckets.reduce((n: number, b: { attempts: number }) => n + b.attempts, 0)).toBe(3);
      expect((await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats?window=15m`, { key })).body).toMatchObject({ window_seconds: 900, bucket_seconds: 15, attempts: 3 });
      expect((await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats?window=2d`, { key })).status).toBe(422);
      // The library method behind it: typed, per app, validated.
      const lib = await t.runtime.forApp("acme").subscriptions.stats(sub.body.id, { windowMs: 600_000, buckets: 10 });
      expect(lib).toMatchObject({ bucket_ms: 60_000, attempts: 3, succeeded: 2, failed: 1 });
      expect(lib.buckets).toHaveLength(10);
      expect(Date.parse(lib.until) - Date.parse(lib.since)).toBe(600_000);
      await expect(t.runtime.forApp("other").subscriptions.stats(sub.body.id)).rejects.toMatchObject({ code: "not_found" });
      await expect(t.runtime.forApp("acme").subscriptions.stats(sub.body.id, { windowMs: 1000, buckets: 3 })).rejects.toMatchObject({ code: "invalid_query" });
      expect((await t.call("GET", "/v1/subscriptions/sub_nope/stats", { key })).status).toBe(404);
      // Another app's subscription does not exist for this key.
      const other = await t.key("other", "read");
      expect((await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats`, { key: other })).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  it("GET /v1/events/{id}/renderings shows native, CloudEvents and Auth0 (or why Auth0 skips it)", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "read");
    const admin = await t.key("acme", "admin");
    const { body: e } = await t.call("POST", "/v1/events", { key: admin, body: { type: "user.created", payload: userPayload("u1") } });
    const r = await t.call("GET", `/v1/events/${e.id}/renderings`, { key });
    expect(r.status).toBe(200);
    expect(r.body.native).toMatchObject({ content_type: "application/json", skipped: null, body: { id: e.id, seq: e.seq, type: "user.created" } });
    expect(r.body.cloudevents.content_type).toMatch(/^application\/cloudevents\+json/);
    expect(r.body.cloudevents.body).toMatchObject({ specversion: "1.0", id: e.id, type: "user.created" });
    expect(r.body.auth0.skipped === null ? r.body.auth0.body : r.body.auth0.skipped).toBeTruthy();
    expect((await t.call("GET", "/v1/events/0192f5c4-7a5e-7c3e-9a3b-8d1c2b3a4f5e/renderings", { key })).status).toBe(404);
    const doc = (await t.call("GET", "/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/events/{id}/renderings", "/v1/subscriptions/{id}/stats", "/assets/{file}", "/"]));
  });
});
