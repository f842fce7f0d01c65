import type { Migration } from "./migration.js";

/** Apps (tenants), API keys (SHA-256 hashes only) and HTTP hooks registered through the server. */
export const tenancy: Migration = {
  version: 4,
  name: "apps, API keys, stored HTTP hooks",
  sql: (s) => `
    CREATE TABLE ${s}.apps (
      id         text   PRIMARY KEY,
      created_at bigint NOT NULL
    );
    CREATE TABLE ${s}.api_keys (
      pos        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id         text   NOT NULL UNIQUE,
      app_id     text   NOT NULL REFERENCES ${s}.apps (id),
      scope      text   NOT NULL CHECK (scope IN ('admin', 'ingest', 'read')),
      name       text,
      hash       text   NOT NULL UNIQUE,
      prefix     text   NOT NULL,
      created_at bigint NOT NULL,
      revoked_at bigint
    );
    CREATE INDEX api_keys_by_app ON ${s}.api_keys (app_id, pos);
    CREATE TABLE ${s}.hooks (
      pos        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id         text    NOT NULL UNIQUE,
      app_id     text    NOT NULL,
      type       text    NOT NULL,
      url        text    NOT NULL,
      secret     text    NOT NULL,
      timeout_ms integer,
      fail_open  boolean NOT NULL,
      shadow     boolean NOT NULL,
      created_at bigint  NOT NULL
    );
    CREATE INDEX hooks_by_app ON ${s}.hooks (app_id, pos);
  `,
};
