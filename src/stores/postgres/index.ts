/** The PostgreSQL store adapter: what the runtime (and users embedding the library) need from it. */
export { createPostgresStore } from "./pg-store.js";
export type { PostgresStore, PostgresStoreOptions } from "./pg-store.js";
export { fromPg, PG_TX } from "./transaction.js";
export { PG_MIGRATIONS } from "./migrate.js";
