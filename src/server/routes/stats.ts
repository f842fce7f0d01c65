/**
 * `GET /v1/subscriptions/{id}/stats`: attempts per time bucket over a recent window (the
 * dashboard's chart of deliveries and latency), aggregated by the store over every attempt in the
 * window (`bus.subscriptions.stats`).
 */
import { Type } from "@sinclair/typebox";
import { InvalidQueryError } from "../../core/errors.js";
import { defineRoutes, json } from "../route-table.js";

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
      const { since: _since, until: _until, bucket_ms, ...stats } = await bus.subscriptions.stats(params.id!, { windowMs: window * 1000, buckets: BUCKETS });
      return json({ window_seconds: window, bucket_seconds: bucket_ms / 1000, ...stats });
    },
  },
]);
