import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { AppendInput, AppendResult } from "../../src/core/ports/store.js";
import { createSqliteStore } from "../../src/stores/sqlite/sqlite-store.js";
import { fromBetterSqlite3 } from "../../src/stores/sqlite/transaction.js";
import { tempDbPath, until } from "../helpers.js";

// The group-commit writer keeps subject counters in memory and folds them into subject_counters
// lazily (statements.ts, lazy-index.ts); the table's rows are exact only up to index_state's upto_pos.
const FIXTURE = path.resolve(__dirname, "../fixtures/emit-burst.ts");
const stores: ReturnType<typeof createSqliteStore>[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const input = (user: string): AppendInput => ({
  id: randomUUID(),
  callerId: false,
  app_id: "default",
  type: "user.authenticated",
  user_id: user,
  timestamp: 1_700_000_000,
  payloadJson: JSON.stringify({ user: { id: user } }),
  contextJson: "{}",
});

function open(file: string) {
  const s = createSqliteStore({ filename: file });
  stores.push(s);
  return s;
}

/** subject_seq must run 1..n per user in seq order: no duplicate, no gap. */
function expectSubjectSeqsContiguous(file: string): number {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare("SELECT user_id, subject_seq FROM events WHERE user_id IS NOT NULL ORDER BY app_id, seq").all() as { user_id: string; subject_seq: number }[];
  db.close();
  const next = new Map<string, number>();
  const wrong: string[] = [];
  for (const r of rows) {
    const want = (next.get(r.user_id) ?? 0) + 1;
    if (r.subject_seq !== want) wrong.push(`${r.user_id}: ${r.subject_seq} instead of ${want}`);
    next.set(r.user_id, want);
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  return rows.length;
}

/** The counters' invariant: each row holds the user's last subject_seq among events up to upto_pos. */
function countersState(file: string) {
  const db = new Database(file, { readonly: true });
  const upto = db.prepare("SELECT upto_pos FROM index_state WHERE name = 'subject_counters'").pluck().get() as number;
  const head = db.prepare("SELECT coalesce(max(pos), 0) FROM events").pluck().get() as number;
  const stale = db
    .prepare(
      `SELECT count(*) FROM (SELECT app_id, user_id, max(subject_seq) AS m FROM events WHERE pos <= ? AND user_id IS NOT NULL GROUP BY 1, 2) e
       LEFT JOIN subject_counters c USING (app_id, user_id) WHERE c.last_seq IS NOT e.m`,
    )
    .pluck()
    .get(upto) as number;
  db.close();
  return { upto, head, stale };
}

function burstThenKill(dbPath: string, atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dbPath, `${dbPath}.handled`], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let acks = 0;
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      acks += chunk.split("ack ").length - 1;
      if (acks >= atLeast && child.signalCode === null) child.kill("SIGKILL");
    });
    child.stderr.on("data", (c) => (err += c));
    child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve(acks) : reject(new Error(`child exited with ${code}: ${err}`))));
  });
}

describe("SQLite subject counters kept by the writer, folded lazily", () => {
  it("are not written on the commit path, and once folded are exact up to upto_pos", async () => {
    const file = tempDbPath();
    const s = open(file);
    await Promise.all(Array.from({ length: 300 }, (_, i) => s.append([input(`u${i % 7}`)])));
    const before = countersState(file);
    expect(before.stale).toBe(0);
    // Folded only on an idle moment (or every 32,768 events), not by the commits themselves.
    await until(() => countersState(file).upto === countersState(file).head, 10_000, "counters folded when idle");
    const db = new Database(file, { readonly: true });
    const rows = db.prepare("SELECT user_id, last_seq FROM subject_counters ORDER BY user_id").all();
    db.close();
    expect(rows).toEqual(Array.from({ length: 7 }, (_, u) => ({ user_id: `u${u}`, last_seq: u < 6 ? 43 : 42 })));
    expect(countersState(file).stale).toBe(0);
  });

  it("after SIGKILL with unfolded counters, a restarted writer continues every user's subject_seq without duplicate or gap", async () => {
    const file = tempDbPath();
    fs.writeFileSync(`${file}.handled`, "");
    let unfolded = 0;
    for (let round = 0; round < 2; round++) {
      expect(await burstThenKill(file, 1500)).toBeGreaterThanOrEqual(1500);
      const st = countersState(file);
      expect(st.stale).toBe(0);
      if (st.upto < st.head) unfolded++;
      expectSubjectSeqsContiguous(file);
    }
    // The kill must have caught the counters behind the log at least once, or recovery went untested.
    expect(unfolded).toBeGreaterThan(0);
    const s = open(file);
    await Promise.all(Array.from({ length: 320 }, (_, i) => s.append([input(`user-${i % 32}`)])));
    const total = expectSubjectSeqsContiguous(file);
    expect(total).toBeGreaterThanOrEqual(3000 + 320);
  }, 60_000);

  it("a transactional emit between group commits sees the unfolded tail; the writer then sees the transactional one", async () => {
    const file = tempDbPath();
    const s = open(file);
    for (let i = 0; i < 5; i++) await s.append([input("alice")]);
    const conn = new Database(file);
    try {
      // The SQLite store answers synchronously (better-sqlite3 transactions cannot await).
      const r = conn.transaction(() => s.appendInTransaction(fromBetterSqlite3(conn), input("alice")) as AppendResult)();
      expect(r.subject_seq).toBe(6);
    } finally {
      conn.close();
    }
    const [next] = await s.append([input("alice")]);
    expect(next!.subject_seq).toBe(7);
    expectSubjectSeqsContiguous(file);
  });

  it("the writer checkpoints the WAL when idle instead of waiting for 1,000 pages", async () => {
    const file = tempDbPath();
    const s = open(file);
    await s.append([input("warm-up")]);
    const size = fs.statSync(file).size;
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.append([{ ...input(`u${i}`), payloadJson: JSON.stringify({ pad: "x".repeat(2000) }) }])));
    // Nothing but a checkpoint writes the database file itself; 200 events are far below SQLite's autocheckpoint.
    await until(() => fs.statSync(file).size > size + 200 * 2000, 10_000, "idle checkpoint");
  });
});
