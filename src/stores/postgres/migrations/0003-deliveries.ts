import type { Migration } from "./migration.js";

/**
 * Subscriptions, deliveries, attempts and the delivery leader lease. No foreign keys, as on SQLite:
 * a fan-out or an attempt racing a subscription's deletion is dropped, not turned into an error.
 */
export const deliveries: Migration = {
  version: 3,
  name: "subscriptions, deliveries, attempts, delivery lease",
  sql: (s) => `
    CREATE TABLE ${s}.subscriptions (
      pos                  bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      app_id               text    NOT NULL,
      id                   text    NOT NULL UNIQUE,
      name                 text    NOT NULL,
      filter               json    NOT NULL,
      destination          json    NOT NULL,
      format               text    NOT NULL,
      ordering             text    NOT NULL,
      retry_schedule       json    NOT NULL,
      authgear_signature   boolean NOT NULL,
      state                text    NOT NULL,
      disabled_reason      text,
      start_seq            bigint  NOT NULL,
      fanout_seq           bigint  NOT NULL,
      secrets              json    NOT NULL,
      last_success_at      bigint,
      last_failure_at      bigint,
      consecutive_failures integer NOT NULL DEFAULT 0,
      failing_since        bigint,
      last_error           text,
      created_at           bigint  NOT NULL,
      updated_at           bigint  NOT NULL
    );
    CREATE INDEX subscriptions_by_app ON ${s}.subscriptions (app_id, pos);
    CREATE TABLE ${s}.deliveries (
      pos             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id              text    NOT NULL UNIQUE,
      app_id          text    NOT NULL,
      subscription_id text    NOT NULL,
      event_id        text    NOT NULL,
      seq             bigint  NOT NULL,
      subject         text,
      state           text    NOT NULL,
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at bigint,
      reason          text,
      flagged         text,
      created_at      bigint  NOT NULL,
      updated_at      bigint  NOT NULL
    );
    CREATE INDEX deliveries_pending ON ${s}.deliveries (subscription_id, pos) WHERE state = 'pending';
    CREATE INDEX deliveries_by_subscription ON ${s}.deliveries (app_id, subscription_id, pos);
    CREATE INDEX deliveries_by_event ON ${s}.deliveries (app_id, event_id);
    CREATE TABLE ${s}.delivery_attempts (
      delivery_pos  bigint           NOT NULL,
      n             integer          NOT NULL,
      at            bigint           NOT NULL,
      status_code   integer,
      latency_ms    double precision NOT NULL,
      error         text,
      response_head text,
      PRIMARY KEY (delivery_pos, n)
    );
    CREATE TABLE ${s}.leases (
      name       text   PRIMARY KEY,
      owner      text   NOT NULL,
      expires_at bigint NOT NULL
    );
  `,
};
