import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { AppendInput, EventQuery } from "../../src/core/ports/store.js";
import { MIGRATIONS } from "../../src/stores/sqlite/migrations.js";
import { createSqliteStore, querySql } from "../../src/stores/sqlite/sqlite-store.js";
import { tempDbPath, until } from "../helpers.js";

type Store = ReturnType<typeof createSqliteStore>;
const TYPES = ["user.created", "user.authenticated", "user.signed_out", "organization.created"];
const open: Store[] = [];
const raws: Database.Database[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  for (const r of raws.splice(0)) r.close();
});

function input(app: string, i: number): AppendInput {
  const user = i % 5 === 0 ? undefined : `u${i % 7}`;
  return {
    id: randomUUID(),
    callerId: false,
    app_id: app,
    type: TYPES[(i * 7) % TYPES.length]!,
    user_id: user,
    timestamp: 1_700_000_000 + i,
    payloadJson: JSON.stringify({ i }),
    contextJson: JSON.stringify({ app_id: app }),
  };
}

async function record(store: Store, from: number, n: number): Promise<void> {
  // Many concurrent calls, as emitters make them: several group-commit batches, two apps interleaved.
  await Promise.all(Array.from({ length: n }, (_, k) => store.append([input(k % 3 === 0 ? "other" : "acme", from + k)])));
}

function raw(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("busy_timeout = 5000");
  raws.push(db);
  return db;
}

const state = (db: Database.Database) => ({
  upto: db.prepare("SELECT upto_pos FROM index_state WHERE name = 'type_events'").pluck().get() as number,
  head: db.prepare("SELECT coalesce(max(pos), 0) FROM events").pluck().get() as number,
  indexed: db.prepare("SELECT count(*) FROM type_events").pluck().get() as number,
});

/** Forgets the index above `pos`, as if the writer had not reached those events yet. */
function unindexAbove(db: Database.Database, pos: number): void {
  db.transaction(() => {
    db.prepare("DELETE FROM type_events WHERE (app_id, seq) IN (SELECT app_id, seq FROM events WHERE pos > ?)").run(pos);
    db.prepare("UPDATE index_state SET upto_pos = ? WHERE name = 'type_events'").run(pos);
  })();
}

/** The answer from a plain scan of `events`: what the store must return whatever the index holds. */
function expected(db: Database.Database, q: EventQuery): number[] {
  const where = ["app_id = ?", `type IN (${q.types!.map(() => "?").join(", ")})`];
  const params: unknown[] = [q.app_id, ...q.types!];
  if (q.user_id !== undefined) (where.push("user_id = ?"), params.push(q.user_id));
  if (q.after_seq !== undefined) (where.push("seq > ?"), params.push(q.after_seq));
  if (q.since !== undefined) (where.push("timestamp >= ?"), params.push(q.since));
  if (q.until !== undefined) (where.push("timestamp < ?"), params.push(q.until));
  return db.prepare(`SELECT seq FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`).pluck().all(...params, q.limit) as number[];
}

const QUERIES: EventQuery[] = [
  { app_id: "acme", types: ["user.created"], limit: 1000 },
  { app_id: "acme", types: ["user.authenticated", "organization.created"], limit: 1000 },
  { app_id: "other", types: ["user.signed_out"], limit: 1000 },
  { app_id: "acme", types: ["user.created"], after_seq: 40, limit: 10 },
  { app_id: "acme", types: ["user.signed_out", "user.created"], after_seq: 100, limit: 25 },
  { app_id: "acme", types: ["user.authenticated"], since: 1_700_000_050, until: 1_700_000_250, limit: 1000 },
  { app_id: "acme", types: ["user.created"], user_id: "u3", limit: 1000 },
  { app_id: "acme", types: ["no.such.type"], limit: 1000 },
];

async function expectAllMatch(store: Store, db: Database.Database): Promise<void> {
  for (const q of QUERIES) {
    const got = (await store.query(q)).map((e) => e.seq);
    expect(got, JSON.stringify(q)).toEqual(expected(db, q));
  }
  // A handler's cursor paging through one type, a few events at a time, across the index/tail boundary.
  const q: EventQuery = { app_id: "acme", types: ["user.authenticated"], limit: 7 };
  const paged: number[] = [];
  for (let after = 0; ; ) {
    const page = await store.query({ ...q, after_seq: after });
    if (page.length === 0) break;
    paged.push(...page.map((e) => e.seq));
    after = page[page.length - 1]!.seq;
  }
  expect(paged).toEqual(expected(raw(store.filename), { ...q, limit: 1_000_000 }));
}

describe("SQLite lazy by-type index", () => {
  it("queries by type return the same events before and after the index catches up, with the tail unindexed, across a reopen", async () => {
    const file = tempDbPath();
    let store = createSqliteStore({ filename: file });
    open.push(store);
    await record(store, 0, 400);
    const db = raw(file);
    // The writer indexes when it is idle: afterwards it writes nothing until the next batch.
    await until(() => state(db).upto === state(db).head, 10_000, "the type index to catch up");
    expect(state(db).indexed).toBe(400);
    await expectAllMatch(store, db);

    unindexAbove(db, 150);
    expect(state(db)).toMatchObject({ upto: 150, head: 400, indexed: 150 });
    await expectAllMatch(store, db);

    unindexAbove(db, 0);
    await expectAllMatch(store, db);

    await store.close();
    open.splice(open.indexOf(store), 1);
    // close() indexes everything; forget part of it again so the reopened store starts with a tail.
    expect(state(db).upto).toBe(400);
    unindexAbove(db, 222);
    store = createSqliteStore({ filename: file });
    open.push(store);
    expect(state(db)).toMatchObject({ upto: 222, indexed: 222 });
    await expectAllMatch(store, db);

    // New events land in the tail; the writer then catches up on its own.
    await record(store, 400, 100);
    await expectAllMatch(store, db);
    await until(() => state(db).upto === state(db).head, 10_000, "the type index to catch up after reopening");
    expect(state(db).indexed).toBe(500);
    await expectAllMatch(store, db);
  });

  it("migration 6 indexes the events recorded before it and drops the eager index", async () => {
    const file = tempDbPath();
    const db = raw(file);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE authbus_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version < 6)) {
      db.exec(m.sql);
      db.prepare("INSERT INTO authbus_migrations VALUES (?, ?, 0)").run(m.version, m.name);
    }
    const insert = db.prepare("INSERT INTO events (app_id, seq, id, type, user_id, subject_seq, timestamp, payload, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (let i = 1; i <= 60; i++) {
      const e = input("acme", i);
      insert.run("acme", i, e.id, e.type, null, null, e.timestamp, e.payloadJson, e.contextJson);
    }
    db.prepare("INSERT INTO app_counters VALUES ('acme', 60)").run();

    const store = createSqliteStore({ filename: file });
    open.push(store);
    expect(state(db)).toEqual({ upto: 60, head: 60, indexed: 60 });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_type'").pluck().get()).toBe(0);
    for (const q of QUERIES.filter((q) => q.app_id === "acme" && q.user_id === undefined)) {
      expect((await store.query(q)).map((e) => e.seq), JSON.stringify(q)).toEqual(expected(db, q));
    }
  });

  it("reads the unindexed tail by rowid range, never by walking all of the app's events", () => {
    const db = raw(tempDbPath());
    db.exec("CREATE TABLE authbus_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const m of MIGRATIONS) db.exec(m.sql);
    db.function("authbus_match", (_pattern: unknown, _type: unknown) => 1);
    const queries: EventQuery[] = [
      { app_id: "acme", types: ["user.created"], limit: 100 },
      { app_id: "acme", types: ["user.created", "user.signed_out"], after_seq: 10, since: 1, limit: 100 },
      { app_id: "acme", user_id: "u1", limit: 100 },
      { app_id: "acme", user_id: "u1", types: ["user.*"], after_seq: 10, limit: 100 },
    ];
    for (const q of queries) {
      const [sql, params] = querySql(q);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      expect(plan, JSON.stringify(q)).toContain("SEARCH e USING INTEGER PRIMARY KEY (rowid>?)");
      // An (app_id=?) search without seq would read every event of the app.
      expect(plan.filter((d) => /\(app_id=\?\)$/.test(d)), JSON.stringify(q)).toEqual([]);
    }
  });
});
