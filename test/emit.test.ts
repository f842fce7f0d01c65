import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  AuthbusError,
  BlockingEventTypeError,
  createAuthbus,
  IdempotencyConflictError,
  InvalidOptionsError,
  NotJsonValueError,
  PayloadTooLargeError,
  UnknownEventTypeError,
  ValidationError,
  type Authbus,
} from "../src/index.js";
import { tempDbPath, user } from "./helpers.js";

function countRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function expectRejected(bus: Authbus, file: string, fn: () => Promise<unknown>, cls: new (...a: any[]) => AuthbusError, code: string) {
  const before = countRows(file);
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect((err as AuthbusError).code).toBe(code);
  expect(countRows(file)).toBe(before);
  return err as AuthbusError;
}

describe("emit", () => {
  it("records an event with the seed 002 envelope and answers once durable", async () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}`, app: "acme", now: () => 1_700_000_000_500 });
    const r = await bus.emit(
      "user.created",
      { user: user("u1"), identities: [{ id: "i1", type: "login_id", claims: { email: "u1@example.com" } }] },
      { ip_address: "203.0.113.9", user_agent: "curl/8", preferred_languages: ["fr"], client_id: "web" },
    );
    expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.seq).toBe(1);
    const [e] = await bus.query();
    expect(e).toEqual({
      id: r.id,
      seq: 1,
      subject_seq: 1,
      type: "user.created",
      payload: { user: user("u1"), identities: [{ id: "i1", type: "login_id", claims: { email: "u1@example.com" } }] },
      context: {
        app_id: "acme",
        client_id: "web",
        timestamp: 1_700_000_000,
        user_id: "u1",
        ip_address: "203.0.113.9",
        user_agent: "curl/8",
        triggered_by: "user",
        preferred_languages: ["fr"],
        language: "en",
      },
    });
    expect(await bus.getEvent(r.id)).toEqual(e);
    await bus.close();
  });

  it("keeps subject_seq per user and seq per app", async () => {
    const file = tempDbPath();
    const a = createAuthbus({ database: `sqlite:${file}`, app: "a" });
    const b = createAuthbus({ database: `sqlite:${file}`, app: "b" });
    await a.emit("user.profile.updated", { user: user("x") });
    await a.emit("user.profile.updated", { user: user("y") });
    await a.emit("user.profile.updated", { user: user("x") });
    await a.emit("bot_protection.verification.failed", {});
    await b.emit("user.profile.updated", { user: user("x") });
    const evA = await a.query();
    expect(evA.map((e) => [e.seq, e.context.user_id ?? null, e.subject_seq])).toEqual([
      [1, "x", 1],
      [2, "y", 1],
      [3, "x", 2],
      [4, null, null],
    ]);
    const evB = await b.query();
    expect(evB.map((e) => [e.seq, e.subject_seq])).toEqual([[1, 1]]);
    await Promise.all([a.close(), b.close()]);
  });

  it("is idempotent by caller-chosen id: same id, one event, same answer; different content conflicts", async () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}` });
    const id = "0190d6a3-0000-7000-8000-000000000001";
    const p = { user: user("u1") };
    const [r1, r2] = await Promise.all([bus.emit("user.disabled", p, {}, { id }), bus.emit("user.disabled", p, {}, { id })]);
    const r3 = await bus.emit("user.disabled", p, {}, { id });
    expect(r1).toEqual({ id, seq: 1 });
    expect(r2).toEqual(r1);
    expect(r3).toEqual(r1);
    expect(countRows(file)).toBe(1);
    await expectRejected(bus, file, () => bus.emit("user.reenabled", p, {}, { id }), IdempotencyConflictError, "idempotency_conflict");
    await bus.close();
  });

  describe("bad input gets a typed error naming the problem and writes nothing", () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}` });
    it("unknown type", async () => {
      const e = await expectRejected(bus, file, () => bus.emit("user.exploded" as never, {} as never), UnknownEventTypeError, "unknown_event_type");
      expect(e.message).toContain("user.exploded");
    });
    it("blocking type", async () => {
      await expectRejected(bus, file, () => bus.emit("user.pre_create" as never, { user: user("u"), identities: [] } as never), BlockingEventTypeError, "blocking_event_type");
    });
    it("wrong field type", async () => {
      const e = (await expectRejected(bus, file, () => bus.emit("user.created", { user: { id: 42 }, identities: [] } as never), ValidationError, "invalid_payload")) as ValidationError;
      expect(e.issues).toEqual([{ pointer: "/payload/user/id", message: expect.stringContaining("string") }]);
    });
    it("missing required field", async () => {
      const e = (await expectRejected(bus, file, () => bus.emit("identity.email.added", { user: user("u") } as never), ValidationError, "invalid_payload")) as ValidationError;
      expect(e.issues.map((i) => i.pointer)).toEqual(["/payload/identity"]);
    });
    it("invalid nested field and invalid context", async () => {
      const e = (await expectRejected(
        bus,
        file,
        () => bus.emit("user.session.terminated", { user: user("u"), sessions: [{ id: "s" }], termination_type: "some" } as never, { triggered_by: "robot" } as never),
        ValidationError,
        "invalid_payload",
      )) as ValidationError;
      expect(e.issues.map((i) => i.pointer).sort()).toEqual(["/context/triggered_by", "/payload/termination_type"]);
    });
    it("standard attribute with the wrong OIDC type", async () => {
      const e = (await expectRejected(bus, file, () => bus.emit("user.profile.updated", { user: { id: "u", standard_attributes: { email_verified: "yes" } } } as never), ValidationError, "invalid_payload")) as ValidationError;
      expect(e.issues[0]!.pointer).toBe("/payload/user/standard_attributes/email_verified");
    });
    it.each([
      ["a function", { user: { id: "u", cb: () => 1 } }, "/payload/user/cb"],
      ["a bigint", { user: { id: "u", n: 10n } }, "/payload/user/n"],
      ["NaN", { user: { id: "u", n: Number.NaN } }, "/payload/user/n"],
      ["a Date", { user: { id: "u", at: new Date(0) } }, "/payload/user/at"],
      ["a symbol", { user: { id: "u", s: Symbol("x") } }, "/payload/user/s"],
      ["undefined in an array", { user: { id: "u", a: [1, undefined] } }, "/payload/user/a/1"],
    ])("non-JSON value: %s", async (_what, payload, pointer) => {
      const e = (await expectRejected(bus, file, () => bus.emit("user.deleted", payload as never), NotJsonValueError, "not_json_value")) as NotJsonValueError;
      expect(e.pointer).toBe(pointer);
    });
    it("circular reference", async () => {
      const u: Record<string, unknown> = { id: "u" };
      u.self = u;
      await expectRejected(bus, file, () => bus.emit("user.deleted", { user: u } as never), NotJsonValueError, "not_json_value");
    });
    it("oversized payload over 1 MiB", async () => {
      const e = (await expectRejected(bus, file, () => bus.emit("user.deleted", { user: { id: "u", blob: "x".repeat(1024 * 1024) } as never }), PayloadTooLargeError, "payload_too_large")) as PayloadTooLargeError;
      expect(e.size).toBeGreaterThan(1024 * 1024);
    });
    it("a payload just under the limit is accepted", async () => {
      const big = { id: "u", blob: "x".repeat(1000 * 1000) };
      await bus.emit("user.deleted", { user: big });
      expect(countRows(file)).toBe(1);
      await bus.close();
    });
  });

  it("refuses bad options with pointers", () => {
    expect(() => createAuthbus({ database: "sqlite::memory:", nope: 1 } as never)).toThrow(InvalidOptionsError);
    try {
      createAuthbus({ app: "Bad App!" });
    } catch (e) {
      expect((e as InvalidOptionsError).issues[0]!.pointer).toBe("/app");
    }
  });
});

describe("query", () => {
  it("filters by type pattern, user, seq and time", async () => {
    const file = tempDbPath();
    let t = 1_700_000_000_000;
    const bus = createAuthbus({ database: `sqlite:${file}`, now: () => t });
    await bus.emit("user.created", { user: user("a"), identities: [] });
    t += 10_000;
    await bus.emit("authentication.primary.password.failed", { user: user("a") });
    t += 10_000;
    await bus.emit("authentication.identity.login_id.failed", { login_id: "nobody@example.com" });
    t += 10_000;
    await bus.emit("user.profile.updated", { user: user("b") });
    const types = async (f: Parameters<Authbus["query"]>[0]) => (await bus.query(f)).map((e) => e.type);
    expect(await types({ type: "user.*" })).toEqual(["user.created"]);
    expect(await types({ type: "user.**" })).toEqual(["user.created", "user.profile.updated"]);
    expect(await types({ type: "authentication.**" })).toEqual(["authentication.primary.password.failed", "authentication.identity.login_id.failed"]);
    expect(await types({ type: "authentication.identity.*.failed" })).toEqual(["authentication.identity.login_id.failed"]);
    expect(await types({ type: ["user.created", "user.profile.*"] })).toEqual(["user.created", "user.profile.updated"]);
    expect(await types({ user_id: "a" })).toEqual(["user.created", "authentication.primary.password.failed"]);
    expect(await types({ after_seq: 2, limit: 1 })).toEqual(["authentication.identity.login_id.failed"]);
    expect(await types({ since: 1_700_000_010, until: new Date(1_700_000_030_000) })).toEqual(["authentication.primary.password.failed", "authentication.identity.login_id.failed"]);
    expect(await types({ since: "2023-11-14T22:13:40Z" })).toEqual(["authentication.identity.login_id.failed", "user.profile.updated"]);
    await expect(bus.query({ type: "user.**.x" })).rejects.toMatchObject({ code: "invalid_pattern" });
    await expect(bus.query({ limit: 0 })).rejects.toMatchObject({ code: "invalid_query" });
    await expect(bus.query({ since: "yesterday" })).rejects.toMatchObject({ code: "invalid_query" });
    await bus.close();
  });
});
