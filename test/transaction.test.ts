import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createAuthbus, fromBetterSqlite3, TransactionRequiredError } from "../src/index.js";
import { tempDbPath, until, user } from "./helpers.js";

describe("transactional emit (outbox) with better-sqlite3", () => {
  it("a rolled-back caller transaction records nothing; a committed one records exactly one event", async () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}`, pollIntervalMs: 1000 });
    const seen: string[] = [];
    bus.on("user.created", (e) => void seen.push(e.payload.user.id));
    const db = new Database(file);
    db.exec("CREATE TABLE app_users (id TEXT PRIMARY KEY, email TEXT)");
    const createUser = db.transaction((id: string, fail: boolean) => {
      db.prepare("INSERT INTO app_users VALUES (?, ?)").run(id, `${id}@example.com`);
      void bus.emit("user.created", { user: user(id), identities: [] }, {}, { tx: fromBetterSqlite3(db) });
      if (fail) throw new Error("operation failed after the event was written");
    });

    expect(() => createUser("rolled-back", true)).toThrow("operation failed");
    createUser("committed", false);

    const events = await bus.query({ type: "user.created" });
    expect(events.map((e) => e.payload.user.id)).toEqual(["committed"]);
    expect(db.prepare("SELECT id FROM app_users").all()).toEqual([{ id: "committed" }]);
    // The committed event reaches handlers like any other, promptly (not after the 1 s poll).
    await until(() => seen.length === 1, 900, "handler to see the committed event");
    expect(seen).toEqual(["committed"]);
    // seq stays gap-free: the rolled-back event's seq was rolled back with it.
    const r = await bus.emit("user.deleted", { user: user("committed") });
    expect(r.seq).toBe(2);
    db.close();
    await bus.close();
  });

  it("refuses a connection with no open transaction or to another database, writing nothing", async () => {
    const file = tempDbPath();
    const bus = createAuthbus({ database: `sqlite:${file}` });
    const db = new Database(file);
    // Thrown synchronously, so a failure aborts the caller's transaction.
    expect(() => bus.emit("user.deleted", { user: user("u") }, {}, { tx: fromBetterSqlite3(db) })).toThrow(TransactionRequiredError);
    const other = new Database(tempDbPath("other.db"));
    const tx = other.transaction(() => bus.emit("user.deleted", { user: user("u") }, {}, { tx: fromBetterSqlite3(other) }));
    expect(() => tx()).toThrow(/not to the bus's database/);
    // An invalid payload inside the caller's transaction aborts it too.
    db.exec("CREATE TABLE t (x)");
    const bad = db.transaction(() => {
      db.prepare("INSERT INTO t VALUES (1)").run();
      void bus.emit("user.deleted", { user: { id: 7 } } as never, {}, { tx: fromBetterSqlite3(db) });
    });
    expect(() => bad()).toThrow(/Invalid user.deleted event/);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    expect(await bus.query()).toEqual([]);
    db.close();
    other.close();
    await bus.close();
  });
});
