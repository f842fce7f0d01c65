import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../helpers.js";
import { startReceiver } from "../delivery/receiver.js";
import { startTestServer, userPayload } from "./helpers.js";

const receivers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe("HTTP subscriptions and deliveries", () => {
  it("every subscription operation, end to end to a real receiver", async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const t = await startTestServer();
    const admin = await t.key("acme", "admin");
    const read = await t.key("acme", "read");

    const created = await t.call("POST", "/v1/subscriptions", {
      key: admin,
      body: { name: "crm", filter: ["user.**"], destination: { type: "webhook", url: receiver.url, headers: { authorization: "Bearer r" } }, retry_schedule: [0, 1] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "crm", app_id: "acme", state: "enabled", format: "native", secret: expect.stringMatching(/^whsec_/) });
    const id: string = created.body.id;

    const list = await t.call("GET", "/v1/subscriptions", { key: read });
    expect(list.body).toMatchObject({ data: [{ id }], next_cursor: null });
    expect(list.body.data[0].secret).toBeUndefined();
    expect((await t.call("GET", `/v1/subscriptions/${id}`, { key: read })).body).toMatchObject({ id, name: "crm" });
    const patched = await t.call("PATCH", `/v1/subscriptions/${id}`, { key: admin, body: { name: "crm-2" } });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe("crm-2");
    expect((await t.call("PATCH", `/v1/subscriptions/${id}`, { key: admin, body: { ordering: "sideways" } })).body.code).toBe("invalid_subscription");

    // The secret is for admin keys only: it can sign webhooks.
    expect((await t.call("GET", `/v1/subscriptions/${id}/secret`, { key: read })).status).toBe(403);
    expect((await t.call("GET", `/v1/subscriptions/${id}/secret`, { key: admin })).body).toEqual({ secret: created.body.secret });
    const rotated = await t.call("POST", `/v1/subscriptions/${id}/rotate-secret`, { key: admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);

    const test = await t.call("POST", `/v1/subscriptions/${id}/test`, { key: admin, body: { type: "user.disabled" } });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ status_code: 204 });
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: "user.disabled", context: { test: true, app_id: "acme" } });
    expect((await t.call("POST", `/v1/subscriptions/${id}/test`, { key: admin })).status).toBe(200);

    expect((await t.call("POST", `/v1/subscriptions/${id}/pause`, { key: admin })).body.state).toBe("paused");
    const sent = await t.call("POST", "/v1/events", { key: admin, body: { type: "user.created", payload: userPayload("u1") } });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(2);
    expect((await t.call("POST", `/v1/subscriptions/${id}/resume`, { key: admin })).body.state).toBe("enabled");
    await until(() => receiver.received.length === 3, 10_000, "delivery after resume");
    const delivered = receiver.received[2]!;
    const headers = Object.fromEntries(Object.entries(delivered.headers).map(([k, v]) => [k, String(v)]));
    expect(headers["webhook-id"]).toBe(sent.body.id);
    expect(() => new Webhook(rotated.body.secret).verify(delivered.body, headers)).not.toThrow();

    await until(async () => (await t.call("GET", `/v1/deliveries?subscription_id=${id}&state=delivered`, { key: read })).body.data.length === 1);
    const deliveries = await t.call("GET", `/v1/deliveries?subscription_id=${id}&event_id=${sent.body.id}`, { key: read });
    expect(deliveries.body).toMatchObject({ next_cursor: null, data: [{ subscription_id: id, event_id: sent.body.id, seq: sent.body.seq, state: "delivered", attempts: [{ status_code: 204 }] }] });
    const deliveryId: string = deliveries.body.data[0].id;
    expect((await t.call("GET", `/v1/deliveries/${deliveryId}`, { key: read })).body.id).toBe(deliveryId);
    expect((await t.call("GET", "/v1/deliveries?state=exploded", { key: read })).status).toBe(422);

    const retried = await t.call("POST", `/v1/deliveries/${deliveryId}/retry`, { key: admin });
    expect(retried.status).toBe(202);
    await until(() => receiver.received.length === 4, 10_000, "retried delivery");
    const replay = await t.call("POST", `/v1/subscriptions/${id}/replay`, { key: admin, body: { from_seq: 1 } });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ queued: 1 });
    await until(() => receiver.received.length === 5, 10_000, "replayed delivery");
    expect(receiver.ids().slice(2)).toEqual([sent.body.id, sent.body.id, sent.body.id]);
    expect((await t.call("POST", `/v1/subscriptions/${id}/replay`, { key: admin, body: {} })).status).toBe(422);
    const since = await t.call("POST", `/v1/subscriptions/${id}/replay`, { key: admin, body: { since: new Date(Date.now() - 60_000).toISOString() } });
    expect(since.body).toEqual({ queued: 1 });
    // Delivered before the receiver starts failing, or it would be dead too.
    await until(() => receiver.received.length === 6, 10_000, "delivery replayed since a time");

    // Dead deliveries, then retry-dead.
    receiver.setReply(() => ({ status: 500 }));
    await t.call("POST", "/v1/events", { key: admin, body: { type: "user.disabled", payload: { user: { id: "u2" } } } });
    await until(async () => (await t.call("GET", `/v1/deliveries?state=dead`, { key: read })).body.data.length === 1, 15_000, "dead delivery");
    receiver.setReply(() => ({ status: 200 }));
    const retryDead = await t.call("POST", `/v1/subscriptions/${id}/retry-dead`, { key: admin });
    expect(retryDead.status).toBe(202);
    expect(retryDead.body).toEqual({ queued: 1 });
    await until(async () => (await t.call("GET", `/v1/deliveries?state=dead`, { key: read })).body.data.length === 0, 10_000, "dead retried");

    expect((await t.call("DELETE", `/v1/subscriptions/${id}`, { key: admin })).status).toBe(204);
    expect((await t.call("GET", `/v1/subscriptions/${id}`, { key: read })).status).toBe(404);
    expect((await t.call("DELETE", `/v1/subscriptions/${id}`, { key: admin })).status).toBe(404);
    expect((await t.call("POST", `/v1/deliveries/nope/retry`, { key: admin })).status).toBe(404);
    expect((await t.call("GET", `/v1/deliveries/nope`, { key: read })).status).toBe(404);
  });

  it("lists page with next_cursor", async () => {
    const t = await startTestServer({ delivery: false });
    const admin = await t.key("acme", "admin");
    for (let i = 0; i < 5; i++) {
      expect((await t.call("POST", "/v1/subscriptions", { key: admin, body: { name: `s${i}`, filter: ["user.*"], destination: { type: "webhook", url: "https://example.com/hook" } } })).status).toBe(201);
    }
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { name: string }[]; next_cursor: string | null } } = await t.call("GET", `/v1/subscriptions?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: admin });
      names.push(...page.body.data.map((s) => s.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(names).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect((await t.call("GET", "/v1/subscriptions?cursor=garbage", { key: admin })).body.code).toBe("invalid_query");
  });
});
