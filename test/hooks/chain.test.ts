import { afterAll, describe, expect, it } from "vitest";
import {
  createAuthbus,
  HookDeniedError,
  HookFailedError,
  InvalidHookError,
  InvalidOptionsError,
  NonBlockingEventTypeError,
  UnknownEventTypeError,
  ValidationError,
  type Authbus,
  type HookEvent,
} from "../../src/index.js";
import { tempDbPath, user } from "../helpers.js";

const newUser = (id = "u1") => ({ user: user(id), identities: [{ id: "i1", type: "login_id", claims: { email: `${id}@example.com` } }] });
const token = { iss: "https://auth.example.com", sub: "u1", aud: ["api"], exp: 2_000_000_000, iat: 1_700_000_000, jti: "t1", scope: "openid" };

async function denial(p: Promise<unknown>): Promise<HookDeniedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HookDeniedError);
  return e as HookDeniedError;
}

function bus(options: Parameters<typeof createAuthbus>[0] = {}): Authbus {
  return createAuthbus({ database: `sqlite:${tempDbPath()}`, ...options });
}

describe("bus.before with in-process hooks", () => {
  it("runs hooks in registration order (constructor first, then hooks.add), each seeing earlier mutations", async () => {
    const seen: { hook: string; event: HookEvent<"user.pre_create"> }[] = [];
    const b = bus({
      app: "acme",
      now: () => 1_700_000_000_900,
      hooks: {
        "user.pre_create": [
          (event) => {
            seen.push({ hook: "a", event });
            return { is_allowed: true, mutations: { user: { standard_attributes: { ...event.payload.user.standard_attributes, name: "Ada" } } } };
          },
          {
            name: "b",
            handler: (event) => {
              seen.push({ hook: "b", event });
              return { is_allowed: true, mutations: { user: { custom_attributes: { plan: "free" } } } };
            },
          },
        ],
      },
    });
    b.hooks.add("user.pre_create", (event) => {
      seen.push({ hook: "c", event });
      return { is_allowed: true, mutations: { user: { custom_attributes: { ...event.payload.user.custom_attributes, referrer: "x" } } } };
    });

    const final = await b.before("user.pre_create", newUser(), { ip_address: "203.0.113.1", client_id: "web" });
    expect(seen.map((s) => s.hook)).toEqual(["a", "b", "c"]);
    expect(seen[1]!.event.payload.user.standard_attributes).toEqual({ email: "u1@example.com", name: "Ada" });
    expect(seen[2]!.event.payload.user.custom_attributes).toEqual({ plan: "free" });
    expect(final).toEqual({
      user: { id: "u1", standard_attributes: { email: "u1@example.com", name: "Ada" }, custom_attributes: { plan: "free", referrer: "x" } },
      identities: newUser().identities,
    });
    // The envelope of seed 002: a fresh UUIDv7 id per evaluation (the same for every hook), seq 0, full context.
    const e = seen[0]!.event;
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(new Set(seen.map((s) => s.event.id)).size).toBe(1);
    expect(e.seq).toBe(0);
    expect(e.type).toBe("user.pre_create");
    expect(e.context).toEqual({
      app_id: "acme",
      client_id: "web",
      ip_address: "203.0.113.1",
      timestamp: 1_700_000_000,
      triggered_by: "user",
      preferred_languages: [],
      language: "en",
      user_id: "u1",
    });
    // The caller's result is its own: a plain object it may change.
    final.user.id = "changed";
    await b.close();
  });

  it("stops at the first deny: later hooks do not run and the caller gets HookDeniedError with title and reason", async () => {
    const ran: string[] = [];
    const b = bus();
    b.hooks.add("user.pre_create", () => (ran.push("a"), { is_allowed: true }), { name: "allow-all" });
    b.hooks.add("user.pre_create", (e) => (ran.push("b"), e.payload.user.id.startsWith("blocked") ? { is_allowed: false, title: "Sign-up closed", reason: "Try again next week" } : { is_allowed: true }), { name: "blocklist" });
    b.hooks.add("user.pre_create", () => (ran.push("c"), { is_allowed: true }));

    const err = await denial(b.before("user.pre_create", newUser("blocked-1")));
    expect(err.code).toBe("hook_denied");
    expect(err.title).toBe("Sign-up closed");
    expect(err.reason).toBe("Try again next week");
    expect(err.hookId).toBe("blocklist");
    expect(err.message).toBe("user.pre_create was not allowed: Sign-up closed: Try again next week");
    expect(ran).toEqual(["a", "b"]);
    const [d] = await b.decisions.query({ outcome: "deny" });
    expect(d!.id).toBe(err.decisionId);
    expect(d!.hooks.map((h) => [h.hook_id, h.outcome])).toEqual([["allow-all", "allow"], ["blocklist", "deny"]]);

    ran.length = 0;
    await b.before("user.pre_create", newUser("fine"));
    expect(ran).toEqual(["a", "b", "c"]);
    await b.close();
  });

  it("applies JWT mutations on oidc.jwt.pre_create, keeping reserved claims", async () => {
    const b = bus({
      hooks: {
        "oidc.jwt.pre_create": [
          (e) => ({ is_allowed: true, mutations: { jwt: { payload: { ...e.payload.jwt.payload, "https://example.com/roles": ["admin"] } } } }),
          // Leaving reserved claims out keeps them; the rest of the claims set is replaced.
          (e) => ({ is_allowed: true, mutations: { jwt: { payload: { roles: e.payload.jwt.payload["https://example.com/roles"] } } } }),
        ],
      },
    });
    const final = await b.before("oidc.jwt.pre_create", { user: user("u1"), jwt: { payload: token } });
    expect(final.jwt.payload).toEqual({ roles: ["admin"], iss: token.iss, sub: "u1", aud: ["api"], exp: token.exp, iat: token.iat, jti: "t1" });
    await b.close();
  });

  describe("an invalid answer denies (fail closed) with the reason in the ledger", () => {
    const cases: [string, "user.pre_create" | "oidc.jwt.pre_create" | "user.pre_schedule_deletion", unknown, string][] = [
      ["reserved claim changed", "oidc.jwt.pre_create", { is_allowed: true, mutations: { jwt: { payload: { ...token, sub: "someone-else" } } } }, "/mutations/jwt/payload/sub: reserved claim sub cannot be changed"],
      ["reserved claim added", "oidc.jwt.pre_create", { is_allowed: true, mutations: { jwt: { payload: { nonce: "n" } } } }, "/mutations/jwt/payload/nonce: reserved claim nonce cannot be set"],
      ["standard attribute of the wrong type", "user.pre_create", { is_allowed: true, mutations: { user: { standard_attributes: { email_verified: "yes" } } } }, "/mutations/user/standard_attributes/email_verified"],
      ["unknown standard attribute", "user.pre_create", { is_allowed: true, mutations: { user: { standard_attributes: { shoe_size: 44 } } } }, "/mutations/user/standard_attributes/shoe_size"],
      ["unknown user field", "user.pre_create", { is_allowed: true, mutations: { user: { roles: ["admin"] } } }, "/mutations/user/roles"],
      ["unknown top-level key", "user.pre_create", { is_allowed: true, mutation: {} }, "/mutation"],
      ["is_allowed missing", "user.pre_create", { title: "hi" }, "/is_allowed"],
      ["user mutation on oidc.jwt.pre_create", "oidc.jwt.pre_create", { is_allowed: true, mutations: { user: { custom_attributes: {} } } }, "/mutations/user: oidc.jwt.pre_create does not allow user mutations"],
      ["jwt mutation on user.pre_create", "user.pre_create", { is_allowed: true, mutations: { jwt: { payload: {} } } }, "/mutations/jwt: user.pre_create does not allow jwt mutations"],
      ["user mutation on user.pre_schedule_deletion", "user.pre_schedule_deletion", { is_allowed: true, mutations: { user: { custom_attributes: { a: 1 } } } }, "/mutations/user: user.pre_schedule_deletion does not allow user mutations"],
      ["a Date in custom_attributes", "user.pre_create", { is_allowed: true, mutations: { user: { custom_attributes: { at: new Date() } } } }, "/mutations/user/custom_attributes/at"],
      ["no answer at all", "user.pre_create", undefined, "the hook returned nothing"],
    ];
    const b = bus();
    afterAll(() => b.close());
    it.each(cases)("%s", async (_name, type, answer, expected) => {
      const id = b.hooks.add(type, () => answer as never);
      const payload = type === "oidc.jwt.pre_create" ? { user: user("u1"), jwt: { payload: token } } : type === "user.pre_create" ? newUser() : { user: user("u1") };
      const err = await denial(b.before(type, payload as never));
      expect(err.title).toBeUndefined();
      expect(err.message).toBe(`${type} was not allowed: a hook failed (fail closed)`);
      expect(err.cause).toBeInstanceOf(HookFailedError);
      expect((err.cause as HookFailedError).failure).toBe("invalid_response");
      const [d] = await b.decisions.query({ hook_id: id, outcome: "error" });
      expect(d!.hooks[0]!.error_kind).toBe("invalid_response");
      expect(d!.hooks[0]!.error).toContain(expected);
      b.hooks.remove(id);
    });
  });

  it("a hook that throws or edits the frozen event in place denies; failOpen lets the chain go on, marked in the ledger", async () => {
    const b = bus();
    b.hooks.add("user.profile.pre_update", () => {
      throw new Error("database down");
    }, { name: "flaky", failOpen: true });
    b.hooks.add("user.profile.pre_update", (e) => {
      (e.payload.user as { id: string }).id = "hijacked";
      return { is_allowed: true };
    }, { name: "sneaky" });
    const err = await denial(b.before("user.profile.pre_update", { user: user("u1") }));
    expect(err.hookId).toBe("sneaky");
    const [d] = await b.decisions.query();
    expect(d!.hooks).toEqual([
      expect.objectContaining({ hook_id: "flaky", outcome: "error", fail_open: true, error: "the hook threw: database down", error_kind: "threw" }),
      expect.objectContaining({ hook_id: "sneaky", outcome: "error", error_kind: "threw" }),
    ]);
    expect(d!.hooks[1]!.error).toMatch(/read.only|Cannot assign/);
    await b.close();
  });

  it("validates the payload and type before running any hook", async () => {
    let ran = 0;
    const b = bus({ hooks: { "user.pre_create": [() => (ran++, { is_allowed: true })] } });
    await expect(b.before("user.pre_create", { user: { id: 1 } } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(b.before("user.created" as never, newUser() as never)).rejects.toBeInstanceOf(NonBlockingEventTypeError);
    await expect(b.before("user.exploded" as never, {} as never)).rejects.toBeInstanceOf(UnknownEventTypeError);
    expect(ran).toBe(0);
    await b.close();
  });

  it("with no hooks for the type, answers a copy of the payload and records nothing", async () => {
    const b = bus();
    const input = newUser();
    const out = await b.before("user.pre_create", input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(await b.decisions.query()).toEqual([]);
    await b.close();
  });
});

describe("hook registration", () => {
  it("adds, lists in run order, and removes; a removed hook no longer runs", async () => {
    const b = bus({ hooks: { "user.pre_create": [() => ({ is_allowed: true })] } });
    const id = b.hooks.add("user.pre_create", () => ({ is_allowed: false }), { timeoutMs: 250, shadow: true });
    expect(id).toMatch(/^hook_[0-9a-f-]{36}$/);
    expect(b.hooks.list()).toEqual([
      { id: "user.pre_create#1", type: "user.pre_create", kind: "in_process", timeoutMs: 5000, failOpen: false, shadow: false, source: "options" },
      { id, type: "user.pre_create", kind: "in_process", timeoutMs: 250, failOpen: false, shadow: true, source: "runtime" },
    ]);
    expect(b.hooks.remove(id)).toBe(true);
    expect(b.hooks.remove(id)).toBe(false);
    expect(b.hooks.list("user.pre_create").map((h) => h.id)).toEqual(["user.pre_create#1"]);
    await b.close();
  });

  it("refuses bad registrations with InvalidHookError", async () => {
    const b = bus();
    const ok = () => ({ is_allowed: true });
    expect(() => b.hooks.add("user.created" as never, ok)).toThrow(InvalidHookError);
    expect(() => b.hooks.add("user.created" as never, ok)).toThrow(/not a blocking type/);
    expect(() => b.hooks.add("nope" as never, ok)).toThrow(InvalidHookError);
    expect(() => b.hooks.add("user.pre_create", {} as never)).toThrow(/must be a function/);
    expect(() => b.hooks.add("user.pre_create", ok, { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => b.hooks.add("user.pre_create", ok, { timeoutMs: 1.5 })).toThrow(/timeoutMs/);
    expect(() => b.hooks.add("user.pre_create", ok, { bogus: 1 } as never)).toThrow(/Unknown hook option/);
    expect(() => b.hooks.add("user.pre_create", { url: "ftp://example.com/x" })).toThrow(/https/);
    expect(() => b.hooks.add("user.pre_create", { url: "http://example.com/x" })).toThrow(/plain http/);
    expect(() => b.hooks.add("user.pre_create", { url: "https://user:pw@example.com/x" })).toThrow(/credentials/);
    expect(() => b.hooks.add("user.pre_create", { url: "https://example.com/x", secret: "whsec_short" })).toThrow(/secret/);
    expect(() => b.hooks.add("user.pre_create", { url: "not a url" })).toThrow(/not a valid URL/);
    b.hooks.add("user.pre_create", ok, { name: "unique" });
    expect(() => b.hooks.add("user.pre_schedule_deletion", ok, { name: "unique" })).toThrow(/already registered/);
    expect(b.hooks.list().map((h) => h.id)).toEqual(["unique"]);
    await b.close();
  });

  it("validates the hook options of createAuthbus", () => {
    const file = tempDbPath();
    expect(() => createAuthbus({ database: file, hooks: { "user.created": [() => ({ is_allowed: true })] } as never })).toThrow(InvalidOptionsError);
    expect(() => createAuthbus({ database: file, hooks: { "user.pre_create": [{ url: "https://example.com/hook" }] } as never })).toThrow(InvalidOptionsError);
    expect(() => createAuthbus({ database: file, hookTimeoutMs: 0 })).toThrow(InvalidOptionsError);
    expect(() => createAuthbus({ database: file, hookChainBudgetMs: -1 })).toThrow(InvalidOptionsError);
    expect(() => createAuthbus({ database: file, hooks: { "user.pre_create": [{ url: "https://10.0.0.1/hook", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }] } })).toThrow(InvalidHookError);
  });
});
