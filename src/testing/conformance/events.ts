import { describe, expect, it } from "vitest";
import type { AppendResult } from "../../core/ports/store.js";
import type { MakeStore } from "../store-conformance.js";
import { event, rejection, T0, until, withStore } from "./fixture.js";

const ID = (n: number) => `0190d6a3-0000-7000-8000-${String(n).padStart(12, "0")}`;
const pick = (rs: AppendResult[]) => rs.map((r) => [r.seq, r.subject_seq, r.duplicate]);

export function describeEventStore(makeStore: MakeStore): void {
  describe("EventStore: append", () => {
    it("assigns seq per app and subject_seq per app and user, in input order", () =>
      withStore(makeStore, async ({ store }) => {
        const inputs = [event({ user: "x" }), event({ user: "y" }), event({ user: "x" }), event({ type: "bot_protection.verification.failed" })];
        const r = await store.append(inputs);
        expect(r.map((x) => x.id)).toEqual(inputs.map((i) => i.id));
        expect(pick(r)).toEqual([[1, 1, false], [2, 1, false], [3, 2, false], [4, null, false]]);
        expect(pick(await store.append([event({ app: "app2", user: "x" })]))).toEqual([[1, 1, false]]);
        expect(pick(await store.append([event({ user: "x" })]))).toEqual([[5, 3, false]]);
        expect(await store.append([])).toEqual([]);
      }));

    it("concurrent calls get unique gap-free seqs, increasing within each call, subject_seq 1..n per user in seq order", () =>
      withStore(makeStore, async ({ store }) => {
        const calls = Array.from({ length: 40 }, (_, c) => Array.from({ length: 1 + (c % 5) }, (_, i) => event({ user: `u${(c + i) % 7}` })));
        const results = await Promise.all(calls.map((inputs) => store.append(inputs)));
        for (const r of results) for (let i = 1; i < r.length; i++) expect(r[i]!.seq).toBeGreaterThan(r[i - 1]!.seq);
        const seqs = results.flat().map((r) => r.seq).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect(await store.headSeq("app1")).toBe(seqs.length);
        const log = await store.query({ app_id: "app1", limit: 1000 });
        const perUser = new Map<string, number[]>();
        for (const e of log) perUser.set(e.context.user_id!, [...(perUser.get(e.context.user_id!) ?? []), e.subject_seq!]);
        for (const list of perUser.values()) expect(list).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
      }));

    it("appends issued one after another, without waiting for each other, get seqs in issue order", () =>
      withStore(makeStore, async ({ store }) => {
        const issued: Promise<AppendResult[]>[] = [];
        for (let i = 0; i < 30; i++) {
          issued.push(store.append([event({ user: "u1" })]));
          // Spread over several turns of the event loop, so they land in different batches.
          if (i % 3 === 0) await new Promise((r) => setImmediate(r));
        }
        const seqs = (await Promise.all(issued)).map((r) => r[0]!.seq);
        expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      }));

    it("a caller-chosen id is recorded once: duplicates (concurrent, later, within one call) answer the original seq", () =>
      withStore(makeStore, async ({ store }) => {
        const e = () => event({ id: ID(1), type: "user.disabled", user: "u1" });
        const [[a], [b]] = await Promise.all([store.append([e()]), store.append([e()])]);
        expect(a!.seq).toBe(1);
        expect(b!.seq).toBe(1);
        expect([a!.duplicate, b!.duplicate].sort()).toEqual([false, true]);
        expect(await store.append([e()])).toEqual([{ id: ID(1), seq: 1, subject_seq: 1, duplicate: true }]);
        const within = await store.append([event({ id: ID(2), user: "u1" }), event({ id: ID(2), user: "u1" })]);
        expect(pick(within)).toEqual([[2, 2, false], [2, 2, true]]);
        expect(await store.headSeq("app1")).toBe(2);
        expect(await store.query({ app_id: "app1", limit: 10 })).toHaveLength(2);
      }));

    it("the same id with another type, payload or app is an idempotency conflict; the failing call writes nothing, others commit", () =>
      withStore(makeStore, async ({ store }) => {
        await store.append([event({ id: ID(1), type: "user.disabled", user: "u1" })]);
        for (const bad of [
          event({ id: ID(1), type: "user.reenabled", user: "u1" }),
          event({ id: ID(1), type: "user.disabled", user: "u2" }),
          event({ id: ID(1), type: "user.disabled", user: "u1", app: "app2" }),
        ]) {
          const err = await rejection(store.append([bad]));
          expect(err.code).toBe("idempotency_conflict");
          expect(err.name).toBe("IdempotencyConflictError");
        }
        // All-or-nothing per call, while a concurrent good call commits.
        const fresh = event({ id: ID(3), user: "u9" });
        const [bad, good] = await Promise.allSettled([
          store.append([fresh, event({ id: ID(1), type: "user.reenabled", user: "u1" })]),
          store.append([event({ user: "u8" })]),
        ]);
        expect(bad.status).toBe("rejected");
        expect(good.status === "fulfilled" && good.value[0]!.seq).toBe(2);
        expect(await store.getEvent("app1", ID(3))).toBeUndefined();
        // An id first seen in the failed call is still free: it is recorded, not answered from the failed call.
        const again = await store.append([event({ id: ID(3), user: "u9" })]);
        expect(pick(again)).toEqual([[3, 1, false]]);
        expect(await store.headSeq("app1")).toBe(3);
        expect(await store.headSeq("app2")).toBe(0);
      }));
  });

  describe("EventStore: reads", () => {
    it("query filters by type patterns, user, after_seq, since (inclusive), until (exclusive), limit; per app; ascending seq", () =>
      withStore(makeStore, async ({ store }) => {
        await store.append([event({ type: "user.created", user: "a", ts: T0 })]);
        await store.append([event({ type: "authentication.primary.password.failed", user: "a", ts: T0 + 10 })]);
        await store.append([event({ type: "authentication.identity.login_id.failed", ts: T0 + 20, payload: { login_id: "x@example.com" } })]);
        await store.append([event({ type: "user.profile.updated", user: "b", ts: T0 + 30 }), event({ app: "app2", type: "user.created", user: "a" })]);
        const types = async (q: { types?: string[]; user_id?: string; after_seq?: number; since?: number; until?: number; limit?: number }) =>
          (await store.query({ app_id: "app1", limit: 100, ...q })).map((e) => e.type);
        const all = ["user.created", "authentication.primary.password.failed", "authentication.identity.login_id.failed", "user.profile.updated"];
        expect(await types({})).toEqual(all);
        expect(await types({ types: ["user.*"] })).toEqual(["user.created"]);
        expect(await types({ types: ["user.**"] })).toEqual(["user.created", "user.profile.updated"]);
        expect(await types({ types: ["authentication.**"] })).toEqual([all[1], all[2]]);
        expect(await types({ types: ["authentication.identity.*.failed"] })).toEqual([all[2]]);
        expect(await types({ types: ["*.created"] })).toEqual(["user.created"]);
        expect(await types({ types: ["user.created", "user.profile.*"] })).toEqual(["user.created", "user.profile.updated"]);
        expect(await types({ types: ["user"] })).toEqual([]);
        expect(await types({ user_id: "a" })).toEqual([all[0], all[1]]);
        expect(await types({ user_id: "a", types: ["authentication.**"] })).toEqual([all[1]]);
        expect(await types({ user_id: "nobody" })).toEqual([]);
        expect(await types({ after_seq: 2, limit: 1 })).toEqual([all[2]]);
        expect(await types({ after_seq: 4 })).toEqual([]);
        expect(await types({ since: T0 + 10, until: T0 + 30 })).toEqual([all[1], all[2]]);
        expect(await types({ since: T0 + 20 })).toEqual([all[2], all[3]]);
        expect(await types({ limit: 2 })).toEqual([all[0], all[1]]);
        expect((await store.query({ app_id: "app2", limit: 10 })).map((e) => [e.seq, e.type])).toEqual([[1, "user.created"]]);
        expect(await store.query({ app_id: "nope", limit: 10 })).toEqual([]);
      }));

    it("query by user pages by after_seq without missing or repeating events, also after a pause (lazy indexes)", () =>
      withStore(makeStore, async ({ store }) => {
        for (let round = 0; round < 2; round++) {
          await Promise.all(Array.from({ length: 30 }, (_, i) => store.append([event({ user: `u${i % 3}` })])));
          await new Promise((r) => setTimeout(r, 80));
        }
        await store.append([event({ user: "u1" })]);
        const all = await store.query({ app_id: "app1", user_id: "u1", limit: 1000 });
        expect(all.map((e) => e.subject_seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
        const paged: number[] = [];
        for (let after = 0; ; ) {
          const page = await store.query({ app_id: "app1", user_id: "u1", after_seq: after, limit: 4 });
          if (page.length === 0) break;
          paged.push(...page.map((e) => e.seq));
          after = page[page.length - 1]!.seq;
        }
        expect(paged).toEqual(all.map((e) => e.seq));
      }));

    it("returns the recorded envelope exactly (JSON round trip) from query and getEvent; getEvent is per app", () =>
      withStore(makeStore, async ({ store }) => {
        const payload = { user: { id: "ü-1", standard_attributes: { name: "Zoë \u0000 \"q\" \\ 😀" }, n: 9007199254740991, f: 0.5, empty: [], deep: [[{ a: null }]] } };
        const input = event({ type: "user.profile.updated", user: "ü-1", payload });
        const [r] = await store.append([input]);
        const expected = { id: input.id, seq: 1, subject_seq: 1, type: "user.profile.updated", payload, context: JSON.parse(input.contextJson) };
        expect(await store.query({ app_id: "app1", limit: 1 })).toEqual([expected]);
        expect(await store.getEvent("app1", r!.id)).toEqual(expected);
        expect(await store.getEvent("app2", r!.id)).toBeUndefined();
        expect(await store.getEvent("app1", "0190d6a3-0000-7000-8000-00000000ffff")).toBeUndefined();
        expect(await store.getEvent("app1", "not-a-uuid")).toBeUndefined();
      }));

    it("headSeq is per app, 0 when empty", () =>
      withStore(makeStore, async ({ store }) => {
        expect(await store.headSeq("app1")).toBe(0);
        await store.append([event(), event(), event({ app: "app2" })]);
        expect(await store.headSeq("app1")).toBe(2);
        expect(await store.headSeq("app2")).toBe(1);
        expect(await store.headSeq("app3")).toBe(0);
      }));

    it("a consumer cursor starts at the head when opened first, moves only forward, per app and name", () =>
      withStore(makeStore, async ({ store }) => {
        await store.append([event(), event()]);
        expect(await store.openCursor("app1", "c1")).toBe(2);
        expect(await store.openCursor("app2", "c1")).toBe(0);
        await store.append([event()]);
        expect(await store.openCursor("app1", "c1")).toBe(2);
        expect(await store.openCursor("app1", "c2")).toBe(3);
        await store.saveCursor("app1", "c1", 3);
        await store.saveCursor("app1", "c1", 1);
        expect(await store.openCursor("app1", "c1")).toBe(3);
        await Promise.all([store.saveCursor("app1", "c2", 5), store.saveCursor("app1", "c2", 4)]);
        expect(await store.openCursor("app1", "c2")).toBe(5);
        expect(await store.openCursor("app2", "c1")).toBe(0);
      }));

    it("onAppended tells listeners which app reached which seq, until unsubscribed", () =>
      withStore(makeStore, async ({ store }) => {
        const seen: [string, number][] = [];
        const off = store.onAppended((app, seq) => void seen.push([app, seq]));
        const [, r] = await store.append([event(), event()]);
        await until(() => seen.some(([a, s]) => a === "app1" && s >= r!.seq), 5_000, "onAppended");
        const [r2] = await store.append([event({ app: "app2" })]);
        await until(() => seen.some(([a, s]) => a === "app2" && s >= r2!.seq), 5_000, "onAppended for app2");
        expect(seen.every(([a, s]) => (a === "app1" && s <= 2) || (a === "app2" && s <= 1))).toBe(true);
        off();
        const before = seen.length;
        await store.append([event()]);
        await new Promise((r) => setTimeout(r, 100));
        expect(seen.length).toBe(before);
      }));
  });

  describe("EventStore: transactional append (outbox)", () => {
    it("commits and rolls back with the caller's transaction; a rolled-back event leaves no gap in seq", () =>
      withStore(makeStore, async ({ store, beginTransaction }) => {
        if (!beginTransaction) return;
        const seen: number[] = [];
        store.onAppended((app, seq) => void (app === "app1" && seen.push(seq)));
        const tx = await beginTransaction();
        const r = await store.appendInTransaction(tx.handle, event({ user: "u1" }));
        expect([r.seq, r.subject_seq, r.duplicate]).toEqual([1, 1, false]);
        expect(await store.headSeq("app1")).toBe(0);
        expect(await store.getEvent("app1", r.id)).toBeUndefined();
        await tx.commit();
        expect((await store.getEvent("app1", r.id))?.seq).toBe(1);
        expect(await store.headSeq("app1")).toBe(1);
        await until(() => seen.includes(1), 5_000, "onAppended after the caller's commit");

        const tx2 = await beginTransaction();
        const rolled = await store.appendInTransaction(tx2.handle, event({ user: "u1" }));
        expect(rolled.seq).toBe(2);
        await tx2.rollback();
        expect(await store.getEvent("app1", rolled.id)).toBeUndefined();
        expect(pick(await store.append([event({ user: "u1" })]))).toEqual([[2, 2, false]]);
      }));

    it("orders a concurrent append after the open transaction; answers duplicates; refuses a foreign handle", () =>
      withStore(makeStore, async ({ store, beginTransaction }) => {
        if (!beginTransaction) return;
        const [first] = await store.append([event({ id: ID(7) })]);
        const tx = await beginTransaction();
        const dup = await store.appendInTransaction(tx.handle, event({ id: ID(7) }));
        expect(dup).toEqual({ ...first, duplicate: true });
        const inTx = await store.appendInTransaction(tx.handle, event());
        expect(inTx.seq).toBe(2);
        const racing = store.append([event()]);
        await new Promise((r) => setTimeout(r, 50));
        await tx.commit();
        expect((await racing)[0]!.seq).toBe(3);
        const err = await rejection(Promise.resolve().then(() => store.appendInTransaction({ kind: "nope", connection: null }, event())));
        expect(err.code).toBe("transaction_required");
        expect(await store.headSeq("app1")).toBe(3);
      }));
  });
}
