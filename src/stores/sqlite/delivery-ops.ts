import type Database from "better-sqlite3";
import type { AttemptResult, NewDelivery } from "../../core/ports/deliveries.js";
import type { DecisionRecord } from "../../core/hooks/decision.js";

/**
 * Delivery writes that run on the writer (thread), inside a group-commit batch: they share the
 * fsync of the events committed with them, and never block the event loop.
 */
export interface DeliveryOpArgs {
  fanOut: { app_id: string; subscription_id: string; deliveries: NewDelivery[]; cursor: number | null; now: number };
  recordAttempts: { results: AttemptResult[] };
  recordDecisions: { records: DecisionRecord[] };
}

export type DeliveryOpName = keyof DeliveryOpArgs;

export function createDeliveryOps(db: Database.Database): { [K in DeliveryOpName]: (args: DeliveryOpArgs[K]) => unknown } {
  const insert = db.prepare(
    "INSERT INTO deliveries (id, app_id, subscription_id, event_id, seq, subject, state, attempts, next_attempt_at, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
  );
  const moveCursor = db.prepare("UPDATE subscriptions SET fanout_seq = max(fanout_seq, ?) WHERE app_id = ? AND id = ?");
  const posOf = db.prepare("SELECT pos FROM deliveries WHERE id = ?").pluck();
  const insertAttempt = db.prepare(
    "INSERT OR REPLACE INTO delivery_attempts (delivery_pos, n, at, status_code, latency_ms, error, response_head) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const updateDelivery = db.prepare(
    "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, flagged = ?, reason = ?, updated_at = ? WHERE pos = ?",
  );
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
    fanOut({ app_id, subscription_id, deliveries, cursor, now }) {
      for (const d of deliveries) {
        insert.run(d.id, app_id, subscription_id, d.event_id, d.seq, d.subject, d.state, d.state === "pending" ? now : null, d.reason, now, now);
      }
      if (cursor !== null) moveCursor.run(cursor, app_id, subscription_id);
      return deliveries.length;
    },
    // The decision ledger rides the same batches: no fsync of its own, nothing on the event loop.
    recordDecisions({ records }) {
      for (const r of records) {
        const info = insertDecision.run(r.id, r.app_id, r.event_id, r.type, r.decision, r.hooks.some((h) => h.outcome === "error") ? 1 : 0, Date.parse(r.at), JSON.stringify(r));
        if (info.changes === 0) continue;
        for (const h of r.hooks) insertAnswer.run(r.app_id, h.hook_id, info.lastInsertRowid, h.outcome);
      }
      return records.length;
    },
    recordAttempts({ results }) {
      for (const r of results) {
        const pos = posOf.get(r.delivery_id) as number | undefined;
        if (pos === undefined) continue; // the subscription was deleted meanwhile
        insertAttempt.run(pos, r.n, r.at_ms, r.status_code, r.latency_ms, r.error, r.response_head);
        updateDelivery.run(r.state, r.n, r.next_attempt_at_ms, r.flagged, r.reason, r.at_ms, pos);
        if (r.state === "delivered") success.run(r.at_ms, r.app_id, r.subscription_id);
        else failure.run(r.at_ms, r.at_ms, r.error ?? (r.status_code !== null ? `HTTP ${r.status_code}` : "failed"), r.app_id, r.subscription_id);
      }
      return results.length;
    },
  };
}
