import { uuidv7 } from "../../core/ids.js";
import { describe, expect, it } from "vitest";
import type { AttemptResult, ClaimOptions, DeliveryStore, NewDelivery, Subscription } from "../../core/ports/deliveries.js";
import type { MakeStore } from "../store-conformance.js";
import { withStore } from "./fixture.js";

const LEASE = 10_000;

async function subscribed(ds: DeliveryStore, ordering: Subscription["ordering"]): Promise<Subscription> {
  const at = new Date().toISOString();
  const sub: Subscription = {
    id: uuidv7(), app_id: "app1", name: ordering, filter: ["user.**"], destination: { type: "webhook", url: "https://example.com/hook" }, format: "native",
    ordering, retry_schedule: [0, 5], authgear_signature: false, state: "enabled", disabled_reason: null, start_seq: 0, created_at: at, updated_at: at,
  };
  await ds.createSubscription(sub, "whsec_x");
  return sub;
}

const delivery = (seq: number, subject: string | null = null): NewDelivery => ({ id: uuidv7(), event_id: uuidv7(), seq, subject, state: "pending", reason: null });

function result(sub: Subscription, id: string, over: Partial<AttemptResult> = {}): AttemptResult {
  return {
    app_id: sub.app_id, subscription_id: sub.id, delivery_id: id, n: 1, at_ms: Date.now(), status_code: 200, latency_ms: 1, error: null, response_head: null,
    state: "delivered", next_attempt_at_ms: null, flagged: null, reason: null, ...over,
  };
}

/** Claims: several workers share a subscription's deliveries; the store enforces exclusivity, expiry and ordering. */
export function describeDeliveryClaims(makeStore: MakeStore): void {
  describe("DeliveryStore: claims", () => {
    // Fan-out stamps deliveries due at the store's clock; claims look a little later.
    const t = () => Date.now() + 1000;
    const opts = (ordering: Subscription["ordering"], limit: number, nowMs = t()): ClaimOptions => ({ ordering, limit, nowMs, leaseMs: LEASE });
    const seqs = (rows: { seq: number }[]) => rows.map((r) => r.seq);

    it("two owners never hold the same delivery (concurrent claims), claims expire, renew and release", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const sub = await subscribed(ds, "none");
        await ds.fanOut("app1", sub.id, Array.from({ length: 200 }, (_, i) => delivery(i + 1)), 200);
        const now = t();
        const got = await Promise.all(Array.from({ length: 8 }, (_, i) => ds.claimPending("app1", sub.id, `w${i}`, opts("none", 30, now))));
        const all = got.flat().map((r) => r.id);
        expect(new Set(all).size).toBe(all.length);
        expect(all.length).toBe(200);
        for (const rows of got) expect(rows.map((r) => r.pos)).toEqual([...rows.map((r) => r.pos)].sort((a, b) => a - b));
        expect((await ds.claimOwners()).sort()).toEqual(got.map((_, i) => `w${i}`).filter((_, i) => got[i]!.length > 0).sort());
        // Held by live claims: nothing left, not even for an owner that holds some.
        expect(await ds.claimPending("app1", sub.id, "w9", opts("none", 500, now + LEASE - 1))).toEqual([]);
        expect(await ds.claimPending("app1", sub.id, "w0", opts("none", 500, now + LEASE - 1))).toEqual([]);
        // w0 renews; everyone else's claims expire and go to w9.
        const w0 = got[0]!.length;
        expect(await ds.renewClaims("w0", now + 2 * LEASE)).toBe(w0);
        const taken = await ds.claimPending("app1", sub.id, "w9", opts("none", 500, now + LEASE));
        expect(taken.length).toBe(200 - w0);
        expect(taken.some((r) => got[0]!.some((g) => g.id === r.id))).toBe(false);
        // Release: w0's deliveries are free at once.
        await ds.releaseClaims("w0");
        expect(seqs(await ds.claimPending("app1", sub.id, "w8", opts("none", 500, now + LEASE)))).toEqual(seqs(got[0]!));
        expect(await ds.claimOwners()).not.toContain("w0");
      }));

    it("claims only due deliveries; recording releases a final result, and a pending one unless keep_claim", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const sub = await subscribed(ds, "none");
        const [a, b, c] = [delivery(1), delivery(2), delivery(3)];
        await ds.fanOut("app1", sub.id, [a, b, c], 3);
        const now = t();
        expect(seqs(await ds.claimPending("app1", sub.id, "w1", opts("none", 10, now)))).toEqual([1, 2, 3]);
        await ds.recordAttempts([
          result(sub, a.id),
          result(sub, b.id, { state: "pending", status_code: 500, next_attempt_at_ms: now + 100, keep_claim: true }),
          result(sub, c.id, { state: "pending", status_code: 500, next_attempt_at_ms: now + 100 }),
        ]);
        // Not due yet: nobody gets anything.
        expect(await ds.claimPending("app1", sub.id, "w2", opts("none", 10, now + 50))).toEqual([]);
        // Due: c went back to everyone; b is still w1's (until its claim expires); a is delivered.
        expect(seqs(await ds.claimPending("app1", sub.id, "w2", opts("none", 10, now + 100)))).toEqual([3]);
        expect(await ds.claimPending("app1", sub.id, "w3", opts("none", 10, now + 100))).toEqual([]);
        const back = await ds.claimPending("app1", sub.id, "w3", opts("none", 10, now + LEASE));
        expect(back.map((r) => [r.seq, r.attempts])).toEqual([[2, 1]]);
        expect((await ds.claimOwners()).sort()).toEqual(["w2", "w3"]);
      }));

    it("seq: only the head, and only while no other pending delivery is held by another owner (replays included)", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const sub = await subscribed(ds, "seq");
        const list = [delivery(10), delivery(11), delivery(12)];
        await ds.fanOut("app1", sub.id, list, 12);
        const now = t();
        expect(seqs(await ds.claimPending("app1", sub.id, "A", opts("seq", 5, now)))).toEqual([10]);
        expect(await ds.claimPending("app1", sub.id, "B", opts("seq", 5, now))).toEqual([]);
        await ds.recordAttempts([result(sub, list[0]!.id)]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("seq", 5, now)))).toEqual([11]);
        // A replay inserts a lower seq while B holds 11: it is the head now, but nobody else may start it.
        const replayed = delivery(3);
        await ds.insertDeliveries("app1", sub.id, [replayed]);
        expect(await ds.claimPending("app1", sub.id, "A", opts("seq", 5, now))).toEqual([]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("seq", 5, now)))).toEqual([3]);
        // A head waiting for its retry holds the line even unclaimed.
        await ds.recordAttempts([result(sub, list[1]!.id), result(sub, replayed.id, { state: "pending", status_code: 503, next_attempt_at_ms: now + 1000 })]);
        expect(await ds.claimPending("app1", sub.id, "A", opts("seq", 5, now))).toEqual([]);
        expect(seqs(await ds.claimPending("app1", sub.id, "A", opts("seq", 5, now + 1000)))).toEqual([3]);
        // The holder died: after the lease the head goes to another owner.
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("seq", 5, now + 1000 + LEASE)))).toEqual([3]);
      }));

    it("subject: one head per subject, subjects in parallel across owners; a null subject is unordered", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const sub = await subscribed(ds, "subject");
        const list = [delivery(1, "u1"), delivery(2, "u2"), delivery(3, "u1"), delivery(4, null), delivery(5, "u2"), delivery(6, null), delivery(7, "u3")];
        await ds.fanOut("app1", sub.id, list, 7);
        const now = t();
        expect(seqs(await ds.claimPending("app1", sub.id, "A", opts("subject", 3, now)))).toEqual([1, 2, 4]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("subject", 10, now)))).toEqual([6, 7]);
        // u1's head delivered: its next one is claimable; u2's head is still A's.
        await ds.recordAttempts([result(sub, list[0]!.id)]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("subject", 10, now)))).toEqual([3]);
        await ds.recordAttempts([result(sub, list[1]!.id)]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("subject", 10, now)))).toEqual([5]);
        // A replayed u3 event with a lower seq waits while B holds u3's other delivery.
        await ds.insertDeliveries("app1", sub.id, [delivery(0, "u3")]);
        expect(await ds.claimPending("app1", sub.id, "A", opts("subject", 10, now))).toEqual([]);
        expect(seqs(await ds.claimPending("app1", sub.id, "B", opts("subject", 10, now)))).toEqual([0]);
      }));

    it("fan-out is a compare-and-set on the cursor: of concurrent fan-outs of one page, exactly one writes", () =>
      withStore(makeStore, async ({ store: { deliveries: ds } }) => {
        const sub = await subscribed(ds, "none");
        const page = (n: number) => Array.from({ length: n }, (_, i) => delivery(i + 1));
        const wrote = await Promise.all(Array.from({ length: 4 }, () => ds.fanOut("app1", sub.id, page(50), 50, 0)));
        expect(wrote.filter(Boolean)).toHaveLength(1);
        expect(await ds.fanoutCursor("app1", sub.id)).toBe(50);
        expect((await ds.queryDeliveries({ app_id: "app1", subscription_id: sub.id, limit: 500 })).data).toHaveLength(50);
        expect(await ds.fanOut("app1", sub.id, page(1), 60, 49)).toBe(false);
        expect(await ds.fanOut("app1", sub.id, [], 60, 50)).toBe(true);
        expect(await ds.fanoutCursor("app1", sub.id)).toBe(60);
        // Deliveries created claimed (the fanning-out worker sends them itself) are nobody else's until the claim expires.
        const now = t();
        const pre = { ...delivery(61), claimed_by: "F", claim_until: now + LEASE };
        expect(await ds.fanOut("app1", sub.id, [pre, delivery(62)], 62, 60)).toBe(true);
        const before = await ds.claimPending("app1", sub.id, "G", opts("none", 500, now + LEASE - 1));
        expect(before.map((r) => r.seq).filter((x) => x > 60)).toEqual([62]);
        expect((await ds.claimPending("app1", sub.id, "H", opts("none", 500, now + LEASE))).map((r) => r.id)).toEqual([pre.id]);
      }));
  });
}
