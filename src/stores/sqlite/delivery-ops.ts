import type Database from "better-sqlite3";
import type { AttemptResult, ClaimOptions, NewDelivery, PendingDelivery } from "../../core/ports/deliveries.js";
import type { DecisionRecord } from "../../core/hooks/decision.js";

/**
 * Delivery writes that run on the writer (thread), inside a group-commit batch: they share the
 * fsync of the events committed with them, and never block the event loop.
 */
export interface DeliveryOpArgs {
  fanOut: { app_id: string; subscription_id: string; deliveries: NewDelivery[]; cursor: number | null; from?: number; now: number };
  /** packAttempts' flat array: one structured clone of plain values, not an object per attempt. */
  recordAttempts: { flat: unknown[] };
  claimPending: { app_id: string; subscription_id: string; owner: string; o: ClaimOptions };
  renewClaims: { owner: string; untilMs: number };
  releaseClaims: { owner: string };
  recordDecisions: { records: DecisionRecord[] };
}

export type DeliveryOpName = keyof DeliveryOpArgs;

export function createDeliveryOps(db: Database.Database): { [K in DeliveryOpName]: (args: DeliveryOpArgs[K]) => unknown } {
  const insert = db.prepare(
    "INSERT INTO deliveries (id, app_id, subscription_id, event_id, seq, subject, state, attempts, next_attempt_at, reason, created_at, updated_at, claimed_by, claim_until) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
  );
  const fanoutSeq = db.prepare("SELECT fanout_seq FROM subscriptions WHERE app_id = ? AND id = ?").pluck();
  const moveCursor = db.prepare("UPDATE subscriptions SET fanout_seq = max(fanout_seq, ?) WHERE app_id = ? AND id = ?");
  const posOf = db.prepare("SELECT pos FROM deliveries WHERE id = ?").pluck();
  const idAt = db.prepare("SELECT id FROM deliveries WHERE pos = ?").pluck();
  const insertAttempt = db.prepare(
    "INSERT OR REPLACE INTO delivery_attempts (delivery_pos, n, at, status_code, latency_ms, error, response_head) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const updateDelivery = db.prepare(
    `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, flagged = ?, reason = ?, updated_at = ?,
       claimed_by = CASE WHEN ? THEN claimed_by END, claim_until = CASE WHEN ? THEN claim_until END WHERE pos = ?`,
  );
  const claims = createClaimStatements(db);
  const success = db.prepare(
    "UPDATE subscriptions SET last_success_at = ?, consecutive_failures = 0, failing_since = NULL WHERE app_id = ? AND id = ?",
  );
  const insertDecision = db.prepare(
    "INSERT INTO hook_decisions (id, app_id, event_id, type, decision, any_error, at_ms, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
  );
  const insertAnswer = db.prepare("INSERT INTO hook_decision_answers (app_id, hook_id, decision_pos, outcome) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
  const failure = db.prepare(
    "UPDATE subscriptions SET last_failure_at = ?, consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, ?), last_error = ? WHERE app_id = ? AND id = ?",
  );

  return {
    fanOut({ app_id, subscription_id, deliveries, cursor, from, now }) {
      // Compare-and-set: the writer serialises every process's writes, so the check and the insert are atomic.
      if (from !== undefined && (fanoutSeq.get(app_id, subscription_id) as number | undefined) !== from) return false;
      for (const d of deliveries) {
        insert.run(d.id, app_id, subscription_id, d.event_id, d.seq, d.subject, d.state, d.state === "pending" ? now : null, d.reason, now, now, d.claimed_by ?? null, d.claim_until ?? null);
      }
      if (cursor !== null) moveCursor.run(cursor, app_id, subscription_id);
      return true;
    },
    claimPending: (a) => claims.claim(a),
    renewClaims: ({ owner, untilMs }) => claims.renew.run(untilMs, owner).changes,
    releaseClaims: ({ owner }) => claims.release.run(owner).changes,
    // The decision ledger rides the same batches: no fsync of its own, nothing on the event loop.
    recordDecisions({ records }) {
      for (const r of records) {
        const info = insertDecision.run(r.id, r.app_id, r.event_id, r.type, r.decision, r.hooks.some((h) => h.outcome === "error") ? 1 : 0, Date.parse(r.at), JSON.stringify(r));
        if (info.changes === 0) continue;
        for (const h of r.hooks) insertAnswer.run(r.app_id, h.hook_id, info.lastInsertRowid, h.outcome);
      }
      return records.length;
    },
    recordAttempts({ flat }) {
      // A run of successes of one subscription sets the same columns: only the last one is written.
      let ok: { at: number; app: string; sub: string } | undefined;
      const flushSuccess = () => ok && (success.run(ok.at, ok.app, ok.sub), (ok = undefined));
      for (let i = 0; i < flat.length; i += ATTEMPT_FIELDS) {
        const [app_id, subscription_id, delivery_id, n, at_ms, status_code, latency_ms, error, response_head, state, next_attempt_at_ms, flagged, reason, keep, knownPos] =
          flat.slice(i, i + ATTEMPT_FIELDS) as PackedAttempt;
        // A known pos is checked against the id (one rowid lookup, not a search of the id index).
        const pos = (knownPos !== null && idAt.get(knownPos) === delivery_id ? knownPos : posOf.get(delivery_id)) as number | undefined;
        if (pos === undefined) continue; // the subscription was deleted meanwhile
        insertAttempt.run(pos, n, at_ms, status_code, latency_ms, error, response_head);
        updateDelivery.run(state, n, next_attempt_at_ms, flagged, reason, at_ms, keep, keep, pos);
        if (ok && (ok.app !== app_id || ok.sub !== subscription_id)) flushSuccess();
        if (state === "delivered") ok = { at: at_ms, app: app_id, sub: subscription_id };
        else {
          flushSuccess();
          failure.run(at_ms, at_ms, error ?? (status_code !== null ? `HTTP ${status_code}` : "failed"), app_id, subscription_id);
        }
      }
      flushSuccess();
      return flat.length / ATTEMPT_FIELDS;
    },
  };
}

type PackedAttempt = [
  app_id: string, subscription_id: string, delivery_id: string, n: number, at_ms: number, status_code: number | null, latency_ms: number,
  error: string | null, response_head: string | null, state: AttemptResult["state"], next_attempt_at_ms: number | null, flagged: string | null,
  reason: string | null, keep_claim: 0 | 1, delivery_pos: number | null,
];
const ATTEMPT_FIELDS = 15;

/** Attempt results as one flat array for the writer thread (see DeliveryOpArgs.recordAttempts). */
export function packAttempts(results: readonly AttemptResult[]): unknown[] {
  const out: unknown[] = [];
  for (const r of results) {
    // Only a pending result keeps its claim: a final one always releases it.
    const keep = r.state === "pending" && r.keep_claim === true ? 1 : 0;
    out.push(r.app_id, r.subscription_id, r.delivery_id, r.n, r.at_ms, r.status_code, r.latency_ms, r.error, r.response_head, r.state, r.next_attempt_at_ms, r.flagged, r.reason, keep, r.delivery_pos ?? null);
  }
  return out;
}

const PENDING_COLUMNS = "pos, id, event_id, seq, subject, attempts, next_attempt_at";
// A candidate is due and not held by a live claim (an owner's own live claims are already in its hands).
// `+d.app_id`: with app_id usable, SQLite prefers deliveries_by_subscription (two equalities) and
// walks every delivery the subscription ever had, delivered ones included, on each claim; the
// partial pending index holds only what is still to deliver.
const FREE = "d.subscription_id = @sub AND d.state = 'pending' AND +d.app_id = @app AND d.next_attempt_at <= @now AND (d.claimed_by IS NULL OR d.claim_until <= @now)";
/** No pending delivery of the same scope with a lower seq (the head of the line). */
const isHead = (scope: string) =>
  `NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.subscription_id = d.subscription_id AND x.state = 'pending' ${scope} AND (x.seq < d.seq OR (x.seq = d.seq AND x.pos < d.pos)))`;
/** No pending delivery of the same scope held by another owner's live claim (the claimed index is small; the pending one may hold a backlog of millions). */
const noneClaimedByOthers = (scope: string) =>
  `NOT EXISTS (SELECT 1 FROM deliveries c INDEXED BY deliveries_claimed WHERE c.subscription_id = d.subscription_id AND c.claimed_by IS NOT NULL ${scope} AND c.claimed_by <> @owner AND c.claim_until > @now AND c.state = 'pending')`;

/** Candidates for a claim, per ordering: the positions to take. */
const CANDIDATES: Record<ClaimOptions["ordering"], string> = {
  none: `SELECT d.pos FROM deliveries d WHERE ${FREE} ORDER BY d.pos LIMIT @limit`,
  // The head itself, then the checks: filtering first would scan the whole backlog when the head is not free.
  seq: `SELECT d.pos FROM (SELECT * FROM deliveries WHERE subscription_id = @sub AND state = 'pending' AND +app_id = @app ORDER BY seq, pos LIMIT 1) d
       WHERE ${FREE} AND ${noneClaimedByOthers("")} LIMIT @limit`,
  subject: `SELECT d.pos FROM deliveries d WHERE ${FREE}
       AND (d.subject IS NULL OR (${isHead("AND x.subject = d.subject")} AND ${noneClaimedByOthers("AND c.subject = d.subject")})) ORDER BY d.pos LIMIT @limit`,
};

/** A claim, per ordering: candidates chosen and taken in one statement (exported for the query-plan test). */
export const CLAIM_SQL = Object.fromEntries(
  Object.entries(CANDIDATES).map(([ordering, candidates]) => [
    ordering,
    `UPDATE deliveries SET claimed_by = @owner, claim_until = @until WHERE pos IN (${candidates}) RETURNING ${PENDING_COLUMNS}`,
  ]),
) as Record<ClaimOptions["ordering"], string>;

/** The ordering rules of DeliveryStore.claimPending, as statements run inside one writer transaction. */
function createClaimStatements(db: Database.Database) {
  const candidates = {
    none: db.prepare(CLAIM_SQL.none),
    seq: db.prepare(CLAIM_SQL.seq),
    subject: db.prepare(CLAIM_SQL.subject),
  };
  return {
    claim({ app_id, subscription_id, owner, o }: DeliveryOpArgs["claimPending"]): PendingDelivery[] {
      const rows = candidates[o.ordering].all({ sub: subscription_id, app: app_id, now: o.nowMs, owner, limit: o.limit, until: o.nowMs + o.leaseMs }) as PendingDelivery[];
      // RETURNING gives no order: the claimed batch goes back in pos order, as the candidates were chosen.
      return rows.sort((a, b) => a.pos - b.pos);
    },
    renew: db.prepare("UPDATE deliveries SET claim_until = ? WHERE claimed_by = ? AND state = 'pending'"),
    release: db.prepare("UPDATE deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?"),
  };
}
