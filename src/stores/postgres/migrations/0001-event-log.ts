import type { Migration } from "./migration.js";

/**
 * The log. seq is not a sequence: it comes from app_counters, bumped under a row lock inside the
 * writing transaction, so seq order is commit order (docs/architecture.md, "PostgreSQL").
 * payload and context are `json`, not `jsonb`: json keeps the exact text (the idempotency check
 * compares it) and accepts everything JSON.stringify produces, `\u0000` included.
 */
export const eventLog: Migration = {
  version: 1,
  name: "event log, counters, consumer cursors",
  sql: (s) => `
    CREATE TABLE ${s}.events (
      app_id      text   NOT NULL,
      seq         bigint NOT NULL,
      id          text   NOT NULL UNIQUE,
      type        text   NOT NULL,
      user_id     text,
      subject_seq bigint,
      "timestamp" bigint NOT NULL,
      payload     json   NOT NULL,
      context     json   NOT NULL,
      PRIMARY KEY (app_id, seq)
    );
    CREATE INDEX events_by_type ON ${s}.events (app_id, type, seq);
    CREATE INDEX events_by_user ON ${s}.events (app_id, user_id, seq) WHERE user_id IS NOT NULL;
    CREATE TABLE ${s}.app_counters (
      app_id   text   PRIMARY KEY,
      last_seq bigint NOT NULL
    );
    CREATE TABLE ${s}.subject_counters (
      app_id   text   NOT NULL,
      user_id  text   NOT NULL,
      last_seq bigint NOT NULL,
      PRIMARY KEY (app_id, user_id)
    );
    CREATE TABLE ${s}.consumers (
      app_id     text   NOT NULL,
      name       text   NOT NULL,
      cursor_seq bigint NOT NULL,
      updated_at bigint NOT NULL,
      PRIMARY KEY (app_id, name)
    );
  `,
};
