import { v7 as uuidv7 } from "uuid";
import { auth0TypeFor } from "../core/formats/auth0.js";
import { classifyResponse } from "../core/delivery/classify.js";
import { nextAttemptDelayMs } from "../core/delivery/retry-schedule.js";
import { disableReason, shouldDisable } from "../core/delivery/disable-policy.js";
import { buildWebhookRequest } from "../core/delivery/webhook-request.js";
import { buildNatsMessage, classifyPublish, type NatsMessage } from "../core/delivery/nats-message.js";
import type { Envelope } from "../core/envelope.js";
import type { EventStore } from "../core/ports/store.js";
import type { AttemptResult, DeliveryStore, NewDelivery, PendingDelivery, Subscription } from "../core/ports/deliveries.js";
import type { WebhookSendResult } from "./sender.js";

export interface RunnerDeps {
  events: EventStore;
  deliveries: DeliveryStore;
  send: (url: string, request: { body: string; headers: Record<string, string> }) => Promise<WebhookSendResult>;
  userAgent: string;
  now: () => number;
  /** Deliveries in flight at once for an unordered subscription. */
  maxInFlight: number;
  onError: (error: unknown, where: string) => void;
  onDelivered?: (info: { subscription_id: string; state: string; latency_ms: number; status_code: number | null }) => void;
  disableAfterMs?: number;
  /** Publishes to JetStream for `nats` destinations (absent: NATS is not configured). */
  publishNats?: (message: NatsMessage) => Promise<WebhookSendResult>;
  /** This worker's claim owner id, and how long a claim lasts without renewal. */
  owner: string;
  leaseMs: number;
}

const FANOUT_PAGE = 1000;
const FANOUT_PAGES_PER_PUMP = 4;
/** The largest span of seqs loaded in one query for a claimed batch; wider batches read events one by one. */
const EVENT_SPAN = 1000;

interface Slot extends PendingDelivery {
  /** Loaded with the claimed batch, so an attempt needs no read of its own. */
  event?: Envelope;
}

/**
 * Delivers one subscription in this worker: fans recorded events out into deliveries (from its
 * cursor, compare-and-set, so several workers can do it), claims due pending deliveries in the
 * store and sends them under the subscription's ordering: `none` in parallel, `seq` one at a time
 * in seq order, `subject` one at a time per user. The store's claim rules keep the ordering across
 * workers; this runner keeps it among its own attempts. Results are recorded in one batch per tick.
 */
export class SubscriptionRunner {
  /** Claimed and due, in claim order, from `head` on: started slots are skipped, not spliced out, since dispatch runs after every attempt. */
  private queue: Slot[] = [];
  private head = 0;
  /** Claimed, waiting for a retry that is due soon (the claim is kept and renewed meanwhile). */
  private waiting = new Map<string, Slot>();
  /** Every delivery this runner holds a claim on (queued, waiting or in flight). */
  private held = new Set<string>();
  /** The last claim came back full, or something changed since: claim again. */
  private claimMore = true;
  private inFlight = 0;
  private busySubjects = new Set<string>();
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempts = new Set<Promise<void>>();
  private results: AttemptResult[] = [];
  private flushScheduled = false;
  private writing: Promise<void> | undefined;
  private secrets: { at: number; values: string[] } | undefined;
  private failingSince: number | null = null;
  private lastSuccess: number | null = null;
  /** New events may exist: fan out before dispatching. Attempt completions only dispatch. */
  private fanoutNeeded = true;

  constructor(
    private sub: Subscription,
    private readonly d: RunnerDeps,
  ) {}

  get id(): string {
    return this.sub.id;
  }

  get subscription(): Subscription {
    return this.sub;
  }

  async init(): Promise<void> {
    const h = await this.d.deliveries.health(this.sub.app_id, this.sub.id, this.d.now());
    this.failingSince = h?.failing_since ? Date.parse(h.failing_since) : null;
    this.lastSuccess = h?.last_success_at ? Date.parse(h.last_success_at) : null;
  }

  /** The subscription changed (filter, state, secret ...): use the new one from now on. */
  update(sub: Subscription): void {
    this.sub = sub;
    this.secrets = undefined;
    this.fanoutNeeded = true;
    this.claimMore = true;
    this.wake();
  }

  /** Events were recorded. */
  eventsArrived(): void {
    this.fanoutNeeded = true;
    this.claimMore = true;
    this.wake();
  }

  /** Deliveries went back to pending (retry, replay), or other workers may have left some: claim again. */
  reload(): void {
    this.fanoutNeeded = true;
    this.claimMore = true;
    this.wake();
  }

  /** How many new deliveries this runner would take, created claimed by it (unordered subscriptions only). */
  adoptable(): number {
    return !this.stopped && this.sub.ordering === "none" && this.deliverable() ? this.claimLimit() : 0;
  }

  /** Deliveries created claimed by this worker (see adoptable): sent at once. */
  adopt(deliveries: { id: string; event: Envelope; subject: string | null }[]): void {
    for (const x of deliveries) {
      if (this.held.has(x.id)) continue;
      this.held.add(x.id);
      this.queue.push({ pos: 0, id: x.id, event_id: x.event.id, seq: x.event.seq, subject: x.subject, attempts: 0, next_attempt_at: 0, event: x.event });
    }
    this.dispatch();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((e) => this.d.onError(e, `subscription ${this.sub.id}`))
      .finally(() => {
        this.pumping = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops starting attempts, waits for those in flight and records every result. Claims are the engine's to release. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.attempts]);
    await this.flush();
  }

  private async pump(): Promise<void> {
    if (this.fanoutNeeded) {
      this.fanoutNeeded = false;
      // A page at a time between dispatches, so a large backlog starts delivering at once.
      if (await this.fanOut(FANOUT_PAGES_PER_PUMP)) {
        this.fanoutNeeded = true;
        this.again = true;
      }
    }
    if (!this.deliverable()) return;
    this.promoteDue();
    // Start what is in hand first: completions during the claim's round trip only queue a wake-up.
    this.dispatch();
    if (this.claimMore && !this.stopped) {
      const limit = this.claimLimit();
      if (limit > 0) {
        await this.claim(limit);
        this.dispatch();
      }
    }
  }

  /** Fans out up to `pages` pages; true when more remain. */
  private async fanOut(pages: number): Promise<boolean> {
    const { app_id, id } = this.sub;
    for (let page = 0; page < pages; page++) {
      const cursor = await this.d.deliveries.fanoutCursor(app_id, id);
      const head = await this.d.events.headSeq(app_id);
      if (head <= cursor) return false;
      const events = await this.d.events.query({ app_id, types: this.sub.filter, after_seq: cursor, limit: FANOUT_PAGE });
      const rows: NewDelivery[] = events.map((e) => {
        const skip = this.sub.format === "auth0" && auth0TypeFor(e.type) === undefined;
        return {
          id: uuidv7(),
          event_id: e.id,
          seq: e.seq,
          subject: e.context.user_id ?? null,
          state: skip ? "skipped" : "pending",
          reason: skip ? `${e.type} has no Auth0 equivalent` : null,
        };
      });
      // A short page covers everything up to the head read before it (seq order is visibility order).
      const next = events.length < FANOUT_PAGE ? head : events[events.length - 1]!.seq;
      // Unordered: the deliveries this worker has room for are created claimed by it, events in hand (no claim or read before sending).
      const mine: Slot[] = [];
      if (this.sub.ordering === "none" && this.deliverable()) {
        const until = this.d.now() + this.d.leaseMs;
        let room = this.claimLimit();
        for (let i = 0; i < rows.length && room > 0; i++) {
          const r = rows[i]!;
          if (r.state !== "pending") continue;
          r.claimed_by = this.d.owner;
          r.claim_until = until;
          mine.push({ pos: 0, id: r.id, event_id: r.event_id, seq: r.seq, subject: r.subject, attempts: 0, next_attempt_at: 0, event: events[i] });
          room--;
        }
      }
      // Another worker may have fanned out this page first: then the cursor moved and this writes nothing; read it again.
      if (await this.d.deliveries.fanOut(app_id, id, rows, next, cursor)) {
        for (const m of mine) this.held.add(m.id), this.queue.push(m);
        if (rows.length > mine.length && rows.some((r) => r.state === "pending" && r.claimed_by === undefined)) this.claimMore = true;
        if (events.length < FANOUT_PAGE) return false;
      }
    }
    return true;
  }

  /** The one place that decides whether this runner sends at all (state and destination type). */
  private deliverable(): boolean {
    return this.sub.state === "enabled" && (this.sub.destination.type === "webhook" || this.sub.destination.type === "nats");
  }

  /** How many deliveries to claim now (0: enough in hand). */
  private claimLimit(): number {
    const max = this.d.maxInFlight;
    if (this.sub.ordering === "seq") return this.held.size === 0 ? 1 : 0;
    // Subject heads are claimed one per subject; a batch beyond what can start is not worth holding.
    const queued = this.queue.length - this.head;
    if (this.sub.ordering === "subject") return Math.max(0, max - this.inFlight - queued);
    // Unordered: a claim rides the writer's next commit, so it can take tens of milliseconds on a busy
    // disk; keeping several rounds of work in hand and topping up at three quarters hides that wait.
    // Not more: what one worker holds, the others cannot share.
    const batch = Math.max(8 * max, 256);
    return queued <= (batch * 3) / 4 ? batch - queued : 0;
  }

  private async claim(limit: number): Promise<void> {
    // Ordered claims look at which deliveries are still pending: record finished ones first.
    if (this.sub.ordering !== "none") await this.flush();
    const rows = await this.d.deliveries.claimPending(this.sub.app_id, this.sub.id, this.d.owner, {
      ordering: this.sub.ordering,
      limit,
      nowMs: this.d.now(),
      leaseMs: this.d.leaseMs,
    });
    // Unordered: a short batch means nothing else is due; ordered: completions make the next head claimable.
    this.claimMore = rows.length >= limit && this.sub.ordering === "none";
    const fresh = rows.filter((r) => !this.held.has(r.id)) as Slot[];
    if (fresh.length === 0) return;
    await this.loadEvents(fresh);
    for (const r of fresh) {
      this.held.add(r.id);
      this.queue.push(r);
    }
  }

  /** One range read for a batch whose seqs are close together (the usual case), instead of a read per attempt. */
  private async loadEvents(slots: Slot[]): Promise<void> {
    if (slots.length < 2) return;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const s of slots) (lo = Math.min(lo, s.seq)), (hi = Math.max(hi, s.seq));
    // A plain seq range (no type filter: the cheapest read), worth it only when most of it is wanted.
    if (hi - lo >= Math.min(EVENT_SPAN, 4 * slots.length)) return;
    const events = await this.d.events.query({ app_id: this.sub.app_id, after_seq: lo - 1, limit: hi - lo + 1 });
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const s of slots) s.event = byId.get(s.event_id);
  }

  /** Kept retries whose time has come join the queue. */
  private promoteDue(): void {
    if (this.waiting.size === 0) return;
    const now = this.d.now();
    for (const s of this.waiting.values()) {
      if (s.next_attempt_at <= now) {
        this.waiting.delete(s.id);
        this.queue.push(s);
      }
    }
  }

  private dispatch(): void {
    if (this.stopped) return;
    const cap = this.sub.ordering === "seq" ? 1 : this.d.maxInFlight;
    if (this.inFlight < cap && this.queue.length > this.head) {
      const rest: Slot[] = [];
      let i = this.head;
      for (; i < this.queue.length && this.inFlight < cap; i++) {
        const s = this.queue[i]!;
        // The store hands out one head per subject; this guards a head claimed again after its claim lapsed here.
        if (this.sub.ordering === "subject" && s.subject !== null && this.busySubjects.has(s.subject)) rest.push(s);
        else this.start(s);
      }
      if (rest.length > 0) (this.queue = [...rest, ...this.queue.slice(i)]), (this.head = 0);
      else if (i === this.queue.length) (this.queue = []), (this.head = 0);
      else if (i >= 1024) (this.queue = this.queue.slice(i)), (this.head = 0);
      else this.head = i;
    }
    clearTimeout(this.timer);
    let nextDue = Number.POSITIVE_INFINITY;
    for (const s of this.waiting.values()) nextDue = Math.min(nextDue, s.next_attempt_at);
    if (nextDue !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.wake(), Math.max(1, nextDue - this.d.now()));
      this.timer.unref?.();
    }
  }

  private start(s: Slot): void {
    this.inFlight++;
    if (s.subject !== null) this.busySubjects.add(s.subject);
    const p = this.attempt(s)
      .catch((e) => {
        // Nothing was recorded: let the claim lapse so this or another worker tries again.
        this.held.delete(s.id);
        this.d.onError(e, `delivery ${s.id}`);
      })
      .finally(() => {
        this.inFlight--;
        if (s.subject !== null) this.busySubjects.delete(s.subject);
        this.attempts.delete(p);
        if (this.sub.ordering !== "none") this.claimMore = true;
        // Refill from the queue now: a pump may be awaiting a claim round trip, and waiting for it would idle the freed slot.
        this.dispatch();
        if (this.claimMore || this.fanoutNeeded) this.wake();
      });
    this.attempts.add(p);
  }

  /** The cached list while fresh (no await: this runs for every attempt), else undefined. */
  private freshSecrets(now: number): string[] | undefined {
    return this.secrets && now - this.secrets.at <= 1000 ? this.secrets.values : undefined;
  }

  private async loadSecrets(now: number): Promise<string[]> {
    const list = await this.d.deliveries.getSecrets(this.sub.app_id, this.sub.id, now);
    this.secrets = { at: now, values: list.map((x) => x.secret) };
    return this.secrets.values;
  }

  private async attempt(s: Slot): Promise<void> {
    const sub = this.sub;
    const event = s.event ?? (await this.d.events.getEvent(sub.app_id, s.event_id));
    const n = s.attempts + 1;
    const at = this.d.now();
    if (!event) return this.finish(s, this.result(s, n, at, { state: "dead", reason: "the event is no longer in the log" }));
    let res: WebhookSendResult;
    if (sub.destination.type === "nats") {
      // Nats-Msg-Id is the event id, so a retry after a lost PubAck is dropped by JetStream as a duplicate.
      const m = buildNatsMessage(event as Envelope, { id: sub.id, format: sub.format, subject: sub.destination.subject });
      if (!m.ok) return this.finish(s, this.result(s, n, at, { state: "dead", reason: m.skip }));
      res = this.d.publishNats ? await this.d.publishNats(m) : { latencyMs: 0, error: "NATS is not configured (nats.url / AUTHBUS_NATS_URL)" };
    } else {
      const request = buildWebhookRequest(event as Envelope, {
        id: sub.id,
        format: sub.format,
        secrets: this.freshSecrets(at) ?? (await this.loadSecrets(at)),
        headers: sub.destination.headers,
        authgearSignature: sub.authgear_signature,
      }, { nowSeconds: Math.floor(at / 1000), userAgent: this.d.userAgent });
      if (!request.ok) return this.finish(s, this.result(s, n, at, { state: "dead", reason: request.skip }));
      res = await this.d.send(sub.destination.url, request);
    }
    const done = this.d.now();
    const c = sub.destination.type === "nats" ? classifyPublish(res) : classifyResponse({ status: res.status, error: res.error, retryAfterHeader: res.retryAfter, locationHeader: res.location, now: done });
    let state: AttemptResult["state"] = "delivered";
    let next: number | null = null;
    if (c.outcome !== "delivered") {
      const delay = nextAttemptDelayMs(sub.retry_schedule, n, { retryAfterMs: c.retryAfterMs });
      if (delay === undefined) state = "dead";
      else (state = "pending"), (next = done + delay);
    }
    // A retry due within a third of the lease stays with this worker (its timer); a later one goes back to every worker.
    const keep = next !== null && next - done <= this.d.leaseMs / 3;
    const result = this.result(s, n, at, { state, reason: c.outcome === "delivered" ? null : c.reason });
    result.status_code = res.status ?? null;
    result.latency_ms = res.latencyMs;
    result.error = res.error ?? null;
    result.response_head = res.responseHead ?? null;
    result.next_attempt_at_ms = next;
    result.flagged = c.flagged ?? null;
    if (keep) result.keep_claim = true;
    this.finish(s, result);
    if (c.outcome === "delivered") {
      this.failingSince = null;
      this.lastSuccess = done;
    } else {
      this.failingSince ??= at;
      if (c.outcome === "disable") await this.disable(c.reason);
      else if (shouldDisable({ failingSinceMs: this.failingSince, lastSuccessMs: this.lastSuccess, nowMs: done, windowMs: this.d.disableAfterMs })) {
        await this.disable(disableReason({ failingSinceMs: this.failingSince, lastSuccessMs: this.lastSuccess, nowMs: done, windowMs: this.d.disableAfterMs, lastError: c.reason }));
      }
    }
  }

  private result(s: Slot, n: number, at: number, o: { state: AttemptResult["state"]; reason: string | null }): AttemptResult {
    return {
      app_id: this.sub.app_id,
      subscription_id: this.sub.id,
      delivery_id: s.id,
      n,
      at_ms: at,
      status_code: null,
      latency_ms: 0,
      error: o.state === "dead" && o.reason ? o.reason : null,
      response_head: null,
      state: o.state,
      next_attempt_at_ms: null,
      flagged: null,
      reason: o.reason,
    };
  }

  private finish(s: Slot, r: AttemptResult): void {
    s.attempts = r.n;
    if (r.state === "pending" && r.keep_claim) {
      s.next_attempt_at = r.next_attempt_at_ms!;
      this.waiting.set(s.id, s);
    } else this.held.delete(s.id);
    this.d.onDelivered?.({ subscription_id: r.subscription_id, state: r.state, latency_ms: r.latency_ms, status_code: r.status_code });
    this.results.push(r);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * Records the results gathered so far. One write at a time: results finished meanwhile wait and go
   * together in the next one, so batches grow with load instead of queueing up (and a delivery's
   * results land in order). Resolves when everything gathered before the call is recorded.
   */
  private flush(): Promise<void> {
    this.flushScheduled = false;
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.results.length > 0) {
      const batch = this.results;
      this.results = [];
      await this.record(batch);
    }
  }

  /** Until it lands: a lost result would leave its delivery claimed by this live worker, renewed and never sent again. */
  private async record(batch: AttemptResult[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.d.deliveries.recordAttempts(batch);
      } catch (e) {
        this.d.onError(e, `recording ${batch.length} delivery attempts (try ${attempt})`);
        // Stopping: give up after a few tries; the claims lapse and another worker delivers again (at-least-once).
        if (this.stopped && attempt >= 3) return;
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
      }
    }
  }

  private async disable(reason: string): Promise<void> {
    const updated = await this.d.deliveries.updateSubscription(this.sub.app_id, this.sub.id, { state: "disabled", disabled_reason: reason });
    if (updated) this.sub = updated;
  }
}
