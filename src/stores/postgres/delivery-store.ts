import type { Delivery, DeliveryAttempt, DeliveryStore, NewDelivery, PendingDelivery, Subscription, SubscriptionSecret } from "../../core/ports/deliveries.js";
import type { PgDb, Sql } from "./connection.js";
import { decodeCursor, iso, isoOrNull, toPage } from "../../core/paging.js";
import { createPgClaims } from "./delivery-claims.js";

interface SubRow {
  pos: number;
  app_id: string;
  id: string;
  name: string;
  filter: string[];
  destination: Subscription["destination"];
  format: Subscription["format"];
  ordering: Subscription["ordering"];
  retry_schedule: number[];
  authgear_signature: boolean;
  state: Subscription["state"];
  disabled_reason: string | null;
  start_seq: number;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  pos: number;
  id: string;
  subscription_id: string;
  event_id: string;
  seq: number;
  state: Delivery["state"];
  reason: string | null;
  flagged: string | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  delivery_pos: number;
  at: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_head: string | null;
}

const SUB_COLUMNS = "pos, app_id, id, name, filter, destination, format, ordering, retry_schedule, authgear_signature, state, disabled_reason, start_seq, created_at, updated_at";
const DELIVERY_COLUMNS = "pos, id, subscription_id, event_id, seq, state, reason, flagged, next_attempt_at, created_at, updated_at";

function toSubscription(r: SubRow): Subscription {
  const { pos: _pos, created_at, updated_at, ...rest } = r;
  return { ...rest, created_at: iso(created_at), updated_at: iso(updated_at) };
}

const toAttempt = (a: AttemptRow): DeliveryAttempt => ({
  at: iso(a.at),
  status_code: a.status_code,
  latency_ms: Math.round(a.latency_ms * 10) / 10,
  ...(a.error !== null ? { error: a.error } : {}),
  ...(a.response_head !== null ? { response_head: a.response_head } : {}),
});

/** Columns of a patch, in SQL form; `updated_at` always moves, and enabling clears the failing streak. */
function patchColumns(patch: Parameters<DeliveryStore["updateSubscription"]>[2]): Record<string, unknown> {
  const cols: Record<string, unknown> = {};
  for (const k of ["name", "format", "ordering", "state", "disabled_reason", "authgear_signature"] as const) if (patch[k] !== undefined) cols[k] = patch[k];
  for (const k of ["filter", "destination", "retry_schedule"] as const) if (patch[k] !== undefined) cols[k] = JSON.stringify(patch[k]);
  if (patch.state === "enabled") (cols.failing_since = null), (cols.consecutive_failures = 0);
  cols.updated_at = Date.now();
  return cols;
}

/** Subscriptions and the delivery log on PostgreSQL: the same rows and rules as the SQLite store. */
export function createPgDeliveryStore(db: PgDb): DeliveryStore {
  const s = db.s;
  const withAttempts = async (rows: DeliveryRow[]): Promise<Delivery[]> => {
    if (rows.length === 0) return [];
    const attempts = await db.query<AttemptRow>(
      `SELECT delivery_pos, at, status_code, latency_ms, error, response_head FROM ${s}.delivery_attempts WHERE delivery_pos = ANY($1::bigint[]) ORDER BY delivery_pos, n`,
      [rows.map((r) => r.pos)],
    );
    const byPos = new Map<number, DeliveryAttempt[]>();
    for (const a of attempts) byPos.set(a.delivery_pos, [...(byPos.get(a.delivery_pos) ?? []), toAttempt(a)]);
    return rows.map((r) => ({
      id: r.id, subscription_id: r.subscription_id, event_id: r.event_id, seq: r.seq, state: r.state, reason: r.reason, flagged: r.flagged,
      next_attempt_at: r.state === "pending" ? isoOrNull(r.next_attempt_at) : null,
      created_at: iso(r.created_at), updated_at: iso(r.updated_at), attempts: byPos.get(r.pos) ?? [],
    }));
  };
  const oneDelivery = async (app_id: string, id: string) =>
    (await withAttempts(await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM ${s}.deliveries WHERE app_id = $1 AND id = $2`, [app_id, id])))[0];

  // Set-based, in input order (pos follows it), in one statement.
  const insertDeliveries = (sql: Sql, app_id: string, subscription_id: string, ds: NewDelivery[], now: number) =>
    sql.exec(
      `INSERT INTO ${s}.deliveries (id, app_id, subscription_id, event_id, seq, subject, state, attempts, next_attempt_at, reason, created_at, updated_at, claimed_by, claim_until)
       SELECT d.id, $1, $2, d.event_id, d.seq, d.subject, d.state, 0, CASE WHEN d.state = 'pending' THEN $3::bigint END, d.reason, $3, $3, d.claimed_by, d.claim_until
       FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[]) WITH ORDINALITY AS d(id, event_id, seq, subject, state, reason, claimed_by, claim_until, ord)
       ORDER BY d.ord`,
      [
        app_id, subscription_id, now, ds.map((d) => d.id), ds.map((d) => d.event_id), ds.map((d) => d.seq), ds.map((d) => d.subject), ds.map((d) => d.state),
        ds.map((d) => d.reason), ds.map((d) => d.claimed_by ?? null), ds.map((d) => d.claim_until ?? null),
      ],
    );

  return {
    ...createPgClaims(db),

    async createSubscription(sub, secret) {
      const now = Date.parse(sub.created_at);
      await db.exec(
        `INSERT INTO ${s}.subscriptions (app_id, id, name, filter, destination, format, ordering, retry_schedule, authgear_signature, state, disabled_reason, start_seq, fanout_seq, secrets, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $14)`,
        [
          sub.app_id, sub.id, sub.name, JSON.stringify(sub.filter), JSON.stringify(sub.destination), sub.format, sub.ordering, JSON.stringify(sub.retry_schedule),
          sub.authgear_signature, sub.state, sub.disabled_reason, sub.start_seq, JSON.stringify([{ secret, expires_at: null }] satisfies SubscriptionSecret[]), now,
        ],
      );
    },

    async getSubscription(app_id, id) {
      const [r] = await db.query<SubRow>(`SELECT ${SUB_COLUMNS} FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2`, [app_id, id]);
      return r && toSubscription(r);
    },

    async listSubscriptions(app_id, opts = {}) {
      const limit = opts.limit ?? 100;
      const states = opts.states ?? [];
      const rows = await db.query<SubRow>(
        `SELECT ${SUB_COLUMNS} FROM ${s}.subscriptions WHERE app_id = $1 AND pos > $2 AND (cardinality($3::text[]) = 0 OR state = ANY($3::text[])) ORDER BY pos LIMIT $4`,
        [app_id, decodeCursor(opts.cursor), states, limit + 1],
      );
      return toPage(rows, limit, toSubscription);
    },

    async allSubscriptions() {
      return (await db.query<SubRow>(`SELECT ${SUB_COLUMNS} FROM ${s}.subscriptions ORDER BY pos`)).map(toSubscription);
    },

    async updateSubscription(app_id, id, patch) {
      const cols = patchColumns(patch);
      const keys = Object.keys(cols);
      const [r] = await db.query<SubRow>(
        `UPDATE ${s}.subscriptions SET ${keys.map((k, i) => `${k} = $${i + 3}`).join(", ")} WHERE app_id = $1 AND id = $2 RETURNING ${SUB_COLUMNS}`,
        [app_id, id, ...keys.map((k) => cols[k])],
      );
      return r && toSubscription(r);
    },

    async deleteSubscription(app_id, id) {
      // The delivery log goes with its subscription (as Svix does for endpoints).
      return db.transaction(async (tx) => {
        await tx.exec(`DELETE FROM ${s}.delivery_attempts WHERE delivery_pos IN (SELECT pos FROM ${s}.deliveries WHERE app_id = $1 AND subscription_id = $2)`, [app_id, id]);
        await tx.exec(`DELETE FROM ${s}.deliveries WHERE app_id = $1 AND subscription_id = $2`, [app_id, id]);
        return (await tx.exec(`DELETE FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2`, [app_id, id])) > 0;
      });
    },

    async getSecrets(app_id, id, nowMs) {
      const [r] = await db.query<{ secrets: SubscriptionSecret[] }>(`SELECT secrets FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2`, [app_id, id]);
      return r ? r.secrets.filter((x) => x.expires_at === null || x.expires_at > nowMs) : [];
    },

    async rotateSecret(app_id, id, secret, graceUntilMs) {
      return db.transaction(async (tx) => {
        const [r] = await tx.query<{ secrets: SubscriptionSecret[] }>(`SELECT secrets FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2 FOR UPDATE`, [app_id, id]);
        if (!r) return false;
        const now = Date.now();
        const kept = r.secrets.filter((x) => x.expires_at === null || x.expires_at > now).map((x) => (x.expires_at === null ? { ...x, expires_at: graceUntilMs } : x));
        const next: SubscriptionSecret[] = [{ secret, expires_at: null }, ...kept];
        await tx.exec(`UPDATE ${s}.subscriptions SET secrets = $3, updated_at = $4 WHERE app_id = $1 AND id = $2`, [app_id, id, JSON.stringify(next), now]);
        return true;
      });
    },

    async fanoutCursor(app_id, subscription_id) {
      const [r] = await db.query<{ fanout_seq: number }>(`SELECT fanout_seq FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2`, [app_id, subscription_id]);
      return r?.fanout_seq ?? 0;
    },

    async fanOut(app_id, subscription_id, deliveries, cursor, from) {
      return db.transaction(async (tx) => {
        // Compare-and-set under the subscription's row lock: of two workers fanning out the same page, the second finds the cursor moved and writes nothing.
        if (from !== undefined) {
          const [r] = await tx.query<{ fanout_seq: number }>(`SELECT fanout_seq FROM ${s}.subscriptions WHERE app_id = $1 AND id = $2 FOR UPDATE`, [app_id, subscription_id]);
          if (r?.fanout_seq !== from) return false;
        }
        if (deliveries.length > 0) await insertDeliveries(tx, app_id, subscription_id, deliveries, Date.now());
        await tx.exec(`UPDATE ${s}.subscriptions SET fanout_seq = GREATEST(fanout_seq, $3) WHERE app_id = $1 AND id = $2`, [app_id, subscription_id, cursor]);
        return true;
      });
    },

    async insertDeliveries(app_id, subscription_id, deliveries) {
      if (deliveries.length > 0) await insertDeliveries(db, app_id, subscription_id, deliveries, Date.now());
    },

    async loadPending(app_id, subscription_id, afterPos, limit): Promise<PendingDelivery[]> {
      return db.query<PendingDelivery>(
        `SELECT pos, id, event_id, seq, subject, attempts, next_attempt_at FROM ${s}.deliveries
         WHERE subscription_id = $1 AND state = 'pending' AND pos > $2 AND app_id = $3 ORDER BY pos LIMIT $4`,
        [subscription_id, afterPos, app_id, limit],
      );
    },

    async queryDeliveries(q) {
      const values: unknown[] = [q.app_id, decodeCursor(q.cursor)];
      const where = ["app_id = $1", "pos > $2"];
      if (q.subscription_id !== undefined) where.push(`subscription_id = $${values.push(q.subscription_id)}`);
      if (q.event_id !== undefined) where.push(`event_id = $${values.push(q.event_id)}`);
      if (q.state !== undefined) where.push(`state = $${values.push(q.state)}`);
      const rows = await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM ${s}.deliveries WHERE ${where.join(" AND ")} ORDER BY pos LIMIT $${values.push(q.limit + 1)}`, values);
      const page = toPage(rows, q.limit, (r) => r);
      return { data: await withAttempts(page.data), next_cursor: page.next_cursor };
    },

    getDelivery: oneDelivery,

    async retryDelivery(app_id, id, nowMs) {
      await db.exec(`UPDATE ${s}.deliveries SET state = 'pending', next_attempt_at = $3, reason = NULL, updated_at = $3 WHERE app_id = $1 AND id = $2 AND state IN ('dead', 'delivered')`, [app_id, id, nowMs]);
      return oneDelivery(app_id, id);
    },

    async retryDead(app_id, subscription_id, nowMs) {
      return db.exec(
        `UPDATE ${s}.deliveries SET state = 'pending', next_attempt_at = $3, reason = NULL, updated_at = $3 WHERE app_id = $1 AND subscription_id = $2 AND state = 'dead'`,
        [app_id, subscription_id, nowMs],
      );
    },

    async health(app_id, subscription_id, nowMs) {
      const [h] = await db.query<{
        state: Subscription["state"]; disabled_reason: string | null; last_success_at: number | null; last_failure_at: number | null;
        consecutive_failures: number; failing_since: number | null; last_error: string | null; backlog: number; oldest: number | null;
      }>(
        `SELECT state, disabled_reason, last_success_at, last_failure_at, consecutive_failures, failing_since, last_error, b.backlog, b.oldest
         FROM ${s}.subscriptions, LATERAL (SELECT count(*)::int AS backlog, min(created_at) AS oldest FROM ${s}.deliveries WHERE subscription_id = $2 AND state = 'pending' AND app_id = $1) b
         WHERE app_id = $1 AND id = $2`,
        [app_id, subscription_id],
      );
      if (!h) return undefined;
      return {
        state: h.state, disabled_reason: h.disabled_reason, last_success_at: isoOrNull(h.last_success_at), last_failure_at: isoOrNull(h.last_failure_at),
        consecutive_failures: h.consecutive_failures, backlog: h.backlog, lag_seconds: h.oldest === null ? 0 : Math.max(0, Math.round((nowMs - h.oldest) / 1000)),
        last_error: h.last_error, failing_since: isoOrNull(h.failing_since),
      };
    },

    async attemptStats(app_id, subscription_id, { sinceMs, untilMs, bucketMs }) {
      // One statement, one snapshot: the buckets and the window's percentile (percentile_disc is the
      // nearest rank, ceil(0.95 n), as on SQLite).
      const rows = await db.query<{ index: number | null; attempts: number; succeeded: number; sum_latency_ms: number; max_latency_ms: number; p95: number | null }>(
        `WITH w AS (
           SELECT a.at, a.status_code, a.latency_ms FROM ${s}.delivery_attempts a JOIN ${s}.deliveries d ON d.pos = a.delivery_pos
           WHERE a.at >= $1 AND a.at < $2 AND d.subscription_id = $3 AND d.app_id = $4
         )
         SELECT ((at - $1) / $5)::int AS index, count(*)::int AS attempts, count(*) FILTER (WHERE status_code BETWEEN 200 AND 299)::int AS succeeded,
                sum(latency_ms) AS sum_latency_ms, max(latency_ms) AS max_latency_ms, NULL::double precision AS p95
         FROM w GROUP BY 1
         UNION ALL
         SELECT NULL, 0, 0, 0, 0, percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM w
         ORDER BY 1`,
        [sinceMs, untilMs, subscription_id, app_id, bucketMs],
      );
      return {
        buckets: rows.filter((r) => r.index !== null).map(({ p95: _p95, ...b }) => ({ ...b, index: b.index! })),
        p95_latency_ms: rows.find((r) => r.index === null)?.p95 ?? null,
      };
    },

    async acquireLease(name, owner, ttlMs, nowMs, stealFrom) {
      // One statement: the conflicting row is locked and the condition re-checked on its latest version, so two acquirers never both win.
      const rows = await db.query(
        `INSERT INTO ${s}.leases AS l (name, owner, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE l.owner = excluded.owner OR l.expires_at <= $4 OR l.owner = $5
         RETURNING owner`,
        [name, owner, nowMs + ttlMs, nowMs, stealFrom ?? null],
      );
      return rows.length === 1;
    },

    async leaseHolder(name) {
      const [r] = await db.query<{ owner: string }>(`SELECT owner FROM ${s}.leases WHERE name = $1`, [name]);
      return r?.owner ?? null;
    },

    async releaseLease(name, owner) {
      await db.exec(`DELETE FROM ${s}.leases WHERE name = $1 AND owner = $2`, [name, owner]);
    },
  };
}
