import type pg from "pg";
import { StoreError } from "../../core/errors.js";
import { inTransaction, type Patience } from "./connection.js";
import type { Migration } from "./migrations/migration.js";
import { eventLog } from "./migrations/0001-event-log.js";
import { decisionLedger } from "./migrations/0002-decision-ledger.js";
import { deliveries } from "./migrations/0003-deliveries.js";
import { tenancy } from "./migrations/0004-tenancy.js";
import { deliveryClaims } from "./migrations/0005-delivery-claims.js";
import { attemptsByTime } from "./migrations/0006-attempts-by-time.js";

/** In order; append only. The versions match the SQLite store's, so both report the same schema version. */
export const PG_MIGRATIONS: readonly Migration[] = [eventLog, decisionLedger, deliveries, tenancy, deliveryClaims, attemptsByTime];

/**
 * Brings `schema` up to date in one transaction (PostgreSQL DDL is transactional: a failed migration
 * leaves nothing half done), under an advisory lock, so processes starting together migrate once.
 * Returns the number of migrations applied.
 */
export async function migrate(pool: pg.Pool, schema: string, s: string, patience: Patience): Promise<number> {
  return inTransaction(pool, async (tx) => {
    await tx.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`authbus.migrate.${schema}`]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
    const exists = await tx.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.length === 0) await tx.exec(`CREATE SCHEMA ${s}`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS ${s}.authbus_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
    const applied = new Set((await tx.query<{ version: number }>(`SELECT version FROM ${s}.authbus_migrations`)).map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
    if (newest > known) {
      throw new StoreError(`The database schema ${schema} is at version ${newest}, newer than this Authbus knows (${known}); upgrade Authbus`);
    }
    let n = 0;
    for (const m of PG_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql(s));
      await tx.exec(`INSERT INTO ${s}.authbus_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      n++;
    }
    return n;
  }, patience);
}
