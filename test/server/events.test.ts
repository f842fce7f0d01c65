import { describe, expect, it } from "vitest";
import { startTestServer, userPayload } from "./helpers.js";

describe("HTTP ingest and the log", () => {
  it("POST /v1/events records one event (202 {id, seq}); the same id twice records one event and answers the same", async () => {
    const t = await startTestServer({ delivery: false });
    const ingest = await t.key("acme", "ingest");
    const id = "0192f5c4-7a5e-7c3e-9a3b-8d1c2b3a4f5e";
    const first = await t.call("POST", "/v1/events", { key: ingest, body: { id, type: "user.created", payload: userPayload("u1"), context: { app_id: "someone-else", ip_address: "203.0.113.9" } } });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id, seq: 1 });
    const again = await t.call("POST", "/v1/events", { key: ingest, body: { id, type: "user.created", payload: userPayload("u1") } });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const events = await t.runtime.forApp("acme").query();
    expect(events).toHaveLength(1);
    // context.app_id always comes from the key.
    expect(events[0]!.context).toMatchObject({ app_id: "acme", ip_address: "203.0.113.9", user_id: "u1" });

    const conflict = await t.call("POST", "/v1/events", { key: ingest, body: { id, type: "user.created", payload: userPayload("u2") } });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: "idempotency_conflict", status: 409 });
  });

  it("a batch is recorded in one call, all or nothing, with pointers into the batch", async () => {
    const t = await startTestServer({ delivery: false });
    const ingest = await t.key("acme", "ingest");
    const ok = await t.call("POST", "/v1/events", { key: ingest, body: { events: [1, 2, 3].map((i) => ({ type: "user.signed_out", payload: { user: { id: `u${i}` }, sessions: [] } })) } });
    expect(ok.status).toBe(202);
    expect(ok.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);

    const bad = await t.call("POST", "/v1/events", {
      key: ingest,
      body: { events: [{ type: "user.created", payload: userPayload("u4") }, { type: "user.created", payload: { user: {}, identities: [] } }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: "invalid_payload", errors: [{ pointer: "/events/1/payload/user/id" }] });
    expect(await t.runtime.forApp("acme").query()).toHaveLength(3);

    const tooMany = await t.call("POST", "/v1/events", { key: ingest, body: { events: Array.from({ length: 1001 }, () => ({ type: "user.created", payload: userPayload("x") })) } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ code: "invalid_request", errors: [{ pointer: "/events" }] });

    const blocking = await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.pre_create", payload: userPayload("x") } });
    expect(blocking.status).toBe(422);
    expect(blocking.body.code).toBe("blocking_event_type");
    const unknown = await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.exploded", payload: {} } });
    expect(unknown.body.code).toBe("unknown_event_type");
    const single = await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.created", payload: { user: { id: 5 }, identities: [] } } });
    expect(single.body).toMatchObject({ code: "invalid_payload", errors: [{ pointer: "/payload/user/id" }] });
  });

  it("GET /v1/events pages in seq order with cursors and filters by type pattern, user, seq and time", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    const events = [
      ...Array.from({ length: 5 }, (_, i) => ({ type: "user.created", payload: userPayload(`u${i}`) })),
      { type: "authentication.primary.password.failed", payload: { user: { id: "u1" } } },
      { type: "authentication.secondary.totp.failed", payload: { user: { id: "u2" } } },
    ];
    expect((await t.call("POST", "/v1/events", { key: admin, body: { events } })).status).toBe(202);

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const page = await t.call("GET", `/v1/events?limit=3${q}`, { key: admin });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((e: { seq: number }) => e.seq));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);

    const failed = await t.call("GET", "/v1/events?type=authentication.**", { key: admin });
    expect(failed.body.data.map((e: { type: string }) => e.type)).toEqual(["authentication.primary.password.failed", "authentication.secondary.totp.failed"]);
    const two = await t.call("GET", "/v1/events?type=user.created&type=authentication.secondary.**", { key: admin });
    expect(two.body.data).toHaveLength(6);
    const byUser = await t.call("GET", "/v1/events?user_id=u1", { key: admin });
    expect(byUser.body.data.map((e: { seq: number }) => e.seq)).toEqual([2, 6]);
    expect((await t.call("GET", "/v1/events?after_seq=5", { key: admin })).body.data).toHaveLength(2);
    const now = Math.floor(Date.now() / 1000);
    expect((await t.call("GET", `/v1/events?since=${now + 3600}`, { key: admin })).body.data).toHaveLength(0);
    expect((await t.call("GET", `/v1/events?until=${encodeURIComponent(new Date((now + 3600) * 1000).toISOString())}`, { key: admin })).body.data).toHaveLength(7);
    const badTime = await t.call("GET", "/v1/events?since=yesterday", { key: admin });
    expect(badTime.status).toBe(422);
    expect(badTime.body.code).toBe("invalid_query");
    const badLimit = await t.call("GET", "/v1/events?limit=lots", { key: admin });
    expect(badLimit.body).toMatchObject({ status: 422, code: "invalid_request", errors: [{ pointer: "/limit" }] });
    expect((await t.call("GET", "/v1/events?type=user..x", { key: admin })).body.code).toBe("invalid_pattern");

    const one = await t.call("GET", `/v1/events/${byUser.body.data[0].id}`, { key: admin });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ seq: 2, type: "user.created" });
    const missing = await t.call("GET", "/v1/events/0192f5c4-7a5e-7c3e-9a3b-000000000000", { key: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("not_found");
  });

  it("scopes: ingest may only POST events and evaluate; read may only GET", async () => {
    const t = await startTestServer({ delivery: false });
    const ingest = await t.key("acme", "ingest");
    const read = await t.key("acme", "read");
    const event = { type: "user.created", payload: userPayload("u1") };
    expect((await t.call("POST", "/v1/events", { key: ingest, body: event })).status).toBe(202);
    const r1 = await t.call("GET", "/v1/events", { key: ingest });
    expect(r1.status).toBe(403);
    expect(r1.body.code).toBe("forbidden");
    expect((await t.call("GET", "/v1/catalog", { key: ingest })).status).toBe(403);
    expect((await t.call("POST", "/v1/events", { key: read, body: event })).status).toBe(403);
    expect((await t.call("GET", "/v1/events", { key: read })).status).toBe(200);
    expect((await t.call("POST", "/v1/keys", { key: read, body: { scope: "admin" } })).status).toBe(403);
    expect((await t.call("POST", "/v1/subscriptions", { key: ingest, body: {} })).status).toBe(403);
  });

  it("GET /v1/catalog lists every type with its schema; /v1/catalog/{type} one", async () => {
    const t = await startTestServer({ delivery: false });
    const read = await t.key("acme", "read");
    const all = await t.call("GET", "/v1/catalog", { key: read });
    expect(all.status).toBe(200);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.data.length).toBeGreaterThan(50);
    expect(all.body.data.find((e: { type: string }) => e.type === "user.pre_create")).toMatchObject({ kind: "blocking" });
    const one = await t.call("GET", "/v1/catalog/user.created", { key: read });
    expect(one.body).toMatchObject({ type: "user.created", kind: "non_blocking", schema: { $schema: "https://json-schema.org/draft/2020-12/schema" } });
    expect((await t.call("GET", "/v1/catalog/user.nope", { key: read })).status).toBe(404);
  });
});
