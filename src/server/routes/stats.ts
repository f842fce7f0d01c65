/**
 * `GET /v1/subscriptions/{id}/stats`: attempts per time bucket over a recent window (the
 * dashboard's chart of deliveries and latency). Computed from the delivery log through the app's
 * public delivery API, so it works on every store without a store-specific query; the scan is
 * capped (see MAX_SCAN) and the answer says when the cap cut it short.
 */
import { Type } from "@sinclair/typebox";
import { InvalidQueryError, NotFoundError } from "../../core/errors.js";
import type { Delivery } from "../../core/ports/deliveries.js";
import { defineRoutes, json } from "../route-table.js";

const PAGE = 1000;
/** Deliveries read per request at most: the log is read in creation order, oldest first. */
export const MAX_SCAN = 20_000;
const BUCKETS = 60;

const Bucket = Type.Object({
  start: Type.String({ format: "date-time" }),
  attempts: Type.Integer(),
  succeeded: Type.Integer({ description: "Attempts answered 2xx." }),
  failed: Type.Integer(),
  avg_latency_ms: Type.Union([Type.Number(), Type.Null()]),
  max_latency_ms: Type.Union([Type.Number(), Type.Null()]),
});
export const SubscriptionStats = Type.Object(
  {
    window_seconds: Type.Integer(),
    bucket_seconds: Type.Integer(),
    attempts: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    success_rate: Type.Union([Type.Number(), Type.Null()], { description: "succeeded / attempts in the window; null without attempts." }),
    avg_latency_ms: Type.Union([Type.Number(), Type.Null()]),
    p95_latency_ms: Type.Union([Type.Number(), Type.Null()]),
    deliveries_scanned: Type.Integer(),
    complete: Type.Boolean({ description: "False when the subscription has more deliveries than one request reads; the newest are then missing." }),
    buckets: Type.Array(Bucket),
  },
  { $id: "SubscriptionStats" },
);

export function windowSeconds(text: string | undefined): number {
  if (text === undefined) return 3600;
  const m = /^(\d{1,4})([mh])$/.exec(text);
  const s = m ? Number(m[1]) * (m[2] === "h" ? 3600 : 60) : NaN;
  if (!(s >= 60 && s <= 86_400)) throw new InvalidQueryError("window must be minutes or hours from 1m to 24h, like 15m or 1h");
  return s;
}

/** Buckets attempts made in [nowMs - window, nowMs). Exported for tests. */
export function bucketAttempts(deliveries: readonly Delivery[], nowMs: number, window: number) {
  const bucketMs = (window * 1000) / BUCKETS;
  const start = nowMs - window * 1000;
  const buckets = Array.from({ length: BUCKETS }, (_, i) => ({ start: new Date(start + i * bucketMs).toISOString(), attempts: 0, succeeded: 0, failed: 0, sum: 0, max: null as number | null }));
  const latencies: number[] = [];
  for (const d of deliveries) {
    for (const a of d.attempts) {
      const at = Date.parse(a.at);
      if (!(at >= start && at < nowMs)) continue;
      const b = buckets[Math.min(BUCKETS - 1, Math.floor((at - start) / bucketMs))]!;
      b.attempts++;
      if (a.status_code !== null && a.status_code >= 200 && a.status_code < 300) b.succeeded++;
      else b.failed++;
      b.sum += a.latency_ms;
      b.max = Math.max(b.max ?? 0, a.latency_ms);
      latencies.push(a.latency_ms);
    }
  }
  const attempts = latencies.length;
  const succeeded = buckets.reduce((n, b) => n + b.succeeded, 0);
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    window_seconds: window,
    bucket_seconds: window / BUCKETS,
    attempts,
    succeeded,
    failed: attempts - succeeded,
    success_rate: attempts === 0 ? null : succeeded / attempts,
    avg_latency_ms: attempts === 0 ? null : round(latencies.reduce((s, x) => s + x, 0) / attempts),
    p95_latency_ms: attempts === 0 ? null : round(latencies[Math.min(attempts - 1, Math.ceil(attempts * 0.95) - 1)]!),
    buckets: buckets.map(({ sum, max, ...b }) => ({ ...b, avg_latency_ms: b.attempts === 0 ? null : round(sum / b.attempts), max_latency_ms: max === null ? null : round(max) })),
  };
}

export const statsRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/subscriptions/{id}/stats",
    operationId: "getSubscriptionStats",
    summary: "Delivery attempts over a recent window (default 1h) in 60 buckets: count, successes, failures and latency.",
    tag: "subscriptions",
    access: "read",
    query: Type.Object({ window: Type.Optional(Type.String({ maxLength: 8, description: "`15m`, `1h` (default) ... up to `24h`." })) }),
    responses: { 200: { description: "The stats.", schema: SubscriptionStats } },
    async handle({ bus, params, query }) {
      const window = windowSeconds(query.window);
      if (!(await bus.subscriptions.get(params.id!))) throw new NotFoundError("subscription", params.id!);
      const now = Date.now();
      const since = now - window * 1000;
      const recent: Delivery[] = [];
      let scanned = 0;
      let cursor: string | undefined;
      let complete = true;
      for (;;) {
        const page = await bus.deliveries.query({ subscription_id: params.id!, cursor, limit: PAGE });
        scanned += page.data.length;
        // Only deliveries touched in the window can hold attempts in it.
        for (const d of page.data) if (Date.parse(d.updated_at) >= since) recent.push(d);
        if (page.next_cursor === null) break;
        if (scanned >= MAX_SCAN) {
          complete = false;
          break;
        }
        cursor = page.next_cursor;
      }
      const stats = bucketAttempts(recent, now, window);
      const { buckets, ...totals } = stats;
      return json({ ...totals, deliveries_scanned: scanned, complete, buckets });
    },
  },
]);
