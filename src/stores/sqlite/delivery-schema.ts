/** Migration 3: subscriptions, deliveries, attempts and the delivery leader lease. */
export const DELIVERY_MIGRATION_SQL = `
  CREATE TABLE subscriptions (
    pos                  INTEGER PRIMARY KEY,
    app_id               TEXT    NOT NULL,
    id                   TEXT    NOT NULL UNIQUE,
    name                 TEXT    NOT NULL,
    filter               TEXT    NOT NULL,
    destination          TEXT    NOT NULL,
    format               TEXT    NOT NULL,
    ordering             TEXT    NOT NULL,
    retry_schedule       TEXT    NOT NULL,
    authgear_signature   INTEGER NOT NULL,
    state                TEXT    NOT NULL,
    disabled_reason      TEXT,
    start_seq            INTEGER NOT NULL,
    fanout_seq           INTEGER NOT NULL,
    secrets              TEXT    NOT NULL,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since        INTEGER,
    last_error           TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
  );
  CREATE INDEX subscriptions_by_app ON subscriptions (app_id, pos);
  CREATE TABLE deliveries (
    pos             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    app_id          TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    subject         TEXT,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    reason          TEXT,
    flagged         TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  CREATE INDEX deliveries_pending ON deliveries (subscription_id, pos) WHERE state = 'pending';
  CREATE INDEX deliveries_by_subscription ON deliveries (app_id, subscription_id, pos);
  CREATE INDEX deliveries_by_event ON deliveries (app_id, event_id);
  CREATE TABLE delivery_attempts (
    delivery_pos  INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    status_code   INTEGER,
    latency_ms    REAL    NOT NULL,
    error         TEXT,
    response_head TEXT,
    PRIMARY KEY (delivery_pos, n)
  ) WITHOUT ROWID;
  CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;
