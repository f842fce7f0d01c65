/**
 * `bus.subscriptions` and `bus.deliveries`: Auth0 Event Streams' model (a named stream with a type
 * filter and a destination) with Svix-grade operations (test, replay, retry, rotate, health).
 */
import { uuidv7 } from "../core/ids.js";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../core/delivery/retry-schedule.js";
import { buildWebhookRequest } from "../core/delivery/webhook-request.js";
import { validateNatsSubject } from "../core/delivery/nats-message.js";
import { generateSecret } from "../core/signing/standard-webhooks.js";
import { samplePayload } from "../core/catalog/samples.js";
import { EVENT_TYPES, isBlockingType, isEventType, type EventType } from "../core/catalog/catalog.js";
import { compilePatterns } from "../core/pattern.js";
import { auth0TypeFor } from "../core/formats/auth0.js";
import { InvalidQueryError, InvalidSubscriptionError, NotFoundError } from "../core/errors.js";
import type { Envelope } from "../core/envelope.js";
import type { EventStore } from "../core/ports/store.js";
import type { Delivery, DeliveryState, DeliveryStore, NewDelivery, Page, Subscription, SubscriptionHealth } from "../core/ports/deliveries.js";
import type { DeliveryEngine } from "./engine.js";
import type { WebhookSend } from "../core/ports/destinations.js";
import { validateSubscriptionInput, type CreateSubscriptionInputT, type UpdateSubscriptionInputT } from "./subscription-input.js";

/** Rotated-out secrets keep signing this long (SPEC §4). */
export const SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
const REPLAY_PAGE = 1000;

export interface TestResult {
  event_id: string;
  status_code: number | null;
  latency_ms: number;
  error?: string;
  response_head?: string;
}

export interface StatsBucket {
  start: string;
  attempts: number;
  /** Attempts answered 2xx. */
  succeeded: number;
  failed: number;
  avg_latency_ms: number | null;
  max_latency_ms: number | null;
}

/** Attempts made in [since, until): totals and `buckets` equal slices, oldest first (empty ones included). */
export interface SubscriptionStats {
  since: string;
  until: string;
  bucket_ms: number;
  attempts: number;
  succeeded: number;
  failed: number;
  /** succeeded / attempts; null without attempts. */
  success_rate: number | null;
  avg_latency_ms: number | null;
  /** Nearest rank: the ceil(0.95 n)-th smallest latency of the window. */
  p95_latency_ms: number | null;
  buckets: StatsBucket[];
}

export interface SubscriptionsApi {
  create(input: CreateSubscriptionInputT): Promise<Subscription & { secret: string }>;
  list(opts?: { cursor?: string; limit?: number }): Promise<Page<Subscription>>;
  get(id: string): Promise<Subscription | undefined>;
  update(id: string, patch: UpdateSubscriptionInputT): Promise<Subscription>;
  delete(id: string): Promise<void>;
  pause(id: string): Promise<Subscription>;
  resume(id: string): Promise<Subscription>;
  /** Current signing secret. */
  secret(id: string): Promise<{ secret: string }>;
  /** A new secret; the old one keeps signing for 24 h. */
  rotateSecret(id: string): Promise<{ secret: string }>;
  /** Sends one synthetic event (`context.test: true`, not recorded) and reports the receiver's answer. */
  test(id: string, opts?: { type?: string }): Promise<TestResult>;
  /** Re-sends recorded events (original ids and seqs) from a seq (inclusive) or a time range. */
  replay(id: string, range: { from_seq?: number; since?: number; until?: number }): Promise<{ queued: number }>;
  retryDead(id: string): Promise<{ queued: number }>;
  health(id: string): Promise<SubscriptionHealth>;
  /** Delivery attempts of the last `windowMs` (default 1 h) in `buckets` (default 60) slices; windowMs must divide into whole milliseconds per bucket. */
  stats(id: string, opts?: { windowMs?: number; buckets?: number }): Promise<SubscriptionStats>;
}

export interface DeliveriesApi {
  query(q?: { subscription_id?: string; event_id?: string; state?: DeliveryState; cursor?: string; limit?: number }): Promise<Page<Delivery>>;
  get(id: string): Promise<Delivery | undefined>;
  retry(id: string): Promise<Delivery>;
}

export interface SubscriptionsDeps {
  app: string;
  events: EventStore;
  deliveries: DeliveryStore;
  engine: DeliveryEngine;
  send: WebhookSend;
  userAgent: string;
  now: () => number;
  /** Throws when a destination may not be used (e.g. a literal private address with the SSRF guard on). */
  checkDestination: (url: string) => void;
  /** False: the runtime has no NATS URL, so `nats` destinations are refused. Undefined: not checked. */
  natsConfigured?: boolean;
}

export function createSubscriptionsApi(d: SubscriptionsDeps): { subscriptions: SubscriptionsApi; deliveries: DeliveriesApi } {
  const must = async (id: string): Promise<Subscription> => {
    const s = await d.deliveries.getSubscription(d.app, id);
    if (!s) throw new NotFoundError("subscription", id);
    return s;
  };
  const checkNats = (subject: string): void => {
    const issues = validateNatsSubject(subject).map((x) => ({ ...x, pointer: `/destination/subject${x.pointer}` }));
    // Refused up front: accepted, it would only fail every attempt until the schedule ran out.
    if (d.natsConfigured === false) issues.push({ pointer: "/destination", message: "NATS is not configured: set the nats.url option (AUTHBUS_NATS_URL for the server)" });
    if (issues.length > 0) throw new InvalidSubscriptionError(issues);
  };
  const setState = async (id: string, state: Subscription["state"]) => {
    await must(id);
    const s = (await d.deliveries.updateSubscription(d.app, id, { state, disabled_reason: null }))!;
    d.engine.subscriptionChanged(s);
    return s;
  };

  const subscriptions: SubscriptionsApi = {
    async create(input) {
      validateSubscriptionInput(input, "create");
      if (input.destination.type === "webhook") d.checkDestination(input.destination.url);
      else checkNats(input.destination.subject);
      const now = new Date(d.now()).toISOString();
      const sub: Subscription = {
        id: `sub_${uuidv7().replace(/-/g, "")}`,
        app_id: d.app,
        name: input.name,
        filter: [...input.filter],
        destination: input.destination,
        format: input.format ?? "native",
        ordering: input.ordering ?? "none",
        retry_schedule: input.retry_schedule ?? [...DEFAULT_RETRY_SCHEDULE_SECONDS],
        authgear_signature: input.authgear_signature ?? false,
        state: "enabled",
        disabled_reason: null,
        // It receives what is recorded after it exists.
        start_seq: await d.events.headSeq(d.app),
        created_at: now,
        updated_at: now,
      };
      const secret = generateSecret();
      await d.deliveries.createSubscription(sub, secret);
      d.engine.subscriptionChanged(sub);
      return { ...sub, secret };
    },
    list: (opts) => d.deliveries.listSubscriptions(d.app, { limit: clampLimit(opts?.limit), cursor: opts?.cursor }),
    get: (id) => d.deliveries.getSubscription(d.app, id),
    async update(id, patch) {
      validateSubscriptionInput(patch, "update");
      if (patch.destination?.type === "webhook") d.checkDestination(patch.destination.url);
      else if (patch.destination?.type === "nats") checkNats(patch.destination.subject);
      await must(id);
      const s = (await d.deliveries.updateSubscription(d.app, id, patch))!;
      d.engine.subscriptionChanged(s);
      return s;
    },
    async delete(id) {
      if (!(await d.deliveries.deleteSubscription(d.app, id))) throw new NotFoundError("subscription", id);
      d.engine.subscriptionDeleted(id);
    },
    pause: (id) => setState(id, "paused"),
    resume: (id) => setState(id, "enabled"),
    async secret(id) {
      await must(id);
      return { secret: (await d.deliveries.getSecrets(d.app, id, d.now()))[0]!.secret };
    },
    async rotateSecret(id) {
      const secret = generateSecret();
      if (!(await d.deliveries.rotateSecret(d.app, id, secret, d.now() + SECRET_GRACE_MS))) throw new NotFoundError("subscription", id);
      const s = await must(id);
      d.engine.subscriptionChanged(s);
      return { secret };
    },
    async test(id, opts = {}) {
      const sub = await must(id);
      if (sub.destination.type !== "webhook") throw new InvalidSubscriptionError([{ pointer: "/destination/type", message: "test events are sent to webhook destinations only" }]);
      const type = opts.type ?? pickTestType(sub);
      if (!isEventType(type)) throw new InvalidSubscriptionError([{ pointer: "/type", message: `unknown event type ${JSON.stringify(type)}` }]);
      const now = d.now();
      const envelope = {
        id: uuidv7(),
        seq: 0,
        subject_seq: null,
        type,
        payload: samplePayload(type),
        context: { app_id: d.app, timestamp: Math.floor(now / 1000), user_id: "usr_test", triggered_by: "admin_api", preferred_languages: [], language: "en", test: true },
      } as Envelope;
      const secrets = (await d.deliveries.getSecrets(d.app, id, now)).map((s) => s.secret);
      const request = buildWebhookRequest(envelope, { id, format: sub.format, secrets, headers: sub.destination.headers, authgearSignature: sub.authgear_signature }, { nowSeconds: Math.floor(now / 1000), userAgent: d.userAgent });
      if (!request.ok) throw new InvalidSubscriptionError([{ pointer: "/type", message: request.skip }]);
      const res = await d.send(sub.destination.url, request);
      return {
        event_id: envelope.id,
        status_code: res.status ?? null,
        latency_ms: Math.round(res.latencyMs * 10) / 10,
        ...(res.error ? { error: res.error } : {}),
        ...(res.responseHead !== undefined ? { response_head: res.responseHead } : {}),
      };
    },
    async replay(id, range) {
      const sub = await must(id);
      if (range.from_seq === undefined && range.since === undefined) throw new InvalidQueryError("replay needs from_seq or since");
      if (range.from_seq !== undefined && (!Number.isInteger(range.from_seq) || range.from_seq < 1)) throw new InvalidQueryError("from_seq must be a positive integer");
      // Events past the fan-out cursor will be delivered anyway: replay stops there so nothing goes twice.
      const upto = await d.deliveries.fanoutCursor(d.app, id);
      let after = (range.from_seq ?? 1) - 1;
      let queued = 0;
      for (;;) {
        const events = await d.events.query({ app_id: d.app, types: sub.filter, after_seq: after, since: range.since, until: range.until, limit: REPLAY_PAGE });
        const within = events.filter((e) => e.seq <= upto);
        if (within.length > 0) {
          // The first ones this process can send right away are created claimed by it and handed to its runner.
          const claim = d.engine.preclaim(id);
          const adopted: { id: string; event: Envelope; subject: string | null }[] = [];
          const rows: NewDelivery[] = within.map((e) => {
            const skip = sub.format === "auth0" && auth0TypeFor(e.type) === undefined;
            const row: NewDelivery = { id: uuidv7(), event_id: e.id, seq: e.seq, subject: e.context.user_id ?? null, state: skip ? "skipped" : "pending", reason: skip ? `${e.type} has no Auth0 equivalent` : null };
            if (!skip && claim && adopted.length < claim.room) {
              Object.assign(row, { claimed_by: claim.owner, claim_until: claim.untilMs });
              adopted.push({ id: row.id, event: e, subject: row.subject });
            }
            return row;
          });
          await d.deliveries.insertDeliveries(d.app, id, rows);
          d.engine.adopt(id, adopted);
          queued += within.filter((e) => !(sub.format === "auth0" && auth0TypeFor(e.type) === undefined)).length;
        }
        if (events.length < REPLAY_PAGE || within.length < events.length) break;
        after = events[events.length - 1]!.seq;
      }
      d.engine.reload(id);
      return { queued };
    },
    async retryDead(id) {
      await must(id);
      const queued = await d.deliveries.retryDead(d.app, id, d.now());
      d.engine.reload(id);
      return { queued };
    },
    async health(id) {
      const h = await d.deliveries.health(d.app, id, d.now());
      if (!h) throw new NotFoundError("subscription", id);
      return h;
    },
    async stats(id, opts = {}) {
      const windowMs = opts.windowMs ?? 3_600_000;
      const count = opts.buckets ?? 60;
      if (!Number.isInteger(count) || count < 1 || count > 1440) throw new InvalidQueryError("buckets must be an integer from 1 to 1440");
      if (!Number.isInteger(windowMs) || windowMs < count || windowMs % count !== 0) throw new InvalidQueryError("windowMs must be a positive integer number of milliseconds divisible by buckets");
      await must(id);
      const untilMs = d.now();
      const sinceMs = untilMs - windowMs;
      const bucketMs = windowMs / count;
      const raw = await d.deliveries.attemptStats(d.app, id, { sinceMs, untilMs, bucketMs });
      const byIndex = new Map(raw.buckets.map((b) => [b.index, b]));
      const attempts = raw.buckets.reduce((n, b) => n + b.attempts, 0);
      const succeeded = raw.buckets.reduce((n, b) => n + b.succeeded, 0);
      const sum = raw.buckets.reduce((n, b) => n + b.sum_latency_ms, 0);
      return {
        since: new Date(sinceMs).toISOString(),
        until: new Date(untilMs).toISOString(),
        bucket_ms: bucketMs,
        attempts,
        succeeded,
        failed: attempts - succeeded,
        success_rate: attempts === 0 ? null : succeeded / attempts,
        avg_latency_ms: attempts === 0 ? null : tenth(sum / attempts),
        p95_latency_ms: raw.p95_latency_ms === null ? null : tenth(raw.p95_latency_ms),
        buckets: Array.from({ length: count }, (_, i) => {
          const b = byIndex.get(i);
          return {
            start: new Date(sinceMs + i * bucketMs).toISOString(),
            attempts: b?.attempts ?? 0,
            succeeded: b?.succeeded ?? 0,
            failed: b ? b.attempts - b.succeeded : 0,
            avg_latency_ms: b ? tenth(b.sum_latency_ms / b.attempts) : null,
            max_latency_ms: b ? tenth(b.max_latency_ms) : null,
          };
        }),
      };
    },
  };

  const deliveries: DeliveriesApi = {
    query: (q = {}) => d.deliveries.queryDeliveries({ app_id: d.app, ...q, limit: clampLimit(q.limit) }),
    get: (id) => d.deliveries.getDelivery(d.app, id),
    async retry(id) {
      const r = await d.deliveries.retryDelivery(d.app, id, d.now());
      if (!r) throw new NotFoundError("delivery", id);
      d.engine.reload(r.subscription_id);
      return r;
    },
  };
  return { subscriptions, deliveries };
}

/** Latencies are reported to a tenth of a millisecond, as in the delivery log. */
const tenth = (x: number) => Math.round(x * 10) / 10;

function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
  return limit;
}

/** The first catalog type the filter matches that the format can carry; user.created otherwise. */
function pickTestType(sub: Subscription): EventType {
  const matches = compilePatterns(sub.filter);
  return EVENT_TYPES.find((t) => !isBlockingType(t) && matches(t) && (sub.format !== "auth0" || auth0TypeFor(t) !== undefined)) ?? "user.created";
}
