import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { startReceiver } from "../delivery/receiver.js";
import { startHookServer } from "../hooks/hook-server.js";
import { until } from "../helpers.js";
import { startTestServer, userPayload } from "./helpers.js";

describe("apps and keys", () => {
  it("POST /v1/keys shows the key once; GET lists without values; DELETE revokes it for the very next request", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const created = await t.call("POST", "/v1/keys", { key: admin, body: { scope: "ingest", name: "web app" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^key_/), key: expect.stringMatching(/^abk_[A-Za-z0-9_-]{43}$/), scope: "ingest", name: "web app" });
    const ingest: string = created.body.key;

    const listed = await t.call("GET", "/v1/keys", { key: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.next_cursor).toBeNull();
    expect(listed.body.data).toHaveLength(2);
    expect(listed.text).not.toContain(ingest);
    expect(listed.text).not.toContain(admin);
    expect(listed.body.data[1]).toMatchObject({ id: created.body.id, scope: "ingest", name: "web app", revoked_at: null, prefix: ingest.slice(0, 10) });

    // A session using the key: accepted, then revoked mid-way, then refused.
    expect((await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.created", payload: userPayload("u1") } })).status).toBe(202);
    expect((await t.call("DELETE", `/v1/keys/${created.body.id}`, { key: admin })).status).toBe(204);
    const refused = await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.created", payload: userPayload("u2") } });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("unauthorized");
    expect((await t.call("GET", "/v1/keys", { key: admin })).body.data[1].revoked_at).toEqual(expect.any(String));
    expect((await t.call("DELETE", "/v1/keys/key_nope", { key: admin })).status).toBe(404);
    expect((await t.call("GET", "/v1/keys", { key: await t.key("acme", "read") })).status).toBe(403);
  });

  it("the database keeps only SHA-256 hashes of keys", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "admin");
    const db = new Database(t.dbPath, { readonly: true });
    try {
      const rows = db.prepare("SELECT * FROM api_keys").all() as Record<string, unknown>[];
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(key.slice(10));
      expect(rows[0]!.hash).toBe(createHash("sha256").update(key).digest("hex"));
    } finally {
      db.close();
    }
  });
});

describe("cross-app isolation", () => {
  it("app A's keys get 404 on app B's ids, and never see B's data in lists", async () => {
    const receiver = await startReceiver();
    const hook = await startHookServer();
    const t = await startTestServer();
    const a = await t.key("app-a", "admin");
    const b = await t.key("app-b", "admin");
    try {
      const sub = (await t.call("POST", "/v1/subscriptions", { key: b, body: { name: "b", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } } })).body;
      const event = (await t.call("POST", "/v1/events", { key: b, body: { type: "user.created", payload: userPayload("ub") } })).body;
      await until(async () => (await t.call("GET", "/v1/deliveries?state=delivered", { key: b })).body.data.length === 1, 10_000, "B's delivery");
      const delivery = (await t.call("GET", "/v1/deliveries", { key: b })).body.data[0];
      const bHook = (await t.call("POST", "/v1/hooks", { key: b, body: { type: "user.pre_create", url: hook.url } })).body;
      const bKey = (await t.call("POST", "/v1/keys", { key: b, body: { scope: "read" } })).body;

      const probes: [string, string, unknown?][] = [
        ["GET", `/v1/events/${event.id}`],
        ["GET", `/v1/subscriptions/${sub.id}`],
        ["PATCH", `/v1/subscriptions/${sub.id}`, { name: "stolen" }],
        ["GET", `/v1/subscriptions/${sub.id}/secret`],
        ["POST", `/v1/subscriptions/${sub.id}/rotate-secret`],
        ["POST", `/v1/subscriptions/${sub.id}/pause`],
        ["POST", `/v1/subscriptions/${sub.id}/resume`],
        ["POST", `/v1/subscriptions/${sub.id}/test`],
        ["POST", `/v1/subscriptions/${sub.id}/replay`, { from_seq: 1 }],
        ["POST", `/v1/subscriptions/${sub.id}/retry-dead`],
        ["DELETE", `/v1/subscriptions/${sub.id}`],
        ["GET", `/v1/deliveries/${delivery.id}`],
        ["POST", `/v1/deliveries/${delivery.id}/retry`],
        ["DELETE", `/v1/hooks/${bHook.id}`],
        ["DELETE", `/v1/keys/${bKey.id}`],
      ];
      for (const [method, path, body] of probes) {
        const r = await t.call(method, path, { key: a, body });
        expect({ method, path, status: r.status, code: r.body?.code }).toEqual({ method, path, status: 404, code: "not_found" });
      }
      for (const path of ["/v1/events", "/v1/subscriptions", "/v1/deliveries", `/v1/deliveries?subscription_id=${sub.id}`, "/v1/hooks", "/v1/decisions"]) {
        expect((await t.call("GET", path, { key: a })).body.data).toEqual([]);
      }
      expect((await t.call("GET", "/v1/keys", { key: a })).body.data).toHaveLength(1);
      // B's things are untouched, and A's evaluate does not run B's hook.
      expect((await t.call("GET", `/v1/subscriptions/${sub.id}`, { key: b })).body).toMatchObject({ name: "b", state: "enabled" });
      expect((await t.call("GET", "/v1/hooks", { key: b })).body.data).toHaveLength(1);
      const evalA = await t.call("POST", "/v1/evaluate/user.pre_create", { key: a, body: { payload: { user: { id: "x" }, identities: [] } } });
      expect(evalA.body.is_allowed).toBe(true);
      expect(hook.requests).toHaveLength(0);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});
