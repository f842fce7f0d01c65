import { describe, expect, it } from "vitest";
import { runHookChain, type ChainHook, type HookEvent, type InvokeLimit } from "./chain.js";
import { HookFailedError } from "../errors.js";

const hook = (id: string, extra: Partial<ChainHook> = {}): ChainHook => ({ id, kind: "in_process", timeoutMs: 5000, failOpen: false, shadow: false, ...extra });

const event = (): HookEvent<"user.pre_create"> => ({
  id: "evt-1",
  seq: 0,
  type: "user.pre_create",
  payload: { user: { id: "u1", standard_attributes: { email: "u1@example.com" } }, identities: [] },
  context: { app_id: "default", timestamp: 1, triggered_by: "user", preferred_languages: [], language: "en" },
});

/** A scripted runtime: each hook's answer is a function of the event it received; time advances by each hook's declared cost. */
function script(answers: Record<string, (e: HookEvent, limit: InvokeLimit) => unknown>, cost: Record<string, number> = {}) {
  let now = 0;
  const calls: { id: string; payload: unknown; limit: InvokeLimit }[] = [];
  return {
    clock: () => now,
    calls,
    invoke: async (h: ChainHook, e: HookEvent, limit: InvokeLimit) => {
      calls.push({ id: h.id, payload: e.payload, limit });
      const spent = cost[h.id] ?? 0;
      if (spent > limit.timeoutMs) {
        now += limit.timeoutMs;
        throw new HookFailedError(limit.byBudget ? "budget_exhausted" : "timeout", `timed out after ${limit.timeoutMs} ms`);
      }
      now += spent;
      return answers[h.id]!(e, limit);
    },
  };
}

describe("runHookChain", () => {
  it("runs hooks in order, each seeing earlier mutations, and returns the mutated payload", async () => {
    const s = script({
      a: () => ({ is_allowed: true, mutations: { user: { custom_attributes: { step: "a" } } } }),
      b: (e) => ({ is_allowed: true, mutations: { user: { custom_attributes: { ...(e.payload as any).user.custom_attributes, step2: "b" } } } }),
      c: () => ({ is_allowed: true }),
    });
    const r = await runHookChain({ event: event(), hooks: [hook("a"), hook("b"), hook("c")], budgetMs: 10_000, ...s });
    expect(r.allowed).toBe(true);
    expect(s.calls.map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect((s.calls[1]!.payload as any).user.custom_attributes).toEqual({ step: "a" });
    expect((r.payload as any).user.custom_attributes).toEqual({ step: "a", step2: "b" });
    expect(r.answers.map((a) => [a.hook_id, a.outcome])).toEqual([["a", "allow"], ["b", "allow"], ["c", "allow"]]);
  });

  it("stops at the first deny, with its title and reason", async () => {
    const s = script({ a: () => ({ is_allowed: true }), b: () => ({ is_allowed: false, title: "Closed", reason: "Sign-ups are closed" }), c: () => ({ is_allowed: true }) });
    const r = await runHookChain({ event: event(), hooks: [hook("a"), hook("b"), hook("c")], budgetMs: 10_000, ...s });
    expect(r).toMatchObject({ allowed: false, deniedBy: "b", title: "Closed", reason: "Sign-ups are closed" });
    expect(s.calls.map((c) => c.id)).toEqual(["a", "b"]);
  });

  it("fails closed on an invalid answer, a throw or a timeout; failOpen counts them as allow without mutations", async () => {
    const bad = { is_allowed: true, mutations: { user: { standard_attributes: { shoe_size: 44 } } } };
    for (const [answer, kind] of [
      [() => bad, "invalid_response"],
      [() => { throw new Error("boom"); }, "threw"],
      [() => ({ is_allowed: true }), "timeout"],
    ] as const) {
      const s = script({ a: answer, b: () => ({ is_allowed: true }) }, kind === "timeout" ? { a: 6000 } : {});
      const closed = await runHookChain({ event: event(), hooks: [hook("a"), hook("b")], budgetMs: 10_000, ...s });
      expect(closed.allowed).toBe(false);
      expect(closed.deniedBy).toBe("a");
      expect(closed.failure).toBeInstanceOf(HookFailedError);
      expect(closed.answers[0]).toMatchObject({ outcome: "error", error_kind: kind });
      const s2 = script({ a: answer, b: () => ({ is_allowed: true }) }, kind === "timeout" ? { a: 6000 } : {});
      const open = await runHookChain({ event: event(), hooks: [hook("a", { failOpen: true }), hook("b")], budgetMs: 10_000, ...s2 });
      expect(open.allowed).toBe(true);
      expect(open.answers[0]).toMatchObject({ outcome: "error", fail_open: true });
      expect(open.payload).toEqual(event().payload);
    }
  });

  it("a failOpen hook that answers is_allowed: false still denies", async () => {
    const s = script({ a: () => ({ is_allowed: false }) });
    expect((await runHookChain({ event: event(), hooks: [hook("a", { failOpen: true })], budgetMs: 10_000, ...s })).allowed).toBe(false);
  });

  it("gives each hook the smaller of its timeout and what is left of the budget, and skips hooks once it is spent", async () => {
    const ok = () => ({ is_allowed: true });
    const s = script({ a: ok, b: ok, c: ok, d: ok }, { a: 4000, b: 4000, c: 4000 });
    const r = await runHookChain({ event: event(), hooks: [hook("a"), hook("b"), hook("c", { failOpen: true }), hook("d")], budgetMs: 10_000, ...s });
    expect(s.calls.map((c) => [c.id, c.limit])).toEqual([
      ["a", { timeoutMs: 5000, byBudget: false }],
      ["b", { timeoutMs: 5000, byBudget: false }],
      ["c", { timeoutMs: 2000, byBudget: true }],
    ]);
    expect(r.allowed).toBe(false);
    expect(r.deniedBy).toBe("d");
    expect(r.answers.map((a) => [a.hook_id, a.outcome, a.error_kind])).toEqual([
      ["a", "allow", undefined],
      ["b", "allow", undefined],
      ["c", "error", "budget_exhausted"],
      ["d", "error", "budget_exhausted"],
    ]);
  });

  it("runs shadow hooks without waiting for them and never enforces their answers", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const s = script({
      shadowDeny: async () => {
        await held;
        return { is_allowed: false, title: "would deny" };
      },
      shadowMutate: () => ({ is_allowed: true, mutations: { user: { custom_attributes: { shadow: true } } } }),
      shadowBad: () => ({ nope: true }),
      real: () => ({ is_allowed: true }),
    });
    const r = await runHookChain({
      event: event(),
      hooks: [hook("shadowDeny", { shadow: true }), hook("shadowMutate", { shadow: true }), hook("shadowBad", { shadow: true }), hook("real")],
      budgetMs: 10_000,
      ...s,
    });
    expect(r.allowed).toBe(true);
    expect(r.payload).toEqual(event().payload);
    expect(r.answers.map((a) => a.hook_id)).toEqual(["real"]);
    release();
    const shadow = await r.shadow;
    expect(shadow.map((a) => [a.hook_id, a.outcome, a.shadow])).toEqual([
      ["shadowDeny", "deny", true],
      ["shadowMutate", "allow", true],
      ["shadowBad", "error", true],
    ]);
    expect(shadow[1]!.mutations).toEqual({ user: { custom_attributes: { shadow: true } } });
  });

  it("hands hooks a frozen payload, so editing it in place is an error rather than an unvalidated mutation", async () => {
    const s = script({
      a: (e) => {
        (e.payload as any).user.standard_attributes.email = "evil@example.com";
        return { is_allowed: true };
      },
    });
    const r = await runHookChain({ event: event(), hooks: [hook("a")], budgetMs: 10_000, ...s });
    expect(r.allowed).toBe(false);
    expect(r.answers[0]).toMatchObject({ outcome: "error", error_kind: "threw" });
  });
});
