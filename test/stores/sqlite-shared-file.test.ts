import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { AppendInput } from "../../src/core/ports/store.js";
import { createSqliteStore } from "../../src/stores/sqlite/sqlite-store.js";
import { fromBetterSqlite3 } from "../../src/stores/sqlite/transaction.js";
import { tempDbPath, until } from "../helpers.js";

// Two stores on one file stand for two processes: each has its own writer thread and connection,
// so SQLite's locking and PRAGMA data_version behave as they do across processes.
const stores: ReturnType<typeof createSqliteStore>[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const input = (i: number, type = "user.authenticated"): AppendInput => ({
  id: randomUUID(),
  callerId: false,
  app_id: "acme",
  type,
  user_id: `u${i % 3}`,
  timestamp: 1_700_000_000,
  payloadJson: JSON.stringify({ i }),
  contextJson: "{}",
});

describe("SQLite store: several writers on one file", () => {
  it("keep seq gap-free and subject_seq 1..n per user though each writer caches subject counters", async () => {
    const file = tempDbPath();
    const a = createSqliteStore({ filename: file });
    const b = createSqliteStore({ filename: file });
    stores.push(a, b);
    const caller = new Database(file);
    try {
      for (let round = 0; round < 6; round++) {
        // Each writer's cache is warm from its previous batch when the other one commits.
        await Promise.all(Array.from({ length: 20 }, (_, k) => a.append([input(round * 100 + k)])));
        await Promise.all(Array.from({ length: 20 }, (_, k) => b.append([input(round * 100 + 50 + k, "user.signed_out")])));
        caller.transaction(() => a.appendInTransaction(fromBetterSqlite3(caller), input(round)))();
      }
      const rows = caller.prepare("SELECT seq, user_id, subject_seq FROM events ORDER BY seq").all() as { seq: number; user_id: string; subject_seq: number }[];
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 246 }, (_, i) => i + 1));
      const next = new Map<string, number>();
      for (const r of rows) {
        const want = (next.get(r.user_id) ?? 0) + 1;
        expect(r.subject_seq, `seq ${r.seq} of ${r.user_id}`).toBe(want);
        next.set(r.user_id, want);
      }
      // Both writers index from the shared index_state: every event exactly once in each lazy index.
      const state = caller.prepare("SELECT min(upto_pos) FROM index_state").pluck();
      await until(() => state.get() === 246, 10_000, "both lazy indexes to catch up");
      expect(caller.prepare("SELECT count(*) FROM type_events").pluck().get()).toBe(246);
      expect(caller.prepare("SELECT count(*) FROM user_events").pluck().get()).toBe(246);
      expect((await b.query({ app_id: "acme", types: ["user.signed_out"], limit: 1000 })).length).toBe(120);
    } finally {
      caller.close();
    }
  });
});
