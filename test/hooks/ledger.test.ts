import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, InvalidQueryError, type HandlerErrorInfo } from "../../src/index.js";
import { tempDbPath, user } from "../helpers.js";
import { json, startHookServer, type HookServer } from "./hook-server.js";

const payload = (id = "u1") => ({ user: user(id), identities: [] });

describe("the decision ledger", () => {
  it("records every evaluation and filters by type, hook, outcome, with paging", async () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}`, app: "acme" });
    bus.hooks.add("user.pre_create", (e) => (e.payload.user.id === "bad" ? { is_allowed: false, title: "No" } : { is_allowed: true }), { name: "gate" });
    bus.hooks.add("user.pre_create", () => {
      throw new Error("flaky");
    }, { name: "flaky", failOpen: true });
    bus.hooks.add("user.profile.pre_update", () => ({ is_allowed: true }), { name: "profile" });

    await bus.before("user.pre_create", payload("a"));
    await bus.before("user.pre_create", payload("bad")).catch(() => undefined);
    await bus.before("user.profile.pre_update", { user: user("a") });
    await bus.before("user.pre_create", payload("b"));

    const all = await bus.decisions.query();
    expect(all.map((d) => [d.type, d.decision, d.denied_by ?? null])).toEqual([
      ["user.pre_create", "allow", null],
      ["user.pre_create", "deny", "gate"],
      ["user.profile.pre_update", "allow", null],
      ["user.pre_create", "allow", null],
    ]);
    const first = all[0]!;
    expect(first).toMatchObject({ app_id: "acme", type: "user.pre_create", decision: "allow" });
    expect(first.id).not.toBe(first.event_id);
    expect(Date.parse(first.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(first.latency_ms).toBeGreaterThanOrEqual(0);
    expect(first.hooks).toEqual([
      { hook_id: "gate", kind: "in_process", outcome: "allow", shadow: false, latency_ms: expect.any(Number) },
      { hook_id: "flaky", kind: "in_process", outcome: "error", shadow: false, fail_open: true, error: "the hook threw: flaky", error_kind: "threw", latency_ms: expect.any(Number) },
    ]);
    expect(all[1]!.title).toBe("No");

    expect((await bus.decisions.query({ type: "user.profile.pre_update" })).map((d) => d.hooks[0]!.hook_id)).toEqual(["profile"]);
    expect(await bus.decisions.query({ outcome: "deny" })).toEqual([all[1]]);
    expect(await bus.decisions.query({ outcome: "allow" })).toEqual([all[0], all[2], all[3]]);
    // Without hook_id, "error" means: some hook failed, whatever the decision.
    expect(await bus.decisions.query({ outcome: "error" })).toEqual([all[0], all[3]]);
    // With hook_id, outcome is that hook's answer.
    expect(await bus.decisions.query({ hook_id: "gate", outcome: "deny" })).toEqual([all[1]]);
    expect(await bus.decisions.query({ hook_id: "flaky" })).toEqual([all[0], all[3]]);
    expect(await bus.decisions.query({ hook_id: "flaky", outcome: "allow" })).toEqual([]);
    // Paging.
    const page1 = await bus.decisions.query({ limit: 3 });
    const page2 = await bus.decisions.query({ limit: 3, after: page1[2]!.id });
    expect([...page1, ...page2]).toEqual(all);
    await expect(bus.decisions.query({ limit: 0 })).rejects.toBeInstanceOf(InvalidQueryError);
    await expect(bus.decisions.query({ after: "nope" })).rejects.toBeInstanceOf(InvalidQueryError);
    await bus.close();

    // Durable and per app: a new bus on the same file sees acme's ledger, another app sees nothing.
    const again = createAuthbus({ database: `sqlite:${file}`, app: "acme" });
    expect(await again.decisions.query()).toEqual(all);
    const other = createAuthbus({ database: `sqlite:${file}`, app: "other" });
    expect(await other.decisions.query()).toEqual([]);
    await Promise.all([again.close(), other.close()]);
  });

  it("a failing ledger write never fails before(); it is reported through onError", async () => {
    const file = tempDbPath();
    const errors: [unknown, HandlerErrorInfo][] = [];
    const bus = createAuthbus({ database: `sqlite:${file}`, onError: (e, info) => void errors.push([e, info]) });
    bus.hooks.add("user.pre_create", () => ({ is_allowed: true }));
    await bus.before("user.pre_create", payload());
    await bus.decisions.query();
    // Break the ledger behind the bus's back.
    const db = new Database(file);
    db.exec("DROP TABLE hook_decision_answers; DROP TABLE hook_decisions;");
    db.close();
    await expect(bus.before("user.pre_create", payload("u2"))).resolves.toMatchObject({ user: { id: "u2" } });
    await expect(bus.decisions.query()).rejects.toThrow();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]![1].handler).toBe("hooks:ledger");
    expect((errors[0]![0] as Error).message).toMatch(/hook decision/);
    await bus.close();
  });
});

describe("shadow hooks", () => {
  let server: HookServer;
  beforeAll(async () => {
    server = await startHookServer((_q, res) => void res.writeHead(500).end("shadow endpoint broken"));
  });
  afterAll(() => server.close());

  it("run on real traffic and are recorded, but deny, mutations, errors and timeouts are never enforced", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: true, hookChainBudgetMs: 200 });
    bus.hooks.add("user.pre_create", () => ({ is_allowed: false, title: "would deny" }), { name: "deny", shadow: true });
    bus.hooks.add("user.pre_create", () => ({ is_allowed: true, mutations: { user: { custom_attributes: { shadow: true } } } }), { name: "mutate", shadow: true });
    bus.hooks.add("user.pre_create", async () => {
      await sleep(5000, undefined, { ref: false });
      return { is_allowed: true };
    }, { name: "slow", shadow: true, timeoutMs: 1500 });
    bus.hooks.add("user.pre_create", { url: server.url, shadow: true, name: "http" });
    bus.hooks.add("user.pre_create", () => ({ is_allowed: true, mutations: { user: { custom_attributes: { real: true } } } }), { name: "real" });

    const t0 = performance.now();
    const final = await bus.before("user.pre_create", payload());
    // The slow shadow hook (1.5 s before it times out) neither delays the decision nor uses the 200 ms chain budget.
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(final.user.custom_attributes).toEqual({ real: true });

    const [d] = await bus.decisions.query(); // waits for the shadow answers
    expect(d!.decision).toBe("allow");
    expect(d!.denied_by).toBeUndefined();
    expect(d!.hooks.map((h) => [h.hook_id, h.outcome, h.shadow, h.error_kind ?? null])).toEqual([
      ["real", "allow", false, null],
      ["deny", "deny", true, null],
      ["mutate", "allow", true, null],
      ["slow", "error", true, "timeout"],
      ["http", "error", true, "http_status"],
    ]);
    expect(d!.hooks[1]!.title).toBe("would deny");
    expect(d!.hooks[2]!.mutations).toEqual({ user: { custom_attributes: { shadow: true } } });
    expect(d!.hooks[4]!.error).toBe("HTTP 500: shadow endpoint broken");
    expect(server.requests.length).toBe(1);
    // Queryable like any hook's answers.
    expect(await bus.decisions.query({ hook_id: "deny", outcome: "deny" })).toEqual([d]);
    await bus.close();
  });
});
