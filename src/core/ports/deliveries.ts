/**
 * The delivery store port: subscriptions (Auth0's "event streams"), their deliveries and every
 * attempt. SQLite implements it now; PostgreSQL will pass the same suite.
 */

export type SubscriptionFormat = "native" | "cloudevents" | "cloudevents-binary" | "auth0";
export type SubscriptionOrdering = "none" | "seq" | "subject";
export type SubscriptionState = "enabled" | "paused" | "disabled";
export type WebhookDestination = { type: "webhook"; url: string; headers?: Record<string, string> };
export type NatsDestination = { type: "nats"; subject: string };
export type Destination = WebhookDestination | NatsDestination;

export interface Subscription {
  id: string;
  app_id: string;
  name: string;
  filter: string[];
  destination: Destination;
  format: SubscriptionFormat;
  ordering: SubscriptionOrdering;
  retry_schedule: number[];
  authgear_signature: boolean;
  state: SubscriptionState;
  disabled_reason: string | null;
  /** Events with a greater seq reach this subscription (the head when it was created). */
  start_seq: number;
  created_at: string;
  updated_at: string;
}

export interface SubscriptionSecret {
  secret: string;
  /** UNIX ms after which a rotated-out secret stops signing; null for the current one. */
  expires_at: number | null;
}

export type DeliveryState = "pending" | "delivered" | "dead" | "skipped";

export interface DeliveryAttempt {
  at: string;
  status_code: number | null;
  latency_ms: number;
  error?: string;
  response_head?: string;
}

export interface Delivery {
  id: string;
  subscription_id: string;
  event_id: string;
  seq: number;
  state: DeliveryState;
  /** Why it is dead, skipped or flagged. */
  reason: string | null;
  /** `client_error` (a 4xx other than 410/429) or `redirect` on the last attempt, so operators see a misconfigured receiver. */
  flagged: string | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  attempts: DeliveryAttempt[];
}

/** A pending delivery as the engine sees it (claimed, or listed by loadPending). */
export interface PendingDelivery {
  pos: number;
  id: string;
  event_id: string;
  seq: number;
  subject: string | null;
  attempts: number;
  next_attempt_at: number;
}

export interface NewDelivery {
  id: string;
  event_id: string;
  seq: number;
  subject: string | null;
  state: "pending" | "skipped";
  reason: string | null;
  /** Created already claimed by the worker fanning out (unordered subscriptions): no claim round trip before the first attempt. */
  claimed_by?: string;
  claim_until?: number;
}

export interface AttemptResult {
  app_id: string;
  subscription_id: string;
  delivery_id: string;
  /** The delivery's PendingDelivery.pos when the worker has it: a store may use it instead of looking the id up. */
  delivery_pos?: number;
  /** 1-based number of this attempt. */
  n: number;
  at_ms: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_head: string | null;
  /** The delivery's state after this attempt. */
  state: "pending" | "delivered" | "dead";
  next_attempt_at_ms: number | null;
  flagged: string | null;
  reason: string | null;
  /** A pending result whose retry is due soon: the worker keeps its claim (and retries itself) instead of releasing it to any worker. */
  keep_claim?: boolean;
}

export interface ClaimOptions {
  ordering: SubscriptionOrdering;
  limit: number;
  nowMs: number;
  /** The claim lasts until nowMs + leaseMs unless renewed. */
  leaseMs: number;
}

export interface SubscriptionHealth {
  state: SubscriptionState;
  disabled_reason: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  consecutive_failures: number;
  /** Deliveries not yet delivered, dead or skipped. */
  backlog: number;
  /** Seconds since the oldest pending delivery was created (0 when none). */
  lag_seconds: number;
  last_error: string | null;
  /** Start of the current unbroken run of failures (null after a success). */
  failing_since: string | null;
}

export interface DeliveryQuery {
  app_id: string;
  subscription_id?: string;
  event_id?: string;
  state?: DeliveryState;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Which attempts `attemptStats` aggregates: those made in [sinceMs, untilMs), bucketed from sinceMs. */
export interface AttemptStatsQuery {
  sinceMs: number;
  untilMs: number;
  /** Positive integer; bucket i holds attempts made in [sinceMs + i * bucketMs, sinceMs + (i + 1) * bucketMs). */
  bucketMs: number;
}

export interface AttemptBucket {
  /** 0-based index from sinceMs. */
  index: number;
  attempts: number;
  /** Answered 2xx; the others failed. */
  succeeded: number;
  sum_latency_ms: number;
  max_latency_ms: number;
}

export interface AttemptStats {
  /** Non-empty buckets only, by index. */
  buckets: AttemptBucket[];
  /** Nearest-rank 95th percentile of the window's latencies (the ceil(0.95 n)-th smallest); null without attempts. */
  p95_latency_ms: number | null;
}

export interface DeliveryStore {
  createSubscription(sub: Subscription, secret: string): Promise<void>;
  getSubscription(app_id: string, id: string): Promise<Subscription | undefined>;
  listSubscriptions(app_id: string, opts?: { cursor?: string; limit?: number; states?: SubscriptionState[] }): Promise<Page<Subscription>>;
  /** Every subscription of every app (the delivery engine serves them all). */
  allSubscriptions(): Promise<Subscription[]>;
  /** Applies the patch and returns the updated subscription (undefined when absent). */
  updateSubscription(app_id: string, id: string, patch: Partial<Omit<Subscription, "id" | "app_id" | "created_at" | "start_seq">>): Promise<Subscription | undefined>;
  deleteSubscription(app_id: string, id: string): Promise<boolean>;
  /** Valid secrets, current first. */
  getSecrets(app_id: string, id: string, nowMs: number): Promise<SubscriptionSecret[]>;
  /** Makes `secret` current; the previous current one keeps signing until `graceUntilMs`. */
  rotateSecret(app_id: string, id: string, secret: string, graceUntilMs: number): Promise<boolean>;

  /** Highest seq already fanned out to the subscription. */
  fanoutCursor(app_id: string, subscription_id: string): Promise<number>;
  /**
   * Creates the deliveries of a page of events and moves the fan-out cursor, atomically. With `from`
   * (the cursor the page was read after) it is a compare-and-set: nothing is written unless the cursor
   * is still `from`, so two workers fanning out the same page never create two deliveries of one event.
   * Resolves to whether it wrote.
   */
  fanOut(app_id: string, subscription_id: string, deliveries: NewDelivery[], cursor: number, from?: number): Promise<boolean>;
  /** Pending deliveries in creation order, after `afterPos`. */
  loadPending(app_id: string, subscription_id: string, afterPos: number, limit: number): Promise<PendingDelivery[]>;
  /**
   * Claims due pending deliveries of a subscription for `owner` until nowMs + leaseMs; two owners
   * never hold the same delivery. `none`: any unclaimed due ones. `seq`: only the subscription's head
   * (lowest pending seq), and only when no other pending delivery of it is claimed by another owner.
   * `subject`: the same rule per subject (a null subject behaves like `none`). Expired claims count
   * as unclaimed. Returns the rows now held, in creation order.
   */
  claimPending(app_id: string, subscription_id: string, owner: string, o: ClaimOptions): Promise<PendingDelivery[]>;
  /** Extends every claim of `owner` to `untilMs`; returns how many it holds. */
  renewClaims(owner: string, untilMs: number): Promise<number>;
  /** Drops every claim of `owner` (stopping, or a dead process of this host). */
  releaseClaims(owner: string): Promise<void>;
  /** Owners holding claims (expired ones included). */
  claimOwners(): Promise<string[]>;
  /** Records attempts; a final result (and a pending one without keep_claim) releases the delivery's claim. */
  recordAttempts(results: AttemptResult[]): Promise<void>;

  queryDeliveries(q: DeliveryQuery): Promise<Page<Delivery>>;
  getDelivery(app_id: string, id: string): Promise<Delivery | undefined>;
  /** Dead (or delivered) delivery back to pending, due now. */
  retryDelivery(app_id: string, id: string, nowMs: number): Promise<Delivery | undefined>;
  retryDead(app_id: string, subscription_id: string, nowMs: number): Promise<number>;
  /** New deliveries of already recorded events (replay: original event ids and seqs), without moving the fan-out cursor. */
  insertDeliveries(app_id: string, subscription_id: string, deliveries: NewDelivery[]): Promise<void>;
  health(app_id: string, subscription_id: string, nowMs: number): Promise<SubscriptionHealth | undefined>;
  /** Per-bucket aggregates of the subscription's attempts in a window, computed by the store over every attempt (no cap); empty for an unknown subscription. */
  attemptStats(app_id: string, subscription_id: string, q: AttemptStatsQuery): Promise<AttemptStats>;

  /** A named lease (the delivery engine no longer needs one: it claims deliveries): true when `owner` holds it until now + ttl. `stealFrom`: take it from that (dead) owner even before it expires. */
  acquireLease(name: string, owner: string, ttlMs: number, nowMs: number, stealFrom?: string): Promise<boolean>;
  leaseHolder(name: string): Promise<string | null>;
  releaseLease(name: string, owner: string): Promise<void>;
}
