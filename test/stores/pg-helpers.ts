import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPostgresStore, fromPg, type PostgresStore } from "../../src/stores/postgres/index.js";
import type { ConformanceFixture } from "../../src/testing/store-conformance.js";

/** The test database (SERVICES.md). Tests never skip when it is down: they fail. */
export const PG_URL = process.env.AUTHBUS_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export function uniqueSchema(prefix = "authbus_t"): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** A store on a fresh schema, migrated; cleanup closes it and drops the schema. */
export async function freshPgStore(options: { poolSize?: number } = {}): Promise<ConformanceFixture & { store: PostgresStore; schema: string }> {
  const schema = uniqueSchema();
  const store = createPostgresStore({ connectionString: PG_URL, schema, ...options });
  try {
    await store.ready();
  } catch (e) {
    await store.close();
    await dropSchema(schema).catch(() => undefined);
    throw e;
  }
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
    async beginTransaction() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query("BEGIN");
      const end = (sql: string) => async () => {
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      };
      return { handle: fromPg(client), commit: end("COMMIT"), rollback: end("ROLLBACK") };
    },
  };
}
