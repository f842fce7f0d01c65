import type { AttemptResult, DeliveryStore, PendingDelivery } from "../../core/ports/deliveries.js";
import type { PgDb, Sql } from "./connection.js";

const PENDING_COLUMNS = "d.pos, d.id, d.event_id, d.seq, d.subject, d.attempts, d.next_attempt_at";
// $1 subscription, $2 app, $3 now, $4 owner. A candidate is due and not held by a live claim.
const FREE = "d.subscription_id = $1 AND d.state = 'pending' AND d.app_id = $2 AND d.next_attempt_at <= $3 AND (d.claimed_by IS NULL OR d.claim_until <= $3)";
const isHead = (s: string, scope: string) =>
  `NOT EXISTS (SELECT 1 FROM ${s}.deliveries x WHERE x.subscription_id = d.subscription_id AND x.state = 'pending' ${scope} AND (x.seq < d.seq OR (x.seq = d.seq AND x.pos < d.pos)))`;
const noneClaimedByOthers = (s: string, scope: string) =>
  `NOT EXISTS (SELECT 1 FROM ${s}.deliveries c WHERE c.subscription_id = d.subscription_id AND c.claimed_by IS NOT NULL ${scope} AND c.claimed_by <> $4 AND c.claim_until > $3 AND c.state = 'pending')`;

type ClaimMethods = Pick<DeliveryStore, "claimPending" | "renewClaims" | "releaseClaims" | "claimOwners" | "recordAttempts">;

/**
 * Claims on PostgreSQL. `none`: `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows
 * without waiting for each other. `seq` and `subject`: the head rule reads other rows' claims, which
 * a concurrent claimer may be changing, so claimers of one ordered subscription take turns under a
 * transaction-scoped advisory lock (the claim statement's snapshot then includes every earlier claim).
 */
export function createPgClaims(db: PgDb): ClaimMethods {
  const s = db.s;
  const candidates = {
    none: `SELECT d.pos FROM ${s}.deliveries d WHERE ${FREE} ORDER BY d.pos LIMIT $6 FOR UPDATE SKIP LOCKED`,
    // The head itself, then the checks: filtering first would scan the whole backlog when the head is not free.
    seq: `SELECT d.pos FROM (SELECT * FROM ${s}.deliveries WHERE subscription_id = $1 AND state = 'pending' AND app_id = $2 ORDER BY seq, pos LIMIT 1) d
          WHERE ${FREE} AND ${noneClaimedByOthers(s, "")} LIMIT $6`,
    subject: `SELECT d.pos FROM ${s}.deliveries d WHERE ${FREE}
              AND (d.subject IS NULL OR (${isHead(s, "AND x.subject = d.subject")} AND ${noneClaimedByOthers(s, "AND c.subject = d.subject")}))
              ORDER BY d.pos LIMIT $6 FOR UPDATE SKIP LOCKED`,
  };
  const claim = (tx: Sql, sql: string, values: unknown[]) =>
    tx.query<PendingDelivery>(
      `UPDATE ${s}.deliveries d SET claimed_by = $4, claim_until = $5 FROM (${sql}) c WHERE d.pos = c.pos RETURNING ${PENDING_COLUMNS}`,
      values,
    );

  return {
    async claimPending(app_id, subscription_id, owner, o) {
      const values = [subscription_id, app_id, o.nowMs, owner, o.nowMs + o.leaseMs, o.limit];
      const rows =
        o.ordering === "none"
          ? await claim(db, candidates.none, values)
          : await db.transaction(async (tx) => {
              await tx.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`authbus.claim.${subscription_id}`]);
              return claim(tx, candidates[o.ordering], values);
            });
      return rows.sort((a, b) => a.pos - b.pos);
    },

    async renewClaims(owner, untilMs) {
      // Rows locked in id order, as recordAttempts does: the two run concurrently for the same owner and must not deadlock.
      return db.exec(
        `UPDATE ${s}.deliveries SET claim_until = $2 WHERE pos IN (SELECT pos FROM ${s}.deliveries WHERE claimed_by = $1 AND state = 'pending' ORDER BY id FOR UPDATE)`,
        [owner, untilMs],
      );
    },

    async releaseClaims(owner) {
      await db.exec(`UPDATE ${s}.deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = $1`, [owner]);
    },

    async claimOwners() {
      return (await db.query<{ claimed_by: string }>(`SELECT DISTINCT claimed_by FROM ${s}.deliveries WHERE claimed_by IS NOT NULL`)).map((r) => r.claimed_by);
    },

    async recordAttempts(results) {
      if (results.length === 0) return;
      await db.transaction(async (tx) => {
        const known = await recordBatch(tx, s, results);
        // Last, and one row per subscription: the lock on a subscription row (shared by every worker) is held only until COMMIT.
        for (const h of healthOf(results.filter((r) => known.has(r.delivery_id)))) await updateHealth(tx, s, h);
      });
    },
  };
}

/** The attempts and the deliveries' new states, set-based: two statements for the whole batch. Returns the ids that exist. */
async function recordBatch(tx: Sql, s: string, results: AttemptResult[]): Promise<Set<string>> {
  // Lock the deliveries first, in id order (renewClaims does the same), so concurrent writers of one worker's rows cannot deadlock.
  await tx.query(`SELECT 1 FROM ${s}.deliveries WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [[...new Set(results.map((r) => r.delivery_id))]]);
  const col = <K extends keyof AttemptResult>(k: K) => results.map((r) => r[k]);
  await tx.exec(
    `INSERT INTO ${s}.delivery_attempts (delivery_pos, n, at, status_code, latency_ms, error, response_head)
     SELECT d.pos, r.n, r.at, r.status_code, r.latency_ms, r.error, r.response_head
     FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::float8[], $6::text[], $7::text[]) AS r(id, n, at, status_code, latency_ms, error, response_head)
     JOIN ${s}.deliveries d ON d.id = r.id
     ON CONFLICT (delivery_pos, n) DO UPDATE SET at = excluded.at, status_code = excluded.status_code, latency_ms = excluded.latency_ms, error = excluded.error, response_head = excluded.response_head`,
    [col("delivery_id"), col("n"), col("at_ms"), col("status_code"), col("latency_ms"), col("error"), col("response_head")],
  );
  // One update per delivery: its latest attempt.
  const last = new Map<string, AttemptResult>();
  for (const r of results) if ((last.get(r.delivery_id)?.n ?? -1) < r.n) last.set(r.delivery_id, r);
  const ups = [...last.values()];
  const u = <K extends keyof AttemptResult>(k: K) => ups.map((r) => r[k]);
  const updated = await tx.query<{ id: string }>(
    `UPDATE ${s}.deliveries d SET state = r.state, attempts = r.n, next_attempt_at = r.next_at, flagged = r.flagged, reason = r.reason, updated_at = r.at,
       claimed_by = CASE WHEN r.keep THEN d.claimed_by END, claim_until = CASE WHEN r.keep THEN d.claim_until END
     FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::boolean[]) AS r(id, n, at, state, next_at, flagged, reason, keep)
     WHERE d.id = r.id RETURNING d.id`,
    [u("delivery_id"), u("n"), u("at_ms"), u("state"), u("next_attempt_at_ms"), u("flagged"), u("reason"), ups.map((r) => r.state === "pending" && r.keep_claim === true)],
  );
  return new Set(updated.map((r) => r.id));
}

interface HealthDelta {
  app_id: string;
  subscription_id: string;
  /** Time of the last success in the batch, if any: the streak restarts after it. */
  successAt: number | null;
  failures: number;
  firstFailureAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
}

/** The batch's effect on each subscription's health, as if its results were applied one by one. */
function healthOf(results: AttemptResult[]): HealthDelta[] {
  const by = new Map<string, HealthDelta>();
  for (const r of results) {
    let h = by.get(r.subscription_id);
    if (!h) by.set(r.subscription_id, (h = { app_id: r.app_id, subscription_id: r.subscription_id, successAt: null, failures: 0, firstFailureAt: null, lastFailureAt: null, lastError: null }));
    if (r.state === "delivered") {
      h.successAt = r.at_ms;
      h.failures = 0;
      h.firstFailureAt = null;
    } else {
      h.failures++;
      h.firstFailureAt ??= r.at_ms;
      h.lastFailureAt = r.at_ms;
      h.lastError = r.error ?? (r.status_code !== null ? `HTTP ${r.status_code}` : "failed");
    }
  }
  return [...by.values()].sort((a, b) => (a.subscription_id < b.subscription_id ? -1 : 1));
}

function updateHealth(tx: Sql, s: string, h: HealthDelta): Promise<number> {
  // A deleted delivery's attempt is dropped above; its subscription may be gone too, then this matches nothing.
  return tx.exec(
    `UPDATE ${s}.subscriptions SET
       last_success_at = coalesce($3::bigint, last_success_at),
       last_failure_at = coalesce($6::bigint, last_failure_at),
       consecutive_failures = CASE WHEN $3::bigint IS NULL THEN consecutive_failures ELSE 0 END + $4::int,
       failing_since = CASE WHEN $3::bigint IS NULL THEN coalesce(failing_since, $5::bigint) ELSE $5::bigint END,
       last_error = coalesce($7::text, last_error)
     WHERE app_id = $1 AND id = $2
       -- Successes on a healthy subscription move only last_success_at: at most once a second, so
       -- workers do not queue on this one row (a row that does not match is not locked).
       AND ($4::int > 0 OR consecutive_failures <> 0 OR failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < $3::bigint - 1000)`,
    [h.app_id, h.subscription_id, h.successAt, h.failures, h.firstFailureAt, h.lastFailureAt, h.lastError],
  );
}
