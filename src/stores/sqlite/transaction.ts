import type Database from "better-sqlite3";
import type { TransactionHandle } from "../../core/ports/store.js";

export const BETTER_SQLITE3_TX = "better-sqlite3";

/**
 * Wraps the caller's better-sqlite3 connection so `emit(..., { tx })` writes the event inside the
 * caller's open transaction on the same database file: the operation and its event commit or roll back together.
 * Call it inside `db.transaction(() => { ... })`; emit's insert happens synchronously, before emit returns.
 */
export function fromBetterSqlite3(db: Database.Database): TransactionHandle {
  return Object.freeze({ kind: BETTER_SQLITE3_TX, connection: db });
}
