/** Migration 4: apps (tenants), API keys (SHA-256 hashes only) and HTTP hooks registered through the server. */
export const TENANCY_MIGRATION_SQL = `
  CREATE TABLE apps (
    id         TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE api_keys (
    pos        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    app_id     TEXT    NOT NULL REFERENCES apps (id),
    scope      TEXT    NOT NULL CHECK (scope IN ('admin', 'ingest', 'read')),
    name       TEXT,
    hash       TEXT    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX api_keys_by_app ON api_keys (app_id, pos);
  CREATE TABLE hooks (
    pos        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    app_id     TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    timeout_ms INTEGER,
    fail_open  INTEGER NOT NULL,
    shadow     INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX hooks_by_app ON hooks (app_id, pos);
`;
