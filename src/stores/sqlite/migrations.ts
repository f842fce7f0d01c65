import type Database from "better-sqlite3";
import { DELIVERY_MIGRATION_SQL } from "./delivery-schema.js";
import { TENANCY_MIGRATION_SQL } from "./tenancy-schema.js";

/** Versioned migrations; each runs once, in order, inside one write transaction. Append only. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "event log, counters, consumer cursors",
    sql: `
      CREATE TABLE events (
        pos          INTEGER PRIMARY KEY,
        app_id       TEXT    NOT NULL,
        seq          INTEGER NOT NULL,
        id           TEXT    NOT NULL UNIQUE,
        type         TEXT    NOT NULL,
        user_id      TEXT,
        subject_seq  INTEGER,
        timestamp    INTEGER NOT NULL,
        payload      TEXT    NOT NULL,
        context      TEXT    NOT NULL,
        UNIQUE (app_id, seq)
      );
      CREATE INDEX events_by_type ON events (app_id, type, seq);
      -- Events by user, indexed lazily in large batches (see lazy-index.ts): an index keyed by user
      -- takes random inserts, which on the commit path cost more than the rest of the insert together.
      CREATE TABLE user_events (
        app_id TEXT NOT NULL, user_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (app_id, user_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE index_state (name TEXT PRIMARY KEY, upto_pos INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO index_state (name, upto_pos) VALUES ('user_events', 0);
      CREATE TABLE app_counters (app_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE subject_counters (
        app_id TEXT NOT NULL, user_id TEXT NOT NULL, last_seq INTEGER NOT NULL,
        PRIMARY KEY (app_id, user_id)
      ) WITHOUT ROWID;
      CREATE TABLE consumers (
        app_id TEXT NOT NULL, name TEXT NOT NULL, cursor_seq INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (app_id, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "hook decision ledger",
    sql: `
      CREATE TABLE hook_decisions (
        pos         INTEGER PRIMARY KEY,
        id          TEXT    NOT NULL UNIQUE,
        app_id      TEXT    NOT NULL,
        event_id    TEXT    NOT NULL,
        type        TEXT    NOT NULL,
        decision    TEXT    NOT NULL CHECK (decision IN ('allow', 'deny')),
        any_error   INTEGER NOT NULL,
        at_ms       INTEGER NOT NULL,
        record      TEXT    NOT NULL
      );
      CREATE INDEX hook_decisions_by_app ON hook_decisions (app_id, pos);
      CREATE INDEX hook_decisions_by_type ON hook_decisions (app_id, type, pos);
      CREATE TABLE hook_decision_answers (
        app_id       TEXT    NOT NULL,
        hook_id      TEXT    NOT NULL,
        decision_pos INTEGER NOT NULL,
        outcome      TEXT    NOT NULL CHECK (outcome IN ('allow', 'deny', 'error')),
        PRIMARY KEY (app_id, hook_id, decision_pos)
      ) WITHOUT ROWID;
    `,
  },
  { version: 3, name: "subscriptions, deliveries, attempts, delivery lease", sql: DELIVERY_MIGRATION_SQL },
  { version: 4, name: "apps, API keys, stored HTTP hooks", sql: TENANCY_MIGRATION_SQL },
  {
    version: 5,
    name: "delivery claims",
    // Workers claim deliveries instead of one leader delivering everything (docs/architecture.md).
    // Claims are cleared when a delivery leaves 'pending', so the claimed index stays small.
    sql: `
      ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
      ALTER TABLE deliveries ADD COLUMN claim_until INTEGER;
      CREATE INDEX deliveries_claimed ON deliveries (subscription_id, subject) WHERE claimed_by IS NOT NULL;
      CREATE INDEX deliveries_pending_by_seq ON deliveries (subscription_id, seq, pos) WHERE state = 'pending';
      CREATE INDEX deliveries_pending_by_subject ON deliveries (subscription_id, subject, seq, pos) WHERE state = 'pending';
    `,
  },
  {
    version: 6,
    name: "lazy by-type index",
    // Like user_events (lazy-index.ts): an index on (app_id, type, seq) maintained in every commit
    // cost ~2 µs of the writer's ~12 µs per event; built in chunks it costs under half of that.
    sql: `
      CREATE TABLE type_events (
        app_id TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (app_id, type, seq)
      ) WITHOUT ROWID;
      INSERT INTO type_events (app_id, type, seq) SELECT app_id, type, seq FROM events;
      INSERT INTO index_state (name, upto_pos) VALUES ('type_events', (SELECT coalesce(max(pos), 0) FROM events));
      DROP INDEX events_by_type;
    `,
  },
  {
    version: 7,
    name: "attempts by time",
    // Subscription stats read a window's attempts (attemptStats). Attempts carry no subscription, so
    // the index is by time, joined to deliveries by pos, and covers the aggregated columns. Its key
    // grows at the right edge; still one more B-tree insert per attempt (~15-20% of recordAttempts).
    sql: `CREATE INDEX delivery_attempts_by_at ON delivery_attempts (at, status_code, latency_ms);`,
  },
  {
    version: 8,
    name: "lazily folded subject counters",
    // The group-commit writer stops writing subject_counters in each commit (up to ~1 µs per event): rows
    // are folded from events in chunks (lazy-index.ts); until then the events after upto_pos count.
    // Until now every commit kept the counters exact, so they are folded up to the last event.
    sql: `INSERT INTO index_state (name, upto_pos) VALUES ('subject_counters', (SELECT coalesce(max(pos), 0) FROM events));`,
  },
];

export function migrate(db: Database.Database): number {
  db.exec("CREATE TABLE IF NOT EXISTS authbus_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM authbus_migrations").all() as { version: number }[]).map((r) => r.version));
  const pending = MIGRATIONS.filter((m) => !applied.has(m.version));
  if (pending.length === 0) return 0;
  // IMMEDIATE: two processes starting on the same file must not both migrate.
  const run = db.transaction(() => {
    const again = new Set((db.prepare("SELECT version FROM authbus_migrations").all() as { version: number }[]).map((r) => r.version));
    for (const m of pending) {
      if (again.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO authbus_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
    }
  });
  run.immediate();
  return pending.length;
}
