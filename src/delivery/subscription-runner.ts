import type { NatsMessage } from "../core/delivery/nats-message.js";
import type { Envelope } from "../core/envelope.js";
import type { EventStore } from "../core/ports/store.js";
import type { AttemptResult, DeliveryStore, Subscription } from "../core/ports/deliveries.js";
import { ClaimedQueue, type Slot } from "./claimed-queue.js";
import { DeliveryAttempts } from "./delivery-attempt.js";
import { fanOut, type FanOutHost } from "./fan-out.js";
import { ResultRecorder } from "./result-recorder.js";
import type { WebhookSendResult } from "../core/ports/destinations.js";

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

const FANOUT_PAGES_PER_PUMP = 4;
/** The largest span of seqs loaded in one query for a claimed batch; wider batches read events one by one. */
const EVENT_SPAN = 1000;

/**
 * Delivers one subscription in this worker: fans recorded events out into deliveries (from its
 * cursor, compare-and-set, so several workers can do it), claims due pending deliveries in the
 * store and sends them under the subscription's ordering: `none` in parallel, `seq` one at a time
 * in seq order, `subject` one at a time per user. The store's claim rules keep the ordering across
 * workers; this runner keeps it among its own attempts. Results are recorded in one batch per tick.
 */
export class SubscriptionRunner {
  private readonly claimed = new ClaimedQueue();
  /** The last claim came back full, or something changed since: claim again. */
  private claimMore = true;
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempts = new Set<Promise<void>>();
  /** New events may exist: fan out before dispatching. Attempt completions only dispatch. */
  private fanoutNeeded = true;
  private readonly sender: DeliveryAttempts;
  private readonly recorder: ResultRecorder;
  private readonly fanOutHost: FanOutHost;
  /** Bound once, so dispatch allocates no closure per delivery. */
  private readonly startSlot = (s: Slot): void => this.start(s);

  constructor(
    private sub: Subscription,
    private readonly d: RunnerDeps,
  ) {
    this.sender = new DeliveryAttempts(d, {
      sub: () => this.sub,
      finish: (s, r) => this.finish(s, r),
      replaced: (updated) => (this.sub = updated),
    });
    this.recorder = new ResultRecorder(d.deliveries, d.onError, () => this.stopped);
    this.fanOutHost = {
      sub: () => this.sub,
      deliverable: () => this.deliverable(),
      claimLimit: () => this.claimLimit(),
      adopt: (slot) => this.claimed.add(slot),
      unclaimedCreated: () => (this.claimMore = true),
    };
  }

  get id(): string {
    return this.sub.id;
  }

  get subscription(): Subscription {
    return this.sub;
  }

  async init(): Promise<void> {
    await this.sender.loadHealth();
  }

  /** The subscription changed (filter, state, secret ...): use the new one from now on. */
  update(sub: Subscription): void {
    this.sub = sub;
    this.sender.forgetSecrets();
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
      if (this.claimed.holds(x.id)) continue;
      this.claimed.add({ pos: 0, id: x.id, event_id: x.event.id, seq: x.event.seq, subject: x.subject, attempts: 0, next_attempt_at: 0, event: x.event });
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
    await this.recorder.flush();
  }

  private async pump(): Promise<void> {
    if (this.fanoutNeeded) {
      this.fanoutNeeded = false;
      // A page at a time between dispatches, so a large backlog starts delivering at once.
      if (await fanOut(this.d, this.fanOutHost, FANOUT_PAGES_PER_PUMP)) {
        this.fanoutNeeded = true;
        this.again = true;
      }
    }
    if (!this.deliverable()) return;
    // Kept retries whose time has come join the queue.
    if (this.claimed.hasWaiting) this.claimed.promoteDue(this.d.now());
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

  /** The one place that decides whether this runner sends at all (state and destination type). */
  private deliverable(): boolean {
    return this.sub.state === "enabled" && (this.sub.destination.type === "webhook" || this.sub.destination.type === "nats");
  }

  /** How many deliveries to claim now (0: enough in hand). */
  private claimLimit(): number {
    const max = this.d.maxInFlight;
    if (this.sub.ordering === "seq") return this.claimed.heldCount === 0 ? 1 : 0;
    // Subject heads are claimed one per subject; a batch beyond what can start is not worth holding.
    const queued = this.claimed.queued;
    if (this.sub.ordering === "subject") return Math.max(0, max - this.claimed.inFlight - queued);
    // Unordered: a claim rides the writer's next commit, so it can take tens of milliseconds on a busy
    // disk; keeping several rounds of work in hand and topping up at three quarters hides that wait.
    // Not more: what one worker holds, the others cannot share.
    const batch = Math.max(8 * max, 256);
    return queued <= (batch * 3) / 4 ? batch - queued : 0;
  }

  private async claim(limit: number): Promise<void> {
    // Ordered claims look at which deliveries are still pending: record finished ones first.
    if (this.sub.ordering !== "none") await this.recorder.flush();
    const rows = await this.d.deliveries.claimPending(this.sub.app_id, this.sub.id, this.d.owner, {
      ordering: this.sub.ordering,
      limit,
      nowMs: this.d.now(),
      leaseMs: this.d.leaseMs,
    });
    // Unordered: a short batch means nothing else is due; ordered: completions make the next head claimable.
    this.claimMore = rows.length >= limit && this.sub.ordering === "none";
    const fresh = rows.filter((r) => !this.claimed.holds(r.id)) as Slot[];
    if (fresh.length === 0) return;
    await this.loadEvents(fresh);
    for (const r of fresh) this.claimed.add(r);
  }

  /** One range read for a batch whose seqs are close together (the usual case), instead of a read per attempt. */
  private async loadEvents(slots: Slot[]): Promise<void> {
    if (slots.length < 2) return;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const s of slots) (lo = Math.min(lo, s.seq)), (hi = Math.max(hi, s.seq));
    // A plain seq range (no type filter: the cheapest read), worth it only when most of it is wanted.
    if (hi - lo >= Math.min(EVENT_SPAN, 4 * slots.length)) return;
    const events = await this.d.events.query({ app_id: this.sub.app_id, after_seq: lo - 1, limit: hi - lo + 1, forRendering: true });
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const s of slots) s.event = byId.get(s.event_id);
  }

  private dispatch(): void {
    if (this.stopped) return;
    this.claimed.startNext(this.sub.ordering, this.sub.ordering === "seq" ? 1 : this.d.maxInFlight, this.startSlot);
    clearTimeout(this.timer);
    const nextDue = this.claimed.nextDue();
    if (nextDue !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.wake(), Math.max(1, nextDue - this.d.now()));
      this.timer.unref?.();
    }
  }

  private start(s: Slot): void {
    this.claimed.begin(s);
    const p = this.sender
      .attempt(s)
      .catch((e) => {
        // Nothing was recorded: let the claim lapse so this or another worker tries again.
        this.claimed.release(s.id);
        this.d.onError(e, `delivery ${s.id}`);
      })
      .finally(() => {
        this.claimed.end(s);
        this.attempts.delete(p);
        if (this.sub.ordering !== "none") this.claimMore = true;
        // Refill from the queue now: a pump may be awaiting a claim round trip, and waiting for it would idle the freed slot.
        this.dispatch();
        if (this.claimMore || this.fanoutNeeded) this.wake();
      });
    this.attempts.add(p);
  }

  private finish(s: Slot, r: AttemptResult): void {
    s.attempts = r.n;
    if (r.state === "pending" && r.keep_claim) {
      s.next_attempt_at = r.next_attempt_at_ms!;
      this.claimed.keepForRetry(s);
    } else this.claimed.release(s.id);
    this.d.onDelivered?.({ subscription_id: r.subscription_id, state: r.state, latency_ms: r.latency_ms, status_code: r.status_code });
    this.recorder.add(r);
  }
}
