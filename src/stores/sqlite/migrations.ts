import type Database from "better-sqlite3";

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
      CREATE INDEX events_by_user ON events (app_id, user_id, seq) WHERE user_id IS NOT NULL;
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
