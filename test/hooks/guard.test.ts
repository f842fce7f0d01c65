import Database from "better-sqlite3";
import { describe, expect, expectTypeOf, it } from "vitest";
import { BlockingEventTypeError, createAuthbus, fromBetterSqlite3, HookDeniedError, type PayloadOf } from "../../src/index.js";
import { tempDbPath, user } from "../helpers.js";

const draft = (id: string) => ({ user: user(id), identities: [{ id: `i-${id}`, type: "login_id" }] });

function setup() {
  const file = tempDbPath();
  const bus = createAuthbus({ database: `sqlite:${file}` });
  bus.hooks.add("user.pre_create", (e) =>
    e.payload.user.id.startsWith("spam")
      ? { is_allowed: false, title: "Rejected" }
      : { is_allowed: true, mutations: { user: { custom_attributes: { plan: "trial" } } } },
  );
  const db = new Database(file);
  db.exec("CREATE TABLE app_users (id TEXT PRIMARY KEY, plan TEXT)");
  const insert = db.prepare("INSERT INTO app_users (id, plan) VALUES (?, ?)");
  const users = () => db.prepare("SELECT id, plan FROM app_users ORDER BY id").all();
  return { file, bus, db, insert, users };
}

describe("bus.guard", () => {
  it("with tx: hooks, then the operation and its event commit together in the caller's transaction", async () => {
    const { bus, db, insert, users } = setup();
    const order: string[] = [];
    bus.hooks.add("user.pre_create", () => (order.push("hook"), { is_allowed: true }));

    const result = await bus.guard(
      "user.pre_create",
      draft("u1"),
      { ip_address: "203.0.113.5" },
      (final, { emit }) =>
        db.transaction(() => {
          order.push("operation");
          insert.run(final.user.id, final.user.custom_attributes?.plan);
          emit({ user: { ...final.user, created_at: "2024-01-01T00:00:00Z" }, identities: final.identities });
          return { id: final.user.id };
        })(),
      { then: "user.created", tx: fromBetterSqlite3(db) },
    );
    expect(result).toEqual({ id: "u1" });
    expect(order).toEqual(["hook", "operation"]);
    expect(users()).toEqual([{ id: "u1", plan: "trial" }]);
    const [e] = await bus.query({ type: "user.created" });
    expect(e!.payload.user).toMatchObject({ id: "u1", custom_attributes: { plan: "trial" }, created_at: "2024-01-01T00:00:00Z" });
    expect(e!.context.ip_address).toBe("203.0.113.5");
    db.close();
    await bus.close();
  });

  it("with tx: a rolled-back transaction records nothing (but the hooks' decision is in the ledger)", async () => {
    const { bus, db, insert, users } = setup();
    const err = await bus
      .guard(
        "user.pre_create",
        draft("u1"),
        {},
        (final, { emit }) =>
          db.transaction(() => {
            insert.run(final.user.id, "x");
            emit();
            throw new Error("unique constraint on e-mail");
          })(),
        { then: "user.created", tx: fromBetterSqlite3(db) },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe("unique constraint on e-mail");
    expect(users()).toEqual([]);
    expect(await bus.query()).toEqual([]);
    expect((await bus.decisions.query()).map((d) => d.decision)).toEqual(["allow"]);
    // seq stays gap-free: the rolled-back event's seq went with it.
    expect((await bus.emit("user.deleted", { user: user("x") })).seq).toBe(1);
    db.close();
    await bus.close();
  });

  it("a deny does not run the operation and records no event", async () => {
    const { bus, db, users } = setup();
    let ran = false;
    const err = await bus
      .guard("user.pre_create", draft("spam-1"), {}, () => {
        ran = true;
      }, { then: "user.created", tx: fromBetterSqlite3(db) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookDeniedError);
    expect((err as HookDeniedError).title).toBe("Rejected");
    expect(ran).toBe(false);
    expect(users()).toEqual([]);
    expect(await bus.query()).toEqual([]);
    db.close();
    await bus.close();
  });

  it("without tx: records the event after the operation, shaped by thenPayload; a throwing operation records nothing", async () => {
    const { bus, db } = setup();
    let eventsDuringOperation = -1;
    const created = await bus.guard(
      "user.pre_create",
      draft("u2"),
      {},
      async (final) => {
        eventsDuringOperation = (await bus.query()).length;
        return { ...final.user, id: "db-id-42" };
      },
      { then: "user.created", thenPayload: (final, row) => ({ user: row, identities: final.identities }) },
    );
    expect(created.id).toBe("db-id-42");
    expect(eventsDuringOperation).toBe(0);
    const [e] = await bus.query();
    expect(e!.payload).toMatchObject({ user: { id: "db-id-42", custom_attributes: { plan: "trial" } }, identities: [{ id: "i-u2" }] });

    await expect(
      bus.guard("user.pre_create", draft("u3"), {}, () => {
        throw new Error("insert failed");
      }, { then: "user.created" }),
    ).rejects.toThrow("insert failed");
    expect(await bus.query()).toHaveLength(1);
    db.close();
    await bus.close();
  });

  it("the default then payload is the final payload (types whose shapes match)", async () => {
    const { bus, db } = setup();
    bus.hooks.add("user.profile.pre_update", () => ({ is_allowed: true, mutations: { user: { standard_attributes: { name: "Grace" } } } }));
    await bus.guard("user.profile.pre_update", { user: user("u5") }, {}, () => "ok", { then: "user.profile.updated" });
    const [e] = await bus.query({ type: "user.profile.updated" });
    expect(e!.payload.user.standard_attributes).toEqual({ name: "Grace" });
    db.close();
    await bus.close();
  });

  it("refuses misuse before anything happens, or aborts the caller's transaction", async () => {
    const { bus, db, insert, users } = setup();
    let hookRuns = 0;
    bus.hooks.add("user.pre_create", () => (hookRuns++, { is_allowed: true }));
    // A `then` that cannot be recorded is refused before the hooks run.
    await expect(bus.guard("user.pre_create", draft("a"), {}, () => 1, { then: "user.pre_create" as never })).rejects.toBeInstanceOf(BlockingEventTypeError);
    expect(hookRuns).toBe(0);
    // With tx the operation must emit inside its transaction...
    await expect(
      bus.guard("user.pre_create", draft("a"), {}, () => db.transaction(() => insert.run("a", null))(), { then: "user.created", tx: fromBetterSqlite3(db) }),
    ).rejects.toThrow(/must call emit\(\)/);
    // ...exactly once: a second emit throws inside the transaction, which rolls it back.
    await expect(
      bus.guard("user.pre_create", draft("b"), {}, (_f, { emit }) =>
        db.transaction(() => {
          insert.run("b", null);
          emit();
          emit();
        })(), { then: "user.created", tx: fromBetterSqlite3(db) }),
    ).rejects.toThrow(/already called/);
    expect(users()).toEqual([{ id: "a", plan: null }]);
    // emit() without tx is a mistake too.
    await expect(bus.guard("user.pre_create", draft("c"), {}, (_f, { emit }) => void emit(), { then: "user.created" })).rejects.toThrow(TypeError);
    expect(await bus.query()).toEqual([]);
    db.close();
    await bus.close();
  });

  it("is typed by the blocking type, the then type and the operation's result", async () => {
    const { bus, db } = setup();
    const typed = async () => {
      const r = await bus.guard("user.pre_create", draft("t"), {}, (final, { emit }) => {
        expectTypeOf(final).toEqualTypeOf<PayloadOf<"user.pre_create">>();
        expectTypeOf(emit).parameter(0).toEqualTypeOf<PayloadOf<"user.created"> | undefined>();
        return { id: "x", n: 1 };
      }, { then: "user.created", thenPayload: (final, result) => ({ user: { ...final.user, id: result.id }, identities: [] }) });
      expectTypeOf(r).toEqualTypeOf<{ id: string; n: number }>();
      const f = await bus.before("oidc.jwt.pre_create", { user: user("u"), jwt: { payload: {} } });
      expectTypeOf(f).toEqualTypeOf<PayloadOf<"oidc.jwt.pre_create">>();
      // @ts-expect-error: non-blocking types have no hooks
      await bus.before("user.created", draft("t"));
      // @ts-expect-error: jwt mutations are not allowed on user.pre_create
      bus.hooks.add("user.pre_create", () => ({ is_allowed: true, mutations: { jwt: { payload: {} } } }));
      // @ts-expect-error: no mutations at all on user.pre_schedule_deletion
      bus.hooks.add("user.pre_schedule_deletion", () => ({ is_allowed: true, mutations: { user: {} } }));
      expectTypeOf(bus.hooks.add("user.pre_create", { url: "https://example.com" })).toEqualTypeOf<{ id: string; secret: string }>();
      expectTypeOf(bus.hooks.add("user.pre_create", () => ({ is_allowed: true }))).toEqualTypeOf<string>();
    };
    expect(typeof typed).toBe("function"); // compile-time checks only
    db.close();
    await bus.close();
  });
});
