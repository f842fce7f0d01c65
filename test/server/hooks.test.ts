import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createRuntime } from "../../src/runtime.js";
import { createServer } from "../../src/server/server.js";
import { createLogger } from "../../src/server/logger.js";
import { tempDbPath } from "../helpers.js";
import { json, startHookServer } from "../hooks/hook-server.js";
import { startTestServer, userPayload } from "./helpers.js";

const preCreate = (id: string) => ({ user: { id, standard_attributes: { email: `${id}@example.com` } }, identities: [{ id: "i1", type: "login_id" }] });

describe("HTTP hooks, evaluate and the decision ledger", () => {
  it("registers an HTTP hook, evaluates through it (allow with mutations, deny as a 200), lists decisions and removes it", async () => {
    const hook = await startHookServer(json({ is_allowed: true, mutations: { user: { custom_attributes: { tier: "gold" } } } }));
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const ingest = await t.key("acme", "ingest");
    const read = await t.key("acme", "read");

    const created = await t.call("POST", "/v1/hooks", { key: admin, body: { type: "user.pre_create", url: hook.url, timeout_ms: 2000 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^hook_/), type: "user.pre_create", url: hook.url, timeout_ms: 2000, fail_open: false, shadow: false, secret: expect.stringMatching(/^whsec_/) });
    const listed = await t.call("GET", "/v1/hooks", { key: read });
    expect(listed.body).toMatchObject({ data: [{ id: created.body.id }], next_cursor: null });
    expect(listed.body.data[0].secret).toBeUndefined();

    const allowed = await t.call("POST", "/v1/evaluate/user.pre_create", { key: ingest, body: { payload: preCreate("u1"), context: { ip_address: "203.0.113.1" } } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ is_allowed: true, payload: { ...preCreate("u1"), user: { ...preCreate("u1").user, custom_attributes: { tier: "gold" } } } });
    const req = hook.requests[hook.requests.length - 1]!;
    const verified = new Webhook(created.body.secret).verify(req.body, {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    }) as { context: { app_id: string } };
    expect(verified.context.app_id).toBe("acme");

    hook.reply = json({ is_allowed: false, title: "Sign-up closed", reason: "Invitation only" });
    const denied = await t.call("POST", "/v1/evaluate/user.pre_create", { key: ingest, body: { payload: preCreate("u2") } });
    expect(denied.status).toBe(200);
    expect(denied.body).toEqual({ is_allowed: false, title: "Sign-up closed", reason: "Invitation only", payload: preCreate("u2") });

    const decisions = await t.call("GET", "/v1/decisions", { key: read });
    expect(decisions.body.data.map((d: { decision: string }) => d.decision)).toEqual(["allow", "deny"]);
    const denies = await t.call("GET", `/v1/decisions?outcome=deny&hook_id=${created.body.id}`, { key: read });
    expect(denies.body).toMatchObject({ data: [{ decision: "deny", title: "Sign-up closed" }], next_cursor: null });
    const first = await t.call("GET", "/v1/decisions?limit=1", { key: read });
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await t.call("GET", `/v1/decisions?limit=1&cursor=${first.body.next_cursor}`, { key: read });
    expect(second.body).toMatchObject({ data: [{ decision: "deny" }], next_cursor: null });

    expect((await t.call("POST", "/v1/evaluate/user.created", { key: ingest, body: { payload: userPayload("u1") } })).body.code).toBe("non_blocking_event_type");
    expect((await t.call("POST", "/v1/evaluate/user.pre_create", { key: ingest, body: { payload: { user: {} } } })).body.code).toBe("invalid_payload");
    expect((await t.call("POST", "/v1/hooks", { key: ingest, body: { type: "user.pre_create", url: hook.url } })).status).toBe(403);
    expect((await t.call("POST", "/v1/hooks", { key: admin, body: { type: "user.created", url: hook.url } })).body).toMatchObject({ status: 422, errors: [{ pointer: "/type" }] });
    expect((await t.call("POST", "/v1/hooks", { key: admin, body: { type: "user.pre_create", url: "ftp://nope" } })).body.code).toBe("invalid_hook");

    expect((await t.call("DELETE", `/v1/hooks/${created.body.id}`, { key: admin })).status).toBe(204);
    expect((await t.call("DELETE", `/v1/hooks/${created.body.id}`, { key: admin })).status).toBe(404);
    const none = await t.call("POST", "/v1/evaluate/user.pre_create", { key: ingest, body: { payload: preCreate("u3") } });
    expect(none.body).toEqual({ is_allowed: true, payload: preCreate("u3") });
  });

  it("hooks registered over HTTP are in the database: a restarted server runs them", async () => {
    const hook = await startHookServer(json({ is_allowed: false, reason: "stored" }));
    const database = `sqlite:${tempDbPath()}`;
    const start = async () => {
      const runtime = createRuntime({ database, allowPrivateNetworks: true, delivery: { enabled: false } });
      const server = createServer(runtime, { logger: createLogger({ level: "silent" }) });
      return { runtime, server, close: async () => (await server.close(), await runtime.close()) };
    };
    const first = await start();
    await first.runtime.apps.ensure("acme");
    const key = (await first.runtime.keys.create("acme", "admin")).key;
    const call = (s: Awaited<ReturnType<typeof start>>, path: string, body: unknown) =>
      s.server.fetch(new Request(`http://x${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) }));
    expect((await call(first, "/v1/hooks", { type: "user.pre_create", url: hook.url })).status).toBe(201);
    await first.close();

    const second = await start();
    try {
      const r = await call(second, "/v1/evaluate/user.pre_create", { payload: preCreate("u1") });
      expect(await r.json()).toMatchObject({ is_allowed: false, reason: "stored" });
      expect(hook.requests).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
