import type { Envelope } from "../core/envelope.js";
import type { PendingDelivery, Subscription } from "../core/ports/deliveries.js";

export interface Slot extends PendingDelivery {
  /** Loaded with the claimed batch, so an attempt needs no read of its own. */
  event?: Envelope;
}

/**
 * The deliveries one runner holds claims on, and which of them may start under the subscription's
 * ordering. Kept apart from the runner so the selection rules (`seq` one at a time, `subject` one
 * per user) read in one place.
 */
export class ClaimedQueue {
  /** Claimed and due, in claim order, from `head` on: started slots are skipped, not spliced out, since dispatch runs after every attempt. */
  private queue: Slot[] = [];
  private head = 0;
  /** Claimed, waiting for a retry that is due soon (the claim is kept and renewed meanwhile). */
  private waiting = new Map<string, Slot>();
  /** Every delivery this runner holds a claim on (queued, waiting or in flight). */
  private held = new Set<string>();
  private busySubjects = new Set<string>();
  inFlight = 0;

  holds(id: string): boolean {
    return this.held.has(id);
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Queued and not started yet. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** A newly claimed delivery joins the queue. */
  add(s: Slot): void {
    this.held.add(s.id);
    this.queue.push(s);
  }

  /** The claim is given up (recorded as finished, or left to lapse). */
  release(id: string): void {
    this.held.delete(id);
  }

  /** Keeps the claim for a retry due soon; `promoteDue` queues it again when its time comes. */
  keepForRetry(s: Slot): void {
    this.waiting.set(s.id, s);
  }

  get hasWaiting(): boolean {
    return this.waiting.size > 0;
  }

  /** Kept retries whose time has come join the queue. */
  promoteDue(now: number): void {
    for (const s of this.waiting.values()) {
      if (s.next_attempt_at <= now) {
        this.waiting.delete(s.id);
        this.queue.push(s);
      }
    }
  }

  /** When the earliest kept retry is due (+Infinity: none). */
  nextDue(): number {
    let nextDue = Number.POSITIVE_INFINITY;
    for (const s of this.waiting.values()) nextDue = Math.min(nextDue, s.next_attempt_at);
    return nextDue;
  }

  /** Hands queued slots to `start` while fewer than `cap` are in flight; `start` must call `begin`. */
  startNext(ordering: Subscription["ordering"], cap: number, start: (s: Slot) => void): void {
    if (this.inFlight < cap && this.queue.length > this.head) {
      const rest: Slot[] = [];
      let i = this.head;
      for (; i < this.queue.length && this.inFlight < cap; i++) {
        const s = this.queue[i]!;
        // The store hands out one head per subject; this guards a head claimed again after its claim lapsed here.
        if (ordering === "subject" && s.subject !== null && this.busySubjects.has(s.subject)) rest.push(s);
        else start(s);
      }
      if (rest.length > 0) (this.queue = [...rest, ...this.queue.slice(i)]), (this.head = 0);
      else if (i === this.queue.length) (this.queue = []), (this.head = 0);
      else if (i >= 1024) (this.queue = this.queue.slice(i)), (this.head = 0);
      else this.head = i;
    }
  }

  begin(s: Slot): void {
    this.inFlight++;
    if (s.subject !== null) this.busySubjects.add(s.subject);
  }

  end(s: Slot): void {
    this.inFlight--;
    if (s.subject !== null) this.busySubjects.delete(s.subject);
  }
}
