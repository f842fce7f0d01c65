/**
 * Not part of `npm run bench`: the machine's ceiling for the durable emit benchmark (issue 2). The
 * same rows as bench/emit-throughput.ts, already serialised, inserted on one thread into the
 * `events` table alone (migrated schema, or a bare table without its unique indexes) in 128-event
 * `synchronous=FULL` commits of 32-row INSERTs: no validation, ids, counters, lazy indexes,
 * checkpoints or thread hop. Run: `npx tsx bench/sqlite-ceiling.ts`.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { uuidv7 } from "../src/core/ids.js";
import { migrate } from "../src/stores/sqlite/migrations.js";
import { fmt, tempDir } from "./lib.js";

const N = 199_936; // a multiple of the 128-event batch
const BATCH = 128;
const ROWS = 32;
const BARE =
  "CREATE TABLE events (pos INTEGER PRIMARY KEY, app_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, user_id TEXT, subject_seq INTEGER, timestamp INTEGER NOT NULL, payload TEXT NOT NULL, context TEXT NOT NULL)";

function run(variant: "migrated schema" | "bare table"): { perSecond: number; cpuUs: number; wallUs: number } {
  const db = new Database(path.join(tempDir("authbus-bench-ceiling-"), "c.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  if (variant === "bare table") db.exec(BARE);
  else migrate(db);
  const insert = db.prepare(`INSERT INTO events (app_id, seq, id, type, user_id, subject_seq, timestamp, payload, context) VALUES ${Array(ROWS).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`);
  const context = JSON.stringify({ app_id: "default", ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (bench)", preferred_languages: ["en"], timestamp: 1, triggered_by: "user", language: "en", user_id: "user-1" });
  const rows: unknown[][] = [];
  for (let i = 0; i < N; i++) {
    const user = `user-${i % 1000}`;
    const payload = { user: { id: user, standard_attributes: { email: `${user}@example.com`, email_verified: true, name: "Ada Lovelace" } }, session: { id: `sess-${i}`, type: "idp", amr: ["pwd"] } };
    rows.push(["default", i + 1, uuidv7(), "user.authenticated", user, Math.floor(i / 1000) + 1, 1_700_000_000, JSON.stringify(payload), context]);
  }
  const commit = db.transaction((from: number) => {
    for (let k = from; k < from + BATCH; k += ROWS) insert.run(rows.slice(k, k + ROWS).flat());
  });
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < N; i += BATCH) commit.immediate(i);
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  db.close();
  return { perSecond: (N / elapsed) * 1000, cpuUs: (used.user + used.system) / N, wallUs: (elapsed * 1000) / N };
}

console.log("| Table | Rows/s | CPU µs/row | Wall µs/row |\n| --- | ---: | ---: | ---: |");
for (const round of [1, 2])
  for (const variant of ["migrated schema", "bare table"] as const) {
    const r = run(variant);
    console.log(`| ${variant} (round ${round}) | ${fmt(r.perSecond)} | ${fmt(r.cpuUs, 2)} | ${fmt(r.wallUs, 2)} |`);
  }
