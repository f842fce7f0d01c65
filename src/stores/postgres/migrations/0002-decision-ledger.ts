import type { Migration } from "./migration.js";

/** The hook decision ledger: the whole record as JSON; the columns exist for filtering. */
export const decisionLedger: Migration = {
  version: 2,
  name: "hook decision ledger",
  sql: (s) => `
    CREATE TABLE ${s}.hook_decisions (
      pos       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id        text    NOT NULL UNIQUE,
      app_id    text    NOT NULL,
      event_id  text    NOT NULL,
      type      text    NOT NULL,
      decision  text    NOT NULL CHECK (decision IN ('allow', 'deny')),
      any_error boolean NOT NULL,
      at_ms     bigint  NOT NULL,
      record    json    NOT NULL
    );
    CREATE INDEX hook_decisions_by_app ON ${s}.hook_decisions (app_id, pos);
    CREATE INDEX hook_decisions_by_type ON ${s}.hook_decisions (app_id, type, pos);
    CREATE TABLE ${s}.hook_decision_answers (
      app_id       text   NOT NULL,
      hook_id      text   NOT NULL,
      decision_pos bigint NOT NULL,
      outcome      text   NOT NULL CHECK (outcome IN ('allow', 'deny', 'error')),
      PRIMARY KEY (app_id, hook_id, decision_pos)
    );
  `,
};
