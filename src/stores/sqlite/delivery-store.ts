import type Database from "better-sqlite3";
import type {
  AttemptBucket,
  Delivery,
  DeliveryAttempt,
  DeliveryQuery,
  DeliveryStore,
  PendingDelivery,
  Subscription,
  SubscriptionSecret,
} from "../../core/ports/deliveries.js";
import type { WriterClient } from "./writer-client.js";
import { packAttempts } from "./delivery-ops.js";
import { decodeCursor, encodeCursor } from "../../core/paging.js";

interface SubRow {
  app_id: string;
  id: string;
  name: string;
  filter: string;
  destination: string;
  format: string;
  ordering: string;
  retry_schedule: string;
  authgear_signature: number;
  state: string;
  disabled_reason: string | null;
  start_seq: number;
  created_at: number;
  updated_at: number;
  pos: number;
}

interface DeliveryRow {
  pos: number;
  id: string;
  subscription_id: string;
  event_id: string;
  seq: number;
  state: string;
  reason: string | null;
  flagged: string | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toSubscription(r: SubRow): Subscription {
  return {
    id: r.id,
    app_id: r.app_id,
    name: r.name,
    filter: JSON.parse(r.filter),
    destination: JSON.parse(r.destination),
    format: r.format as Subscription["format"],
    ordering: r.ordering as Subscription["ordering"],
    retry_schedule: JSON.parse(r.retry_schedule),
    authgear_signature: r.authgear_signature === 1,
    state: r.state as Subscription["state"],
    disabled_reason: r.disabled_reason,
    start_seq: r.start_seq,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

/** Subscriptions and the delivery log on SQLite. Reads and rare admin writes use the main connection; hot writes go through the writer. */
// `+app_id`: the partial pending index, not every delivery the subscription ever had (see FREE in delivery-ops.ts).
// Exported for the query-plan test.
export const PENDING_PAGE_SQL =
  "SELECT pos, id, event_id, seq, subject, attempts, next_attempt_at FROM deliveries WHERE subscription_id = ? AND state = 'pending' AND pos > ? AND +app_id = ? ORDER BY pos LIMIT ?";
export const BACKLOG_SQL = "SELECT count(*) AS n, min(created_at) AS oldest FROM deliveries WHERE subscription_id = ? AND state = 'pending' AND +app_id = ?";

export function createSqliteDeliveryStore(db: Database.Database, writer: WriterClient): DeliveryStore {
  const getSub = db.prepare("SELECT * FROM subscriptions WHERE app_id = ? AND id = ?");
  const attemptsOf = db.prepare("SELECT at, status_code, latency_ms, error, response_head FROM delivery_attempts WHERE delivery_pos = ? ORDER BY n");
  const secretsOf = db.prepare("SELECT secrets FROM subscriptions WHERE app_id = ? AND id = ?").pluck();
  // Prepared once: the delivery loop calls these for every page and attempt.
  const fanoutSeq = db.prepare("SELECT fanout_seq FROM subscriptions WHERE app_id = ? AND id = ?").pluck();
  const pending = db.prepare(PENDING_PAGE_SQL);
  const deliveryById = db.prepare("SELECT * FROM deliveries WHERE app_id = ? AND id = ?");
  const healthOf = db.prepare(
    "SELECT state, disabled_reason, last_success_at, last_failure_at, consecutive_failures, failing_since, last_error FROM subscriptions WHERE app_id = ? AND id = ?",
  );
  const backlogOf = db.prepare(BACKLOG_SQL);
  // CROSS JOIN keeps attempts (by the time index) outermost: the window bounds the scan, whatever the
  // subscription's history; the planner would otherwise start from all of its deliveries.
  const windowAttempts = "FROM delivery_attempts a CROSS JOIN deliveries d ON d.pos = a.delivery_pos WHERE a.at >= ? AND a.at < ? AND d.subscription_id = ? AND d.app_id = ?";
  const statsBuckets = db.prepare(
    `SELECT CAST((a.at - ?) / ? AS INTEGER) AS "index", count(*) AS attempts, coalesce(sum(a.status_code BETWEEN 200 AND 299), 0) AS succeeded, sum(a.latency_ms) AS sum_latency_ms, max(a.latency_ms) AS max_latency_ms
     ${windowAttempts} GROUP BY 1 ORDER BY 1`,
  );
  const statsNth = db.prepare(`SELECT a.latency_ms ${windowAttempts} ORDER BY a.latency_ms LIMIT 1 OFFSET ?`).pluck();

  const toDelivery = (r: DeliveryRow): Delivery => ({
    id: r.id,
    subscription_id: r.subscription_id,
    event_id: r.event_id,
    seq: r.seq,
    state: r.state as Delivery["state"],
    reason: r.reason,
    flagged: r.flagged,
    next_attempt_at: r.state === "pending" ? iso(r.next_attempt_at) : null,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    attempts: (attemptsOf.all(r.pos) as { at: number; status_code: number | null; latency_ms: number; error: string | null; response_head: string | null }[]).map(
      (a): DeliveryAttempt => ({
        at: new Date(a.at).toISOString(),
        status_code: a.status_code,
        latency_ms: Math.round(a.latency_ms * 10) / 10,
        ...(a.error !== null ? { error: a.error } : {}),
        ...(a.response_head !== null ? { response_head: a.response_head } : {}),
      }),
    ),
  });

  return {
    async createSubscription(sub, secret) {
      const now = Date.parse(sub.created_at);
      db.prepare(
        `INSERT INTO subscriptions (app_id, id, name, filter, destination, format, ordering, retry_schedule, authgear_signature, state, disabled_reason, start_seq, fanout_seq, secrets, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        sub.app_id, sub.id, sub.name, JSON.stringify(sub.filter), JSON.stringify(sub.destination), sub.format, sub.ordering,
        JSON.stringify(sub.retry_schedule), sub.authgear_signature ? 1 : 0, sub.state, sub.disabled_reason, sub.start_seq, sub.start_seq,
        JSON.stringify([{ secret, expires_at: null }] satisfies SubscriptionSecret[]), now, now,
      );
    },

    async getSubscription(app_id, id) {
      const r = getSub.get(app_id, id) as SubRow | undefined;
      return r && toSubscription(r);
    },

    async listSubscriptions(app_id, opts = {}) {
      const limit = opts.limit ?? 100;
      const after = decodeCursor(opts.cursor);
      const states = opts.states ?? [];
      const rows = db
        .prepare(`SELECT * FROM subscriptions WHERE app_id = ? AND pos > ? ${states.length ? `AND state IN (${states.map(() => "?").join(",")})` : ""} ORDER BY pos LIMIT ?`)
        .all(app_id, after, ...states, limit + 1) as SubRow[];
      const page = rows.slice(0, limit);
      return { data: page.map(toSubscription), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.pos) : null };
    },

    async allSubscriptions() {
      return (db.prepare("SELECT * FROM subscriptions ORDER BY pos").all() as SubRow[]).map(toSubscription);
    },

    async updateSubscription(app_id, id, patch) {
      const cols: Record<string, unknown> = {};
      if (patch.name !== undefined) cols.name = patch.name;
      if (patch.filter !== undefined) cols.filter = JSON.stringify(patch.filter);
      if (patch.destination !== undefined) cols.destination = JSON.stringify(patch.destination);
      if (patch.format !== undefined) cols.format = patch.format;
      if (patch.ordering !== undefined) cols.ordering = patch.ordering;
      if (patch.retry_schedule !== undefined) cols.retry_schedule = JSON.stringify(patch.retry_schedule);
      if (patch.authgear_signature !== undefined) cols.authgear_signature = patch.authgear_signature ? 1 : 0;
      if (patch.state !== undefined) cols.state = patch.state;
      if (patch.disabled_reason !== undefined) cols.disabled_reason = patch.disabled_reason;
      if (patch.state === "enabled") (cols.failing_since = null), (cols.consecutive_failures = 0);
      cols.updated_at = Date.now();
      const keys = Object.keys(cols);
      const info = db.prepare(`UPDATE subscriptions SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE app_id = ? AND id = ?`).run(...keys.map((k) => cols[k]), app_id, id);
      if (info.changes === 0) return undefined;
      return toSubscription(getSub.get(app_id, id) as SubRow);
    },

    async deleteSubscription(app_id, id) {
      // The delivery log goes with its subscription (as Svix does for endpoints).
      const del = db.transaction(() => {
        db.prepare("DELETE FROM delivery_attempts WHERE delivery_pos IN (SELECT pos FROM deliveries WHERE app_id = ? AND subscription_id = ?)").run(app_id, id);
        db.prepare("DELETE FROM deliveries WHERE app_id = ? AND subscription_id = ?").run(app_id, id);
        return db.prepare("DELETE FROM subscriptions WHERE app_id = ? AND id = ?").run(app_id, id).changes > 0;
      });
      return del.immediate();
    },

    async getSecrets(app_id, id, nowMs) {
      const raw = secretsOf.get(app_id, id) as string | undefined;
      if (raw === undefined) return [];
      return (JSON.parse(raw) as SubscriptionSecret[]).filter((s) => s.expires_at === null || s.expires_at > nowMs);
    },

    async rotateSecret(app_id, id, secret, graceUntilMs) {
      const tx = db.transaction(() => {
        const raw = secretsOf.get(app_id, id) as string | undefined;
        if (raw === undefined) return false;
        const now = Date.now();
        const kept = (JSON.parse(raw) as SubscriptionSecret[])
          .filter((s) => s.expires_at === null || s.expires_at > now)
          .map((s) => (s.expires_at === null ? { ...s, expires_at: graceUntilMs } : s));
        const next: SubscriptionSecret[] = [{ secret, expires_at: null }, ...kept];
        db.prepare("UPDATE subscriptions SET secrets = ?, updated_at = ? WHERE app_id = ? AND id = ?").run(JSON.stringify(next), now, app_id, id);
        return true;
      });
      return tx.immediate();
    },

    async fanoutCursor(app_id, subscription_id) {
      return (fanoutSeq.get(app_id, subscription_id) as number | undefined) ?? 0;
    },

    async fanOut(app_id, subscription_id, deliveries, cursor, from) {
      return (await writer.op("fanOut", { app_id, subscription_id, deliveries, cursor, from, now: Date.now() })) as boolean;
    },

    async insertDeliveries(app_id, subscription_id, deliveries) {
      await writer.op("fanOut", { app_id, subscription_id, deliveries, cursor: null, now: Date.now() });
    },

    async loadPending(app_id, subscription_id, afterPos, limit): Promise<PendingDelivery[]> {
      return pending.all(subscription_id, afterPos, app_id, limit) as PendingDelivery[];
    },

    // Claims are writes: on the writer, so they share its group commits and never block the event loop.
    async claimPending(app_id, subscription_id, owner, o) {
      return (await writer.op("claimPending", { app_id, subscription_id, owner, o })) as PendingDelivery[];
    },

    async renewClaims(owner, untilMs) {
      return (await writer.op("renewClaims", { owner, untilMs })) as number;
    },

    async releaseClaims(owner) {
      await writer.op("releaseClaims", { owner });
    },

    async claimOwners() {
      return db.prepare("SELECT DISTINCT claimed_by FROM deliveries WHERE claimed_by IS NOT NULL").pluck().all() as string[];
    },

    async recordAttempts(results) {
      if (results.length > 0) await writer.op("recordAttempts", { flat: packAttempts(results) });
    },

    async queryDeliveries(q: DeliveryQuery) {
      const where = ["app_id = ?", "pos > ?"];
      const params: unknown[] = [q.app_id, decodeCursor(q.cursor)];
      if (q.subscription_id !== undefined) (where.push("subscription_id = ?"), params.push(q.subscription_id));
      if (q.event_id !== undefined) (where.push("event_id = ?"), params.push(q.event_id));
      if (q.state !== undefined) (where.push("state = ?"), params.push(q.state));
      const rows = db.prepare(`SELECT * FROM deliveries WHERE ${where.join(" AND ")} ORDER BY pos LIMIT ?`).all(...params, q.limit + 1) as DeliveryRow[];
      const page = rows.slice(0, q.limit);
      return { data: page.map(toDelivery), next_cursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.pos) : null };
    },

    async getDelivery(app_id, id) {
      const r = deliveryById.get(app_id, id) as DeliveryRow | undefined;
      return r && toDelivery(r);
    },

    async retryDelivery(app_id, id, nowMs) {
      db.prepare("UPDATE deliveries SET state = 'pending', next_attempt_at = ?, reason = NULL, updated_at = ? WHERE app_id = ? AND id = ? AND state IN ('dead', 'delivered')").run(
        nowMs,
        nowMs,
        app_id,
        id,
      );
      const r = db.prepare("SELECT * FROM deliveries WHERE app_id = ? AND id = ?").get(app_id, id) as DeliveryRow | undefined;
      return r && toDelivery(r);
    },

    async retryDead(app_id, subscription_id, nowMs) {
      return db
        .prepare("UPDATE deliveries SET state = 'pending', next_attempt_at = ?, reason = NULL, updated_at = ? WHERE app_id = ? AND subscription_id = ? AND state = 'dead'")
        .run(nowMs, nowMs, app_id, subscription_id).changes;
    },

    async health(app_id, subscription_id, nowMs) {
      const s = healthOf.get(app_id, subscription_id) as
        | { state: string; disabled_reason: string | null; last_success_at: number | null; last_failure_at: number | null; consecutive_failures: number; failing_since: number | null; last_error: string | null }
        | undefined;
      if (!s) return undefined;
      const b = backlogOf.get(subscription_id, app_id) as { n: number; oldest: number | null };
      return {
        state: s.state as Subscription["state"],
        disabled_reason: s.disabled_reason,
        last_success_at: iso(s.last_success_at),
        last_failure_at: iso(s.last_failure_at),
        consecutive_failures: s.consecutive_failures,
        backlog: b.n,
        lag_seconds: b.oldest === null ? 0 : Math.max(0, Math.round((nowMs - b.oldest) / 1000)),
        last_error: s.last_error,
        failing_since: iso(s.failing_since),
      };
    },

    async attemptStats(app_id, subscription_id, { sinceMs, untilMs, bucketMs }) {
      const window = [sinceMs, untilMs, subscription_id, app_id];
      // One read transaction: the percentile's rank comes from the same snapshot as the counts.
      return db.transaction(() => {
        const buckets = statsBuckets.all(sinceMs, bucketMs, ...window) as AttemptBucket[];
        const n = buckets.reduce((sum, b) => sum + b.attempts, 0);
        return { buckets, p95_latency_ms: n === 0 ? null : (statsNth.get(...window, Math.ceil(n * 0.95) - 1) as number) };
      })();
    },

    async acquireLease(name, owner, ttlMs, nowMs, stealFrom) {
      const tx = db.transaction(() => {
        const cur = db.prepare("SELECT owner, expires_at FROM leases WHERE name = ?").get(name) as { owner: string; expires_at: number } | undefined;
        if (cur && cur.owner !== owner && cur.expires_at > nowMs && cur.owner !== stealFrom) return false;
        db.prepare("INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at").run(name, owner, nowMs + ttlMs);
        return true;
      });
      return tx.immediate();
    },

    async leaseHolder(name) {
      return (db.prepare("SELECT owner FROM leases WHERE name = ?").pluck().get(name) as string | undefined) ?? null;
    },

    async releaseLease(name, owner) {
      db.prepare("DELETE FROM leases WHERE name = ? AND owner = ?").run(name, owner);
    },
  };
}
