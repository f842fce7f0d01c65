import { uuidv7 } from "../../core/ids.js";
import { describe, expect, it } from "vitest";
import type { DecisionRecord, HookAnswerRecord } from "../../core/hooks/decision.js";
import type { MakeStore } from "../store-conformance.js";
import { rejection, withStore } from "./fixture.js";

function answer(hook_id: string, outcome: HookAnswerRecord["outcome"], over: Partial<HookAnswerRecord> = {}): HookAnswerRecord {
  return { hook_id, kind: "in_process", outcome, shadow: false, latency_ms: 1.5, ...over };
}

function record(type: DecisionRecord["type"], decision: "allow" | "deny", hooks: HookAnswerRecord[], over: Partial<DecisionRecord> = {}): DecisionRecord {
  return { id: uuidv7(), app_id: "app1", event_id: uuidv7(), type, decision, hooks, latency_ms: 3.25, at: new Date().toISOString(), ...over };
}

export function describeDecisionStore(makeStore: MakeStore): void {
  describe("DecisionStore", () => {
    it("keeps every evaluation as recorded and filters by type, hook and outcome, in recording order, with paging", () =>
      withStore(makeStore, async ({ store: { decisions } }) => {
        const r1 = record("user.pre_create", "allow", [answer("gate", "allow"), answer("flaky", "error", { fail_open: true, error: "boom", error_kind: "threw" })]);
        const r2 = record("user.pre_create", "deny", [answer("gate", "deny", { title: "No", reason: "blocked" })], { denied_by: "gate", title: "No", reason: "blocked" });
        const r3 = record("user.profile.pre_update", "allow", [answer("profile", "allow", { mutations: { user: { custom_attributes: { a: 1 } } } })]);
        const r4 = record("user.pre_create", "allow", [answer("gate", "allow"), answer("shadow", "deny", { shadow: true, kind: "http" })]);
        const foreign = record("user.pre_create", "deny", [answer("gate", "deny")], { app_id: "app2" });
        await decisions.recordDecisions([r1, r2]);
        await decisions.recordDecisions([r3, foreign]);
        await decisions.recordDecisions([r4]);
        await decisions.recordDecisions([]);
        // The same evaluation recorded twice (a retried batch) is kept once.
        await decisions.recordDecisions([r1]);

        const q = (over: Partial<Parameters<typeof decisions.queryDecisions>[0]> = {}) => decisions.queryDecisions({ app_id: "app1", limit: 100, ...over });
        expect(await q()).toEqual([r1, r2, r3, r4]);
        expect(await q({ type: "user.profile.pre_update" })).toEqual([r3]);
        expect(await q({ outcome: "deny" })).toEqual([r2]);
        expect(await q({ outcome: "allow" })).toEqual([r1, r3, r4]);
        expect(await q({ outcome: "error" })).toEqual([r1]);
        expect(await q({ hook_id: "gate" })).toEqual([r1, r2, r4]);
        expect(await q({ hook_id: "gate", outcome: "deny" })).toEqual([r2]);
        expect(await q({ hook_id: "shadow", outcome: "deny" })).toEqual([r4]);
        expect(await q({ hook_id: "flaky", outcome: "allow" })).toEqual([]);
        expect(await q({ hook_id: "gate", type: "user.pre_create", outcome: "allow" })).toEqual([r1, r4]);
        const p1 = await q({ limit: 3 });
        expect([...p1, ...(await q({ limit: 3, after: p1[2]!.id }))]).toEqual([r1, r2, r3, r4]);
        expect(await q({ hook_id: "gate", after: r1.id })).toEqual([r2, r4]);
        expect((await rejection(q({ after: "nope" }))).code).toBe("invalid_query");
        expect((await rejection(q({ after: foreign.id }))).code).toBe("invalid_query");
        expect(await decisions.queryDecisions({ app_id: "app2", limit: 10 })).toEqual([foreign]);
        expect(await decisions.queryDecisions({ app_id: "app3", limit: 10 })).toEqual([]);
      }));
  });
}
