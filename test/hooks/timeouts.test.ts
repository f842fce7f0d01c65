import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createAuthbus, HookDeniedError, HookFailedError } from "../../src/index.js";
import { tempDbPath, user } from "../helpers.js";

const payload = () => ({ user: user("u1"), identities: [] });
// Generous margin: the assertion is "answers near the limit", not a wall-clock benchmark.
const MARGIN_MS = 500;

/** Times from before the call: `before()` may start a hook's timer synchronously. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe("hook time limits", () => {
  it("a hook that sleeps past its timeout denies within the limit, and its signal is aborted", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    let aborted: unknown;
    bus.hooks.add("user.pre_create", async (_e, { signal }) => {
      signal.addEventListener("abort", () => (aborted = signal.reason));
      await sleep(5000, undefined, { ref: false });
      return { is_allowed: true };
    }, { name: "sleepy", timeoutMs: 200 });
    const r = await timed(() => bus.before("user.pre_create", payload()));
    expect(r.error).toBeInstanceOf(HookDeniedError);
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(r.ms).toBeLessThan(200 + MARGIN_MS);
    const cause = (r.error as HookDeniedError).cause as HookFailedError;
    expect(cause.failure).toBe("timeout");
    expect(aborted).toBe(cause);
    const [d] = await bus.decisions.query();
    expect(d!.hooks[0]).toMatchObject({ hook_id: "sleepy", outcome: "error", error_kind: "timeout", error: "no answer within 200 ms" });
    expect(d!.hooks[0]!.latency_ms).toBeGreaterThanOrEqual(190);
    await bus.close();
  });

  it("a failOpen hook that times out counts as allow, and the ledger says so", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, hookTimeoutMs: 150 });
    bus.hooks.add("user.pre_create", async () => {
      await sleep(5000, undefined, { ref: false });
      return { is_allowed: false };
    }, { name: "sleepy", failOpen: true });
    bus.hooks.add("user.pre_create", () => ({ is_allowed: true, mutations: { user: { custom_attributes: { checked: true } } } }), { name: "next" });
    const r = await timed(() => bus.before("user.pre_create", payload()));
    expect(r.error).toBeUndefined();
    expect(r.value!.user.custom_attributes).toEqual({ checked: true });
    expect(r.ms).toBeLessThan(150 + MARGIN_MS);
    const [d] = await bus.decisions.query();
    expect(d!.decision).toBe("allow");
    expect(d!.hooks.map((h) => [h.hook_id, h.outcome, h.fail_open ?? false, h.error_kind])).toEqual([
      ["sleepy", "error", true, "timeout"],
      ["next", "allow", false, undefined],
    ]);
    await bus.close();
  });

  it("the chain budget stops a chain of slow hooks, each within its own timeout", async () => {
    // Wide gaps (a answers at ~600 ms of a 1000 ms budget) so a loaded machine cannot reorder the outcome.
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, hookChainBudgetMs: 1000 });
    const ran: string[] = [];
    for (const name of ["a", "b", "c", "d"]) {
      bus.hooks.add("user.pre_create", async () => {
        ran.push(name);
        await sleep(600, undefined, { ref: false });
        return { is_allowed: true };
      }, { name });
    }
    const r = await timed(() => bus.before("user.pre_create", payload()));
    expect(r.error).toBeInstanceOf(HookDeniedError);
    expect((r.error as HookDeniedError).hookId).toBe("b");
    expect(((r.error as HookDeniedError).cause as HookFailedError).failure).toBe("budget_exhausted");
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(1000 + MARGIN_MS);
    expect(ran).toEqual(["a", "b"]);
    const [d] = await bus.decisions.query();
    expect(d!.hooks.map((h) => [h.hook_id, h.outcome, h.error_kind])).toEqual([
      ["a", "allow", undefined],
      ["b", "error", "budget_exhausted"],
    ]);
    await bus.close();
  });

  it("with failOpen hooks the budget still bounds the chain: hooks past it are not run", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, hookChainBudgetMs: 1000 });
    const ran: string[] = [];
    for (const name of ["a", "b", "c"]) {
      bus.hooks.add("user.pre_create", async () => {
        ran.push(name);
        await sleep(600, undefined, { ref: false });
        return { is_allowed: true };
      }, { name, failOpen: true });
    }
    const r = await timed(() => bus.before("user.pre_create", payload()));
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeLessThan(1000 + MARGIN_MS);
    expect(ran).toEqual(["a", "b"]);
    const [d] = await bus.decisions.query();
    expect(d!.hooks.map((h) => [h.hook_id, h.outcome, h.error_kind, h.fail_open ?? false])).toEqual([
      ["a", "allow", undefined, false],
      ["b", "error", "budget_exhausted", true],
      ["c", "error", "budget_exhausted", true],
    ]);
    expect(d!.hooks[2]!.latency_ms).toBe(0);
    await bus.close();
  });
});
