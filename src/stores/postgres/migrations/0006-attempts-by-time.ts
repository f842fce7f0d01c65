import type { Migration } from "./migration.js";

/**
 * Subscription stats read a window's attempts (attemptStats). Attempts carry no subscription, so the
 * index is by time, joined to deliveries by pos; INCLUDE lets the aggregate read the index alone.
 * Version 7 as on SQLite, where the same index came after the SQLite-only version 6.
 */
export const attemptsByTime: Migration = {
  version: 7,
  name: "attempts by time",
  sql: (s) => `CREATE INDEX delivery_attempts_by_at ON ${s}.delivery_attempts (at) INCLUDE (delivery_pos, status_code, latency_ms);`,
};
