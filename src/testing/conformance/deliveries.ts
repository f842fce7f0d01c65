import { uuidv7 } from "../../core/ids.js";
import { describe, expect, it } from "vitest";
import type { AttemptResult, DeliveryStore, NewDelivery, Subscription } from "../../core/ports/deliveries.js";
import type { MakeStore } from "../store-conformance.js";
import { rejection, withStore } from "./fixture.js";
import { describeDeliveryClaims } from "./claims.js";

const NOW = 1_700_000_000_000;

function subscription(over: Partial<Subscription> = {}): Subscription {
  const at = new Date(NOW).toISOString();
  return {
    id: uuidv7(),
    app_id: "app1",
    name: "crm",
    filter: ["user.**"],
    destination: { type: "webhook", url: "https://example.com/hook", headers: { authorization: "Bearer x" } },
    format: "native",
    ordering: "none",
    retry_schedule: [0, 5, 300],
    authgear_signature: false,
    state: "enabled",
    disabled_reason: null,
    start_seq: 0,
    created_at: at,
    updated_at: at,
    ...over,
  };
}

function delivery(seq: number, over: Partial<NewDelivery> = {}): NewDelivery {
  return { id: uuidv7(), event_id: uuidv7(), seq, subject: `u${seq % 2}`, state: "pending", reason: null, ...over };
}

function attempt(sub: Subscription, d: NewDelivery, n: number, over: Partial<AttemptResult>): AttemptResult {
  return {
    app_id: sub.app_id, subscription_id: sub.id, delivery_id: d.id, n, at_ms: NOW + n * 1000, status_code: 500, latency_ms: 12.345,
    error: null, response_head: "oops", state: "pending", next_attempt_at_ms: NOW + n * 1000 + 5000, flagged: null, reason: null, ...over,
  };
}

async function created(ds: DeliveryStore, over: Partial<Subscription> = {}) {
  const sub = subscription(over);
  await ds.createSubscription(sub, "whsec_first");
  return sub;
}

export function describeDeliveryStore(makeStore: MakeStore): void {
  describe("DeliveryStore: subscriptions", () => {
    it("creates, gets, lists (paged, by state), updates and deletes subscriptions, per app", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const a = await created(ds, { name: "a", start_seq: 7 });
        const b = await created(ds, { name: "b", ordering: "seq", format: "auth0", authgear_signature: true, destination: { type: "nats", subject: "auth.events" } });
        const c = await created(ds, { name: "c", state: "paused" });
        const other = await created(ds, { app_id: "app2", name: "other" });
        expect(await ds.getSubscription("app1", a.id)).toEqual(a);
        expect(await ds.getSubscription("app1", b.id)).toEqual(b);
        expect(await ds.getSubscription("app2", a.id)).toBeUndefined();
        const p1 = await ds.listSubscriptions("app1", { limit: 2 });
        expect(p1.data.map((s) => s.name)).toEqual(["a", "b"]);
        expect(p1.next_cursor).toEqual(expect.any(String));
        const p2 = await ds.listSubscriptions("app1", { limit: 2, cursor: p1.next_cursor! });
        expect(p2).toEqual({ data: [c], next_cursor: null });
        expect((await ds.listSubscriptions("app1")).data).toHaveLength(3);
        expect((await ds.listSubscriptions("app1", { states: ["paused"] })).data.map((s) => s.name)).toEqual(["c"]);
        expect((await rejection(ds.listSubscriptions("app1", { cursor: "garbage!" }))).code).toBe("invalid_query");
        expect((await ds.allSubscriptions()).map((s) => s.name)).toEqual(["a", "b", "c", "other"]);

        const u = await ds.updateSubscription("app1", a.id, { name: "a2", filter: ["user.created"], retry_schedule: [1], state: "disabled", disabled_reason: "gone" });
        expect(u).toMatchObject({ ...a, name: "a2", filter: ["user.created"], retry_schedule: [1], state: "disabled", disabled_reason: "gone", updated_at: expect.any(String) });
        expect(Date.parse(u!.updated_at)).toBeGreaterThan(NOW);
        expect(await ds.getSubscription("app1", a.id)).toEqual(u);
        expect(await ds.updateSubscription("app2", a.id, { name: "x" })).toBeUndefined();

        expect(await ds.deleteSubscription("app2", a.id)).toBe(false);
        expect(await ds.deleteSubscription("app1", a.id)).toBe(true);
        expect(await ds.deleteSubscription("app1", a.id)).toBe(false);
        expect(await ds.getSubscription("app1", a.id)).toBeUndefined();
        expect((await ds.allSubscriptions()).map((s) => s.id)).toEqual([b.id, c.id, other.id]);
      }));

    it("keeps secrets: current first; a rotated-out secret signs until its grace ends", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds);
        expect(await ds.getSecrets("app1", s.id, NOW)).toEqual([{ secret: "whsec_first", expires_at: null }]);
        expect(await ds.rotateSecret("app1", s.id, "whsec_second", NOW + 1000)).toBe(true);
        expect(await ds.getSecrets("app1", s.id, NOW)).toEqual([
          { secret: "whsec_second", expires_at: null },
          { secret: "whsec_first", expires_at: NOW + 1000 },
        ]);
        expect(await ds.getSecrets("app1", s.id, NOW + 1000)).toEqual([{ secret: "whsec_second", expires_at: null }]);
        expect(await ds.rotateSecret("app2", s.id, "whsec_x", NOW)).toBe(false);
        expect(await ds.getSecrets("app2", s.id, NOW)).toEqual([]);
      }));
  });

  describe("DeliveryStore: deliveries", () => {
    it("fans out: creates deliveries and moves the cursor atomically (never backward); loadPending pages pending ones in creation order", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds, { start_seq: 3 });
        expect(await ds.fanoutCursor("app1", s.id)).toBe(3);
        const ds1 = [delivery(4), delivery(5, { state: "skipped", reason: "no Auth0 equivalent" }), delivery(6)];
        await ds.fanOut("app1", s.id, ds1, 6);
        expect(await ds.fanoutCursor("app1", s.id)).toBe(6);
        await ds.fanOut("app1", s.id, [], 5);
        expect(await ds.fanoutCursor("app1", s.id)).toBe(6);
        await ds.fanOut("app1", s.id, [delivery(7, { subject: null })], 9);
        expect(await ds.fanoutCursor("app1", s.id)).toBe(9);
        const pending = await ds.loadPending("app1", s.id, 0, 10);
        expect(pending.map((p) => [p.id, p.seq, p.subject, p.attempts])).toEqual([
          [ds1[0]!.id, 4, "u0", 0],
          [ds1[2]!.id, 6, "u0", 0],
          [expect.any(String), 7, null, 0],
        ]);
        expect(pending.every((p) => typeof p.pos === "number" && Math.abs(p.next_attempt_at - Date.now()) < 60_000)).toBe(true);
        expect(pending[0]!.pos).toBeLessThan(pending[1]!.pos);
        expect((await ds.loadPending("app1", s.id, pending[0]!.pos, 1)).map((p) => p.seq)).toEqual([6]);
        expect(await ds.loadPending("app2", s.id, 0, 10)).toEqual([]);
        // Replay: new deliveries of old events, the cursor stays.
        await ds.insertDeliveries("app1", s.id, [delivery(4)]);
        expect(await ds.fanoutCursor("app1", s.id)).toBe(9);
        expect((await ds.loadPending("app1", s.id, pending[2]!.pos, 10)).map((p) => p.seq)).toEqual([4]);
        const skipped = await ds.getDelivery("app1", ds1[1]!.id);
        expect(skipped).toMatchObject({ state: "skipped", reason: "no Auth0 equivalent", next_attempt_at: null, attempts: [] });
      }));

    it("records attempts: states, attempt log, flags, and the subscription's health", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds);
        const [d1, d2, d3] = [delivery(1), delivery(2), delivery(3)];
        await ds.fanOut("app1", s.id, [d1!, d2!, d3!], 3);
        const h0 = await ds.health("app1", s.id, NOW);
        expect(h0).toMatchObject({ state: "enabled", disabled_reason: null, last_success_at: null, last_failure_at: null, consecutive_failures: 0, backlog: 3, last_error: null, failing_since: null });
        await ds.recordAttempts([
          attempt(s, d1!, 1, { status_code: null, error: "connect ECONNREFUSED", response_head: null }),
          attempt(s, d2!, 1, { status_code: 404, flagged: "client_error", state: "dead", next_attempt_at_ms: null, reason: "retries exhausted" }),
        ]);
        const f1 = await ds.getDelivery("app1", d1!.id);
        expect(f1).toMatchObject({ id: d1!.id, subscription_id: s.id, event_id: d1!.event_id, seq: 1, state: "pending", reason: null, flagged: null });
        expect(f1!.next_attempt_at).toBe(new Date(NOW + 6000).toISOString());
        expect(f1!.attempts).toEqual([{ at: new Date(NOW + 1000).toISOString(), status_code: null, latency_ms: 12.3, error: "connect ECONNREFUSED" }]);
        const f2 = await ds.getDelivery("app1", d2!.id);
        expect(f2).toMatchObject({ state: "dead", flagged: "client_error", reason: "retries exhausted", next_attempt_at: null });
        expect(f2!.attempts).toEqual([{ at: new Date(NOW + 1000).toISOString(), status_code: 404, latency_ms: 12.3, response_head: "oops" }]);
        const h1 = await ds.health("app1", s.id, NOW + 10_000);
        expect(h1).toMatchObject({ last_failure_at: new Date(NOW + 1000).toISOString(), consecutive_failures: 2, failing_since: new Date(NOW + 1000).toISOString(), last_error: "HTTP 404", backlog: 2 });
        expect(h1!.lag_seconds).toBeGreaterThanOrEqual(0);

        await ds.recordAttempts([attempt(s, d1!, 2, { status_code: 200, response_head: "ok", state: "delivered", next_attempt_at_ms: null })]);
        const f1b = await ds.getDelivery("app1", d1!.id);
        expect(f1b).toMatchObject({ state: "delivered", next_attempt_at: null });
        expect(f1b!.attempts.map((a) => a.status_code)).toEqual([null, 200]);
        const h2 = await ds.health("app1", s.id, NOW);
        expect(h2).toMatchObject({ last_success_at: new Date(NOW + 2000).toISOString(), consecutive_failures: 0, failing_since: null, backlog: 1 });
        // An attempt for a delivery that no longer exists is ignored.
        await ds.recordAttempts([attempt(s, delivery(9), 1, {})]);
        expect(await ds.health("app2", s.id, NOW)).toBeUndefined();
        expect(await ds.getDelivery("app2", d1!.id)).toBeUndefined();
        // Re-enabling clears the failing streak.
        await ds.recordAttempts([attempt(s, d3!, 1, {})]);
        expect((await ds.health("app1", s.id, NOW))!.failing_since).not.toBeNull();
        await ds.updateSubscription("app1", s.id, { state: "enabled" });
        expect(await ds.health("app1", s.id, NOW)).toMatchObject({ failing_since: null, consecutive_failures: 0 });
      }));

    it("queries deliveries by subscription, event and state with paging; retries one or all dead ones", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds);
        const t = await created(ds, { name: "t" });
        const list = Array.from({ length: 5 }, (_, i) => delivery(i + 1));
        await ds.fanOut("app1", s.id, list, 5);
        await ds.fanOut("app1", t.id, [delivery(1, { event_id: list[0]!.event_id })], 1);
        await ds.recordAttempts([
          attempt(s, list[1]!, 1, { state: "dead", next_attempt_at_ms: null, reason: "dead" }),
          attempt(s, list[3]!, 1, { state: "dead", next_attempt_at_ms: null, reason: "dead" }),
        ]);
        const ids = async (q: Partial<Parameters<DeliveryStore["queryDeliveries"]>[0]>) => (await ds.queryDeliveries({ app_id: "app1", limit: 100, ...q })).data.map((d) => d.seq);
        expect(await ids({})).toEqual([1, 2, 3, 4, 5, 1]);
        expect(await ids({ subscription_id: s.id, state: "dead" })).toEqual([2, 4]);
        expect((await ds.queryDeliveries({ app_id: "app1", event_id: list[0]!.event_id, limit: 10 })).data.map((d) => d.subscription_id)).toEqual([s.id, t.id]);
        const p1 = await ds.queryDeliveries({ app_id: "app1", subscription_id: s.id, limit: 2 });
        const p2 = await ds.queryDeliveries({ app_id: "app1", subscription_id: s.id, limit: 2, cursor: p1.next_cursor! });
        const p3 = await ds.queryDeliveries({ app_id: "app1", subscription_id: s.id, limit: 2, cursor: p2.next_cursor! });
        expect([...p1.data, ...p2.data, ...p3.data].map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(p3.next_cursor).toBeNull();
        expect((await rejection(ds.queryDeliveries({ app_id: "app1", cursor: "nope", limit: 2 }))).code).toBe("invalid_query");
        expect((await ds.queryDeliveries({ app_id: "app2", limit: 10 })).data).toEqual([]);

        const retried = await ds.retryDelivery("app1", list[1]!.id, NOW + 50_000);
        expect(retried).toMatchObject({ state: "pending", reason: null, next_attempt_at: new Date(NOW + 50_000).toISOString() });
        expect(await ds.retryDelivery("app2", list[1]!.id, NOW)).toBeUndefined();
        expect((await ds.retryDelivery("app1", list[0]!.id, NOW))!.state).toBe("pending");
        expect(await ds.retryDead("app1", s.id, NOW + 60_000)).toBe(1);
        expect(await ds.retryDead("app1", s.id, NOW)).toBe(0);
        expect(await ids({ subscription_id: s.id, state: "pending" })).toEqual([1, 2, 3, 4, 5]);
        expect((await ds.loadPending("app1", s.id, 0, 10)).find((p) => p.seq === 4)!.next_attempt_at).toBe(NOW + 60_000);

        // Deleting a subscription deletes its delivery log.
        await ds.deleteSubscription("app1", s.id);
        expect(await ids({})).toEqual([1]);
        expect(await ds.getDelivery("app1", list[0]!.id)).toBeUndefined();
      }));
  });

  describe("DeliveryStore: attempt stats", () => {
    it("aggregates a window's attempts per bucket with latency sum, max and nearest-rank p95; other subscriptions, apps and times excluded", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds);
        const t = await created(ds, { name: "t" });
        const foreign = await created(ds, { app_id: "app2", name: "foreign" });
        const ds1 = Array.from({ length: 45 }, (_, i) => delivery(i + 1));
        await ds.fanOut("app1", s.id, ds1, 45);
        const dt = delivery(1);
        await ds.fanOut("app1", t.id, [dt], 1);
        const df = delivery(1);
        await ds.fanOut("app2", foreign.id, [df], 1);
        const at = (sub: Subscription, d: NewDelivery, n: number, at_ms: number, status_code: number | null, latency_ms: number) =>
          attempt(sub, d, n, { at_ms, status_code, latency_ms, error: status_code === null ? "timeout" : null });
        // Window [NOW, NOW + 3 min) in 1-minute buckets. Bucket 0: 40 attempts (latency 1..40, 2xx but
        // every 4th a 500); bucket 2: a 299, a 300 (not a success) and a network error. Bucket 1 is empty.
        const inWindow = ds1.slice(0, 40).map((d, i) => at(s, d, 1, NOW + i * 1000, (i + 1) % 4 === 0 ? 500 : 200, i + 1));
        inWindow.push(at(s, ds1[40]!, 1, NOW + 120_000, 299, 100.25), at(s, ds1[41]!, 1, NOW + 179_999, 300, 0.5), at(s, ds1[42]!, 1, NOW + 150_000, null, 900));
        // A second attempt of a delivery counts too.
        inWindow.push(at(s, ds1[0]!, 2, NOW + 121_000, 204, 50));
        await ds.recordAttempts(inWindow);
        await ds.recordAttempts([
          at(s, ds1[43]!, 1, NOW - 1, 200, 5000), // before the window
          at(s, ds1[44]!, 1, NOW + 180_000, 200, 5000), // at its (exclusive) end
          at(t, dt, 1, NOW + 1000, 200, 7000), // another subscription
          at(foreign, df, 1, NOW + 1000, 200, 7000), // another app
        ]);
        const stats = await ds.attemptStats("app1", s.id, { sinceMs: NOW, untilMs: NOW + 180_000, bucketMs: 60_000 });
        expect(stats.buckets.map((b) => b.index)).toEqual([0, 2]);
        const [b0, b2] = stats.buckets;
        expect(b0).toMatchObject({ index: 0, attempts: 40, succeeded: 30, max_latency_ms: 40 });
        expect(b0!.sum_latency_ms).toBeCloseTo(820, 6);
        expect(b2).toMatchObject({ index: 2, attempts: 4, succeeded: 2, max_latency_ms: 900 });
        expect(b2!.sum_latency_ms).toBeCloseTo(100.25 + 0.5 + 900 + 50, 6);
        // 44 latencies: 0.5, 1..40, 50, 100.25, 900; the ceil(0.95 * 44) = 42nd smallest is 50.
        expect(stats.p95_latency_ms).toBe(50);

        // Other windows and bucket sizes over the same rows.
        const late = await ds.attemptStats("app1", s.id, { sinceMs: NOW + 120_000, untilMs: NOW + 180_001, bucketMs: 30_000 });
        expect(late.buckets.map((b) => [b.index, b.attempts, b.succeeded])).toEqual([[0, 2, 2], [1, 2, 0], [2, 1, 1]]);
        expect(late.p95_latency_ms).toBe(5000);
        const early = await ds.attemptStats("app1", s.id, { sinceMs: NOW - 1, untilMs: NOW + 1, bucketMs: 1 });
        expect(early.buckets.map((b) => [b.index, b.attempts, b.sum_latency_ms])).toEqual([[0, 1, 5000], [1, 1, 1]]);
        expect((await ds.attemptStats("app1", t.id, { sinceMs: NOW, untilMs: NOW + 180_000, bucketMs: 60_000 })).buckets).toEqual([
          { index: 0, attempts: 1, succeeded: 1, sum_latency_ms: 7000, max_latency_ms: 7000 },
        ]);
        const none = { buckets: [], p95_latency_ms: null };
        expect(await ds.attemptStats("app2", s.id, { sinceMs: NOW, untilMs: NOW + 180_000, bucketMs: 60_000 })).toEqual(none);
        expect(await ds.attemptStats("app1", "sub_nope", { sinceMs: NOW, untilMs: NOW + 180_000, bucketMs: 60_000 })).toEqual(none);
        expect(await ds.attemptStats("app1", s.id, { sinceMs: NOW + 60_000, untilMs: NOW + 120_000, bucketMs: 60_000 })).toEqual(none);
      }));

    it("covers every attempt of a long delivery log: no cap on the deliveries read", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const s = await created(ds);
        const n = 25_000;
        const list = Array.from({ length: n }, (_, i) => delivery(i + 1));
        for (let i = 0; i < n; i += 5000) await ds.fanOut("app1", s.id, list.slice(i, i + 5000), i + 5000);
        // Oldest deliveries attempted long before the window; the newest 1,000 (past any 20,000 cap) in it.
        for (let i = 0; i < n; i += 5000) {
          await ds.recordAttempts(list.slice(i, i + 5000).map((d, j) => attempt(s, d, 1, { at_ms: i + j < n - 1000 ? NOW - 86_400_000 : NOW + (i + j - (n - 1000)), status_code: 200, latency_ms: (i + j) % 100 })));
        }
        const stats = await ds.attemptStats("app1", s.id, { sinceMs: NOW, untilMs: NOW + 1000, bucketMs: 500 });
        expect(stats.buckets.map((b) => [b.index, b.attempts, b.succeeded, b.max_latency_ms])).toEqual([[0, 500, 500, 99], [1, 500, 500, 99]]);
        // Latencies 0..99 ten times each: the 950th smallest is 94.
        expect(stats.p95_latency_ms).toBe(94);
      }));
  });

  describeDeliveryClaims(makeStore);

  describe("DeliveryStore: leases", () => {
    it("one holder at a time until expiry; renewal, stealing from a dead owner, release", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        expect(await ds.leaseHolder("delivery")).toBeNull();
        expect(await ds.acquireLease("delivery", "a", 1000, NOW)).toBe(true);
        expect(await ds.leaseHolder("delivery")).toBe("a");
        expect(await ds.acquireLease("delivery", "b", 1000, NOW + 500)).toBe(false);
        expect(await ds.acquireLease("delivery", "a", 1000, NOW + 900)).toBe(true);
        expect(await ds.acquireLease("delivery", "b", 1000, NOW + 1800)).toBe(false);
        expect(await ds.acquireLease("delivery", "b", 1000, NOW + 1900)).toBe(true);
        expect(await ds.leaseHolder("delivery")).toBe("b");
        expect(await ds.acquireLease("delivery", "c", 1000, NOW + 2000, "b")).toBe(true);
        expect(await ds.acquireLease("delivery", "d", 1000, NOW + 2000, "b")).toBe(false);
        expect(await ds.acquireLease("other", "d", 1000, NOW + 2000)).toBe(true);
        await ds.releaseLease("delivery", "d");
        expect(await ds.leaseHolder("delivery")).toBe("c");
        await ds.releaseLease("delivery", "c");
        expect(await ds.leaseHolder("delivery")).toBeNull();
        expect(await ds.acquireLease("delivery", "d", 1000, NOW)).toBe(true);
      }));

    it("concurrent acquirers: exactly one wins", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => ds.acquireLease("delivery", `w${i}`, 10_000, NOW)));
        expect(wins.filter(Boolean)).toHaveLength(1);
        expect(await ds.leaseHolder("delivery")).toBe(`w${wins.indexOf(true)}`);
      }));
  });
}
