/** The server side of the dashboard: its files, event renderings and subscription stats. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { until } from "../helpers.js";
import { startReceiver } from "../delivery/receiver.js";
import { startTestServer, userPayload } from "../server/helpers.js";
import { dashboardAsset, dashboardIndex } from "../../src/server/dashboard.js";
import { bucketAttempts, windowSeconds } from "../../src/server/routes/stats.js";
import type { Delivery } from "../../src/core/ports/deliveries.js";

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
  const attempt = (at: number, status_code: number | null, latency_ms: number) => ({ at: new Date(at).toISOString(), status_code, latency_ms });
  const delivery = (attempts: ReturnType<typeof attempt>[]) => ({ attempts }) as unknown as Delivery;

  it("counts attempts per minute over the window, successes being 2xx, and ignores older ones", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    const s = bucketAttempts(
      [delivery([attempt(now - 3_700_000, 200, 5), attempt(now - 30_000, 503, 40), attempt(now - 20_000, 204, 10)]), delivery([attempt(now - 3_590_000, null, 100)])],
      now,
      3600,
    );
    expect(s.bucket_seconds).toBe(60);
    expect(s.buckets).toHaveLength(60);
    expect(s.attempts).toBe(3);
    expect(s.succeeded).toBe(1);
    expect(s.failed).toBe(2);
    expect(s.success_rate).toBeCloseTo(1 / 3);
    expect(s.buckets[0]).toMatchObject({ attempts: 1, failed: 1, avg_latency_ms: 100 });
    expect(s.buckets[59]).toMatchObject({ attempts: 2, succeeded: 1, failed: 1, avg_latency_ms: 25, max_latency_ms: 40 });
    expect(s.p95_latency_ms).toBe(100);
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
      expect(r.body).toMatchObject({ window_seconds: 3600, bucket_seconds: 60, attempts: 3, succeeded: 2, failed: 1, complete: true, deliveries_scanned: 3 });
      expect(r.body.buckets.reduce((n: number, b: { attempts: number }) => n + b.attempts, 0)).toBe(3);
      expect((await t.call("GET", `/v1/subscriptions/${sub.body.id}/stats?window=2d`, { key })).status).toBe(422);
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
