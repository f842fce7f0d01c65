import { describe, expect, it } from "vitest";
import { createAuthbus, type HandlerErrorInfo } from "../src/index.js";
import { tempDbPath, until, user } from "./helpers.js";

describe("durable in-process handlers", () => {
  it("a handler that throws three times then succeeds gets the event on the fourth try; other handlers are not held back", async () => {
    const errors: HandlerErrorInfo[] = [];
    const bus = createAuthbus({
      database: `sqlite:${tempDbPath()}`,
      handlerRetry: { baseMs: 40, maxMs: 1000 },
      onError: (_e, info) => void errors.push(info),
    });
    const attempts: number[] = [];
    const flakyOk: number[] = [];
    const steady: number[] = [];
    let failuresLeft = 3;
    bus.on("user.*", (e) => {
      attempts.push(e.seq);
      if (e.seq === 1 && failuresLeft-- > 0) throw new Error("downstream unavailable");
      flakyOk.push(e.seq);
    }, { name: "flaky" });
    bus.on("user.**", (e) => void steady.push(e.seq), { name: "steady" });

    for (let i = 0; i < 5; i++) await bus.emit("user.disabled", { user: user(`u${i}`) });
    // The steady handler gets all five while the flaky one is still retrying event 1.
    await until(() => steady.length === 5, 5000, "steady handler");
    expect(flakyOk).toEqual([]);
    await until(() => flakyOk.length === 5, 5000, "flaky handler");
    expect(attempts.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(flakyOk).toEqual([1, 2, 3, 4, 5]);
    expect(errors.map((e) => [e.handler, e.event?.seq, e.attempt])).toEqual([
      ["flaky", 1, 1],
      ["flaky", 1, 2],
      ["flaky", 1, 3],
    ]);
    // Backoff grows: 40 ms, 80 ms, 160 ms with ±20% jitter.
    expect(errors[1]!.retryInMs).toBeGreaterThan(errors[0]!.retryInMs);
    await bus.close();
  });

  it("emit does not wait for handlers unless asked with await: true", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: number[] = [];
    bus.on("user.created", async (e) => {
      await gate;
      done.push(e.seq);
    });
    await bus.emit("user.created", { user: user("a"), identities: [] });
    expect(done).toEqual([]);
    const awaited = bus.emit("user.created", { user: user("b"), identities: [] }, {}, { await: true });
    let settled = false;
    void awaited.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    release();
    await awaited;
    expect(done).toEqual([1, 2]);
    await bus.close();
  });

  it("resumes from its cursor after a restart and sees only events recorded after it was first registered", async () => {
    const file = tempDbPath();
    const first = createAuthbus({ database: `sqlite:${file}` });
    await first.emit("user.disabled", { user: user("before") });
    const got1: string[] = [];
    first.on("user.*", (e) => void got1.push(e.payload.user.id), { name: "audit" });
    await first.emit("user.disabled", { user: user("one") }, {}, { await: true });
    await first.close();

    const writer = createAuthbus({ database: `sqlite:${file}` });
    await writer.emit("user.disabled", { user: user("while-down-1") });
    await writer.emit("user.reenabled", { user: user("while-down-2") });
    await writer.close();

    const second = createAuthbus({ database: `sqlite:${file}` });
    const got2: string[] = [];
    second.on("user.*", (e) => void got2.push(e.payload.user.id), { name: "audit" });
    await until(() => got2.length === 2, 5000, "resumed handler");
    expect(got1).toEqual(["one"]);
    expect(got2).toEqual(["while-down-1", "while-down-2"]);
    await second.close();
  });

  it("picks up events written by another process's connection by polling", async () => {
    const file = tempDbPath();
    const reader = createAuthbus({ database: `sqlite:${file}`, pollIntervalMs: 20 });
    const got: number[] = [];
    reader.on("**", (e) => void got.push(e.seq), { name: "all" });
    const other = createAuthbus({ database: `sqlite:${file}` });
    await other.emit("bot_protection.verification.failed", {}, { ip_address: "198.51.100.7" });
    await until(() => got.length === 1, 2000, "poll");
    await Promise.all([reader.close(), other.close()]);
  });
});

describe("NextAuth-style events option", () => {
  const identity = {
    id: "i1",
    type: "oauth",
    claims: { email: "ada@example.com", "https://authgear.com/claims/oauth/provider_type": "github", "https://authgear.com/claims/oauth/subject_id": "gh-42" },
  };
  const ada = { id: "u1", standard_attributes: { name: "Ada", email: "ada@example.com", picture: "https://example.com/a.png", email_verified: true } };

  it("hands v4 handlers the seed 000 message shapes", async () => {
    const got: Record<string, unknown[]> = {};
    const push = (k: string) => (m: unknown) => void (got[k] ??= []).push(m);
    const bus = createAuthbus({
      database: `sqlite:${tempDbPath()}`,
      now: () => 1_700_000_000_000,
      events: { signIn: push("signIn"), signOut: push("signOut"), createUser: push("createUser"), updateUser: push("updateUser"), linkAccount: push("linkAccount"), session: push("session"), error: push("error") },
    });
    await bus.emit("user.created", { user: ada, identities: [identity] });
    await bus.emit("identity.oauth.connected", { user: ada, identity });
    await bus.emit("user.authenticated", { user: ada, session: { id: "s1" }, identity, is_new_user: true });
    await bus.emit("user.profile.updated", { user: ada });
    await bus.emit("user.session.accessed", { user: ada, session: { id: "s1", expires_at: "2030-01-01T00:00:00.000Z" } });
    await bus.emit("user.signed_out", { user: ada, sessions: [{ id: "s1" }], token: { sub: "u1", jti: "t" } } as never);
    await bus.emit("auth.error", { error: { name: "OAuthCallbackError", message: "state mismatch" } }, {}, { await: true });
    await until(() => Object.keys(got).length === 7, 5000, "all seven handlers");
    const naUser = { id: "u1", name: "Ada", email: "ada@example.com", image: "https://example.com/a.png", emailVerified: new Date(1_700_000_000_000) };
    expect(got.createUser).toEqual([{ user: naUser }]);
    expect(got.updateUser).toEqual([{ user: naUser }]);
    expect(got.linkAccount).toEqual([{ user: naUser, account: { provider: "github", type: "oauth", providerAccountId: "gh-42", userId: "u1" }, profile: identity.claims }]);
    expect(got.signIn).toEqual([{ user: naUser, account: { provider: "github", type: "oauth", providerAccountId: "gh-42", userId: "u1" }, profile: undefined, isNewUser: true }]);
    expect(got.session).toEqual([{ session: { sessionToken: "s1", userId: "u1", expires: new Date("2030-01-01T00:00:00.000Z") } }]);
    expect(got.signOut).toEqual([{ token: { sub: "u1", jti: "t" } }]);
    expect(got.error).toEqual([{ name: "OAuthCallbackError", message: "state mismatch" }]);
    await bus.close();
  });

  it("hands v3 handlers the seed 001/003 shapes on request", async () => {
    const got: Record<string, unknown[]> = {};
    const push = (k: string) => (m: unknown) => void (got[k] ??= []).push(m);
    const bus = createAuthbus({
      database: `sqlite:${tempDbPath()}`,
      eventsShape: "v3",
      events: { linkAccount: push("linkAccount"), createUser: push("createUser"), session: push("session"), signOut: push("signOut") },
    });
    await bus.emit("user.created", { user: { id: "u1" }, identities: [] });
    await bus.emit("identity.oauth.connected", { user: { id: "u1" }, identity });
    await bus.emit("user.session.accessed", { token: { sub: "u1" } });
    await bus.emit("user.signed_out", { user: { id: "u1" }, sessions: [{ id: "s9" }] }, {}, { await: true });
    await until(() => Object.keys(got).length === 4, 5000, "v3 handlers");
    expect(got.createUser).toEqual([{ id: "u1", name: null, email: null, image: null, emailVerified: null }]);
    expect(got.linkAccount![0]).toMatchObject({ user: { id: "u1" }, providerAccount: { provider: "github", providerAccountId: "gh-42" } });
    expect(got.session).toEqual([{ session: null, jwt: { sub: "u1" } }]);
    expect(got.signOut).toEqual([{ sessionToken: "s9", userId: "u1", expires: undefined }]);
    await bus.close();
  });
});
