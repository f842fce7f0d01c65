import { afterEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { HTTP } from "cloudevents";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { verifyWebhook } from "../../src/webhooks/index.js";
import { tempDbPath, until, user } from "../helpers.js";
import { startReceiver } from "./receiver.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(reply?: Parameters<typeof startReceiver>[0]) {
  const receiver = await startReceiver(reply);
  const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: true });
  open.push(bus, receiver);
  return { bus, receiver };
}

async function emitUsers(bus: Authbus, n: number, userOf = (i: number) => `u${i}`) {
  const out: { id: string; seq: number }[] = [];
  for (let i = 0; i < n; i++) out.push(await bus.emit("user.profile.updated", { user: user(userOf(i)) }));
  return out;
}

describe("webhook delivery", () => {
  it("signs per Standard Webhooks: verifies with the official standardwebhooks and svix packages and with our own verifier", async () => {
    const { bus, receiver } = await setup();
    const sub = await bus.subscriptions.create({ name: "crm", filter: ["user.**"], destination: { type: "webhook", url: receiver.url, headers: { authorization: "Bearer s3cret" } } });
    expect(sub.secret).toMatch(/^whsec_/);
    const r = await bus.emit("user.created", { user: user("u1"), identities: [] });
    await until(() => receiver.received.length === 1, 10_000, "delivery");
    const got = receiver.received[0]!;
    const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
    expect(headers["webhook-id"]).toBe(r.id);
    expect(headers.authorization).toBe("Bearer s3cret");
    expect(headers["user-agent"]).toMatch(/^Authbus\//);
    expect(new Webhook(sub.secret).verify(got.body, headers)).toMatchObject({ id: r.id, seq: r.seq, type: "user.created" });
    const svixHeaders = { "svix-id": headers["webhook-id"]!, "svix-timestamp": headers["webhook-timestamp"]!, "svix-signature": headers["webhook-signature"]! };
    expect(new SvixWebhook(sub.secret).verify(got.body, svixHeaders)).toMatchObject({ id: r.id });
    const envelope = await verifyWebhook({ headers, body: got.body }, sub.secret);
    expect(envelope.type).toBe("user.created");
  });

  it("delivers CloudEvents structured and binary renderings that the cloudevents package parses", async () => {
    const { bus, receiver } = await setup();
    await bus.subscriptions.create({ name: "ce", filter: ["user.created"], destination: { type: "webhook", url: receiver.url }, format: "cloudevents" });
    await bus.subscriptions.create({ name: "ce-bin", filter: ["user.created"], destination: { type: "webhook", url: receiver.url }, format: "cloudevents-binary" });
    const r = await bus.emit("user.created", { user: user("u9"), identities: [] });
    await until(() => receiver.received.length === 2, 10_000, "two deliveries");
    for (const got of receiver.received) {
      const ce = HTTP.toEvent({ headers: got.headers as Record<string, string>, body: got.body });
      const event = Array.isArray(ce) ? ce[0]! : ce;
      expect(event.id).toBe(r.id);
      expect(event.type).toBe("user.created");
      expect(event.source).toBe("urn:authbus:default");
      expect(event.subject).toBe("u9");
      expect(Number(event.authbusseq)).toBe(r.seq);
    }
  });

  it("a receiver failing twice then succeeding gets the same webhook-id three times, with the schedule respected", async () => {
    const { bus, receiver } = await setup((_r, n) => (n <= 2 ? { status: 503 } : { status: 200 }));
    const sub = await bus.subscriptions.create({ name: "flaky", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 1, 2] });
    const r = await bus.emit("user.disabled", { user: user("u1") });
    await until(() => receiver.received.length === 3, 15_000, "three attempts");
    expect(receiver.ids()).toEqual([r.id, r.id, r.id]);
    const [a, b, c] = receiver.received.map((x) => x.at);
    // 1 s then 2 s, each with up to 20% jitter.
    expect(b! - a!).toBeGreaterThanOrEqual(800);
    expect(c! - b!).toBeGreaterThanOrEqual(1600);
    await until(async () => (await bus.deliveries.query({ subscription_id: sub.id })).data[0]?.state === "delivered");
    const [d] = (await bus.deliveries.query({ subscription_id: sub.id })).data;
    expect(d!.attempts.map((x) => x.status_code)).toEqual([503, 503, 200]);
    expect(d!.attempts.every((x) => typeof x.latency_ms === "number" && x.at)).toBe(true);
    const health = await bus.subscriptions.health(sub.id);
    expect(health).toMatchObject({ state: "enabled", consecutive_failures: 0, backlog: 0 });
    expect(health.last_success_at).not.toBeNull();
  });

  it("a delivery that exhausts its schedule is dead, visible and retryable", async () => {
    const { bus, receiver } = await setup(() => ({ status: 500, body: "boom: database down" }));
    const sub = await bus.subscriptions.create({ name: "dead", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 1] });
    const r = await bus.emit("user.disabled", { user: user("u1") });
    await until(async () => (await bus.deliveries.query({ state: "dead" })).data.length === 1, 10_000, "dead");
    const [dead] = (await bus.deliveries.query({ state: "dead", subscription_id: sub.id })).data;
    expect(dead!.event_id).toBe(r.id);
    expect(dead!.attempts).toHaveLength(2);
    expect(dead!.attempts[1]!.response_head).toBe("boom: database down");
    receiver.setReply(() => ({ status: 200 }));
    expect(await bus.subscriptions.retryDead(sub.id)).toEqual({ queued: 1 });
    await until(() => receiver.received.length === 3, 10_000, "retried");
    expect(receiver.ids()[2]).toBe(r.id);
    await until(async () => (await bus.deliveries.get(dead!.id))?.state === "delivered");
  });

  it("410 disables the subscription with a reason", async () => {
    const { bus, receiver } = await setup(() => ({ status: 410 }));
    const sub = await bus.subscriptions.create({ name: "gone", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 1] });
    await bus.emit("user.disabled", { user: user("u1") });
    await until(async () => (await bus.subscriptions.get(sub.id))?.state === "disabled", 10_000, "disabled");
    const s = await bus.subscriptions.get(sub.id);
    expect(s!.disabled_reason).toMatch(/410/);
    await bus.emit("user.disabled", { user: user("u2") });
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received).toHaveLength(1);
    // Resuming delivers what waited.
    receiver.setReply(() => ({ status: 200 }));
    await bus.subscriptions.resume(sub.id);
    await until(() => receiver.received.length === 3, 10_000, "after resume");
  });

  it("honours Retry-After", async () => {
    const { bus, receiver } = await setup((_r, n) => (n === 1 ? { status: 429, headers: { "retry-after": "2" } } : { status: 200 }));
    await bus.subscriptions.create({ name: "throttled", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 1, 1] });
    await bus.emit("user.disabled", { user: user("u1") });
    await until(() => receiver.received.length === 2, 10_000, "second attempt");
    // The schedule says 1 s (±20%); the receiver said 2 s, which wins.
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(1950);
  });

  it("seq ordering holds under random receiver failures", async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { bus, receiver } = await setup(() => (random() < 0.3 ? { status: 500 } : { status: 200 }));
    await bus.subscriptions.create({ name: "ordered", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, ordering: "seq", retry_schedule: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    const sent = await emitUsers(bus, 40);
    await until(() => new Set(receiver.ids()).size === 40, 20_000, "all 40");
    // Attempts arrive strictly in seq order: an event is only tried after every earlier one succeeded.
    const seqs = receiver.received.map((r) => JSON.parse(r.body).seq as number);
    const firstSuccess = new Map<number, number>();
    receiver.received.forEach((_r, i) => firstSuccess.set(seqs[i]!, i));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
    expect([...new Set(seqs)]).toEqual(sent.map((s) => s.seq));
    expect(receiver.received.length).toBeGreaterThan(40); // failures did happen
  });

  it("subject ordering keeps each user's events in order while users interleave", async () => {
    let n = 0;
    const { bus, receiver } = await setup(async (r) => {
      const body = JSON.parse(r.body);
      // User a's receiver is slow and sometimes fails; others are fast.
      if (body.context.user_id === "a") {
        await new Promise((res) => setTimeout(res, 20));
        if (++n % 3 === 0) return { status: 502 };
      }
      return { status: 200 };
    });
    await bus.subscriptions.create({ name: "per-user", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, ordering: "subject", retry_schedule: [0, 0, 0, 0, 0, 0] });
    await emitUsers(bus, 30, (i) => ["a", "b", "c"][i % 3]!);
    await until(() => new Set(receiver.ids()).size === 30, 20_000, "all 30");
    const perUser = new Map<string, number[]>();
    const order: string[] = [];
    for (const r of receiver.received) {
      const b = JSON.parse(r.body);
      perUser.set(b.context.user_id, [...(perUser.get(b.context.user_id) ?? []), b.subject_seq]);
      order.push(b.context.user_id);
    }
    for (const list of perUser.values()) for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThanOrEqual(list[i - 1]!);
    // b and c did not wait for slow a: they finished before a's last delivery.
    expect(order.lastIndexOf("b")).toBeLessThan(order.lastIndexOf("a"));
  });

  it("replay re-sends the original ids and seqs", async () => {
    const { bus, receiver } = await setup();
    const sub = await bus.subscriptions.create({ name: "r", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } });
    const sent = await emitUsers(bus, 5);
    await until(() => receiver.received.length === 5, 10_000, "first pass");
    expect(await bus.subscriptions.replay(sub.id, { from_seq: sent[2]!.seq })).toEqual({ queued: 3 });
    await until(() => receiver.received.length === 8, 10_000, "replay");
    expect(receiver.ids().slice(5).sort()).toEqual(sent.slice(2).map((s) => s.id).sort());
    const bodies = receiver.received.slice(5).map((r) => JSON.parse(r.body).seq).sort();
    expect(bodies).toEqual(sent.slice(2).map((s) => s.seq));
  });

  it("a subscription receives only events recorded after it was created; test events are not recorded", async () => {
    const { bus, receiver } = await setup();
    await bus.emit("user.disabled", { user: user("before") });
    const sub = await bus.subscriptions.create({ name: "late", filter: ["user.disabled"], destination: { type: "webhook", url: receiver.url } });
    const t = await bus.subscriptions.test(sub.id);
    expect(t.status_code).toBe(204);
    const testBody = JSON.parse(receiver.received[0]!.body);
    expect(testBody).toMatchObject({ type: "user.disabled", context: { test: true } });
    expect(await bus.getEvent(t.event_id)).toBeUndefined();
    await bus.emit("user.disabled", { user: user("after") });
    await until(() => receiver.received.length === 2, 10_000, "after");
    expect(JSON.parse(receiver.received[1]!.body).payload.user.id).toBe("after");
  });

  it("rotating the secret signs with both the old and the new secret", async () => {
    const { bus, receiver } = await setup();
    const sub = await bus.subscriptions.create({ name: "rot", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } });
    const { secret: next } = await bus.subscriptions.rotateSecret(sub.id);
    expect(next).not.toBe(sub.secret);
    expect((await bus.subscriptions.secret(sub.id)).secret).toBe(next);
    await bus.emit("user.disabled", { user: user("u") });
    await until(() => receiver.received.length === 1, 10_000, "delivery");
    const got = receiver.received[0]!;
    const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Webhook(sub.secret).verify(got.body, headers)).not.toThrow();
    expect(() => new Webhook(next).verify(got.body, headers)).not.toThrow();
  });

  it("pause holds deliveries and resume sends them; the auth0 format skips what Auth0 cannot represent", async () => {
    const { bus, receiver } = await setup();
    const sub = await bus.subscriptions.create({ name: "a0", filter: ["user.**", "authentication.**"], destination: { type: "webhook", url: receiver.url }, format: "auth0" });
    await bus.subscriptions.pause(sub.id);
    await bus.emit("user.created", { user: user("u1"), identities: [] });
    await bus.emit("authentication.primary.password.failed", { user: user("u1") });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(0);
    await bus.subscriptions.resume(sub.id);
    await until(() => receiver.received.length === 1, 10_000, "after resume");
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: "user.created", a0tenant: "default", id: expect.stringMatching(/^evt_/) });
    const skipped = await bus.deliveries.query({ subscription_id: sub.id, state: "skipped" });
    expect(skipped.data).toHaveLength(1);
    expect(skipped.data[0]!.reason).toMatch(/no Auth0 equivalent/);
  });

  it("refuses bad subscriptions with pointers and unknown ids with not_found", async () => {
    const { bus } = await setup();
    await expect(bus.subscriptions.create({ name: "x", filter: ["user.**.bad"], destination: { type: "webhook", url: "ftp://x" } })).rejects.toMatchObject({
      code: "invalid_subscription",
      issues: expect.arrayContaining([expect.objectContaining({ pointer: "/filter/0" }), expect.objectContaining({ pointer: "/destination/url" })]),
    });
    await expect(bus.subscriptions.pause("sub_nope")).rejects.toMatchObject({ code: "not_found" });
    await expect(bus.deliveries.retry("nope")).rejects.toMatchObject({ code: "not_found" });
  });
});
