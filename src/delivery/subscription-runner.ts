import { v7 as uuidv7 } from "uuid";
import { auth0TypeFor } from "../core/formats/auth0.js";
import { classifyResponse } from "../core/delivery/classify.js";
import { nextAttemptDelayMs } from "../core/delivery/retry-schedule.js";
import { disableReason, shouldDisable } from "../core/delivery/disable-policy.js";
import { buildWebhookRequest } from "../core/delivery/webhook-request.js";
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
}

const FANOUT_PAGE = 1000;
const FANOUT_PAGES_PER_PUMP = 4;
const WINDOW = 2000;

interface Slot extends PendingDelivery {
  busy: boolean;
}

/**
 * Delivers one subscription: fans recorded events out into deliveries (from its cursor), keeps a
 * window of pending deliveries in memory, and sends them under the subscription's ordering:
 * `none` in parallel, `seq` one at a time in seq order, `subject` one at a time per user.
 */
export class SubscriptionRunner {
  private window = new Map<string, Slot>();
  private lastLoadedPos = 0;
  private exhausted = false;
  private inFlight = 0;
  private busySubjects = new Set<string>();
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempts = new Set<Promise<void>>();
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
    this.wake();
  }

  /** Events were recorded. */
  eventsArrived(): void {
    this.fanoutNeeded = true;
    this.wake();
  }

  /** Deliveries went back to pending (retry, replay): rescan the log of pending deliveries. */
  reload(): void {
    this.lastLoadedPos = 0;
    this.exhausted = false;
    this.fanoutNeeded = true;
    this.wake();
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

  /** Stops starting attempts and waits for those in flight (their results are recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.attempts]);
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
    if (this.sub.state !== "enabled" || this.sub.destination.type !== "webhook") return;
    if (this.window.size < WINDOW / 2 && !this.exhausted) await this.refill();
    this.dispatch();
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
      await this.d.deliveries.fanOut(app_id, id, rows, next);
      if (rows.some((r) => r.state === "pending")) this.exhausted = false;
      if (events.length < FANOUT_PAGE) return false;
    }
    return true;
  }

  private async refill(): Promise<void> {
    const rows = await this.d.deliveries.loadPending(this.sub.app_id, this.sub.id, this.lastLoadedPos, WINDOW - this.window.size);
    for (const r of rows) if (!this.window.has(r.id)) this.window.set(r.id, { ...r, busy: false });
    if (rows.length > 0) this.lastLoadedPos = rows[rows.length - 1]!.pos;
    this.exhausted = rows.length < WINDOW - this.window.size;
  }

  private dispatch(): void {
    if (this.stopped) return;
    const now = this.d.now();
    let nextDue = Number.POSITIVE_INFINITY;
    const startIfDue = (s: Slot): void => {
      if (s.next_attempt_at <= now) this.start(s);
      else nextDue = Math.min(nextDue, s.next_attempt_at);
    };
    if (this.sub.ordering === "none") {
      // When full, completions re-dispatch; the timer matters only when not everything is due.
      for (const s of this.window.values()) {
        if (this.inFlight >= this.d.maxInFlight) break;
        if (!s.busy) startIfDue(s);
      }
    } else if (this.sub.ordering === "seq") {
      const slots = this.window.values();
      // The head of the line waits until it is delivered or dead; nothing overtakes it.
      let head: Slot | undefined;
      for (const s of slots) if (!head || s.seq < head.seq) head = s;
      if (head && !head.busy) startIfDue(head);
    } else {
      const heads = new Map<string, Slot>();
      for (const s of this.window.values()) {
        if (s.subject === null) {
          if (!s.busy && this.inFlight < this.d.maxInFlight) startIfDue(s);
          continue;
        }
        const h = heads.get(s.subject);
        if (!h || s.seq < h.seq) heads.set(s.subject, s);
      }
      for (const [subject, h] of heads) {
        if (this.inFlight >= this.d.maxInFlight) break;
        if (!h.busy && !this.busySubjects.has(subject)) startIfDue(h);
      }
    }
    clearTimeout(this.timer);
    if (nextDue !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.wake(), Math.max(1, nextDue - this.d.now()));
      this.timer.unref?.();
    }
  }

  private start(s: Slot): void {
    s.busy = true;
    this.inFlight++;
    if (s.subject !== null) this.busySubjects.add(s.subject);
    const p = this.attempt(s)
      .catch((e) => this.d.onError(e, `delivery ${s.id}`))
      .finally(() => {
        s.busy = false;
        this.inFlight--;
        if (s.subject !== null) this.busySubjects.delete(s.subject);
        this.attempts.delete(p);
        this.wake();
      });
    this.attempts.add(p);
  }

  private async validSecrets(): Promise<string[]> {
    const now = this.d.now();
    if (!this.secrets || now - this.secrets.at > 1000) {
      const list = await this.d.deliveries.getSecrets(this.sub.app_id, this.sub.id, now);
      this.secrets = { at: now, values: list.map((x) => x.secret) };
    }
    return this.secrets.values;
  }

  private async attempt(s: Slot): Promise<void> {
    const sub = this.sub;
    if (sub.destination.type !== "webhook") return;
    const event = await this.d.events.getEvent(sub.app_id, s.event_id);
    const n = s.attempts + 1;
    const at = this.d.now();
    if (!event) return this.finish(s, this.result(s, n, at, { state: "dead", reason: "the event is no longer in the log" }));
    const request = buildWebhookRequest(event as Envelope, {
      id: sub.id,
      format: sub.format,
      secrets: await this.validSecrets(),
      headers: sub.destination.headers,
      authgearSignature: sub.authgear_signature,
    }, { nowSeconds: Math.floor(at / 1000), userAgent: this.d.userAgent });
    if (!request.ok) return this.finish(s, this.result(s, n, at, { state: "dead", reason: request.skip }));
    const res = await this.d.send(sub.destination.url, request);
    const done = this.d.now();
    const c = classifyResponse({ status: res.status, error: res.error, retryAfterHeader: res.retryAfter, locationHeader: res.location, now: done });
    let state: AttemptResult["state"] = "delivered";
    let next: number | null = null;
    if (c.outcome !== "delivered") {
      const delay = nextAttemptDelayMs(sub.retry_schedule, n, { retryAfterMs: c.retryAfterMs });
      if (delay === undefined) state = "dead";
      else (state = "pending"), (next = done + delay);
    }
    const result: AttemptResult = {
      ...this.result(s, n, at, { state, reason: c.outcome === "delivered" ? null : c.reason }),
      status_code: res.status ?? null,
      latency_ms: res.latencyMs,
      error: res.error ?? null,
      response_head: res.responseHead ?? null,
      next_attempt_at_ms: next,
      flagged: c.flagged ?? null,
    };
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
    if (r.state === "pending") s.next_attempt_at = r.next_attempt_at_ms!;
    else this.window.delete(s.id);
    this.d.onDelivered?.({ subscription_id: r.subscription_id, state: r.state, latency_ms: r.latency_ms, status_code: r.status_code });
    void this.d.deliveries.recordAttempts([r]).catch((e) => this.d.onError(e, `recording delivery ${s.id}`));
  }

  private async disable(reason: string): Promise<void> {
    const updated = await this.d.deliveries.updateSubscription(this.sub.app_id, this.sub.id, { state: "disabled", disabled_reason: reason });
    if (updated) this.sub = updated;
  }
}
