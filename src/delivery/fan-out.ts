import { uuidv7 } from "../core/ids.js";
import { auth0TypeFor } from "../core/formats/auth0.js";
import type { NewDelivery, Subscription } from "../core/ports/deliveries.js";
import type { Slot } from "./claimed-queue.js";
import type { RunnerDeps } from "./subscription-runner.js";

const FANOUT_PAGE = 1000;

/** What fan-out needs from the runner it fills. */
export interface FanOutHost {
  /** Read again after every await: the subscription may change meanwhile. */
  sub(): Subscription;
  deliverable(): boolean;
  claimLimit(): number;
  /** Deliveries created claimed by this worker: queue them. */
  adopt(slot: Slot): void;
  /** Pending deliveries were created that nobody holds yet. */
  unclaimedCreated(): void;
}

/**
 * Fans recorded events out into deliveries, from the subscription's cursor (compare-and-set, so
 * several workers can do it). Up to `pages` pages; true when more remain.
 */
export async function fanOut(d: RunnerDeps, host: FanOutHost, pages: number): Promise<boolean> {
  const { app_id, id } = host.sub();
  for (let page = 0; page < pages; page++) {
    const cursor = await d.deliveries.fanoutCursor(app_id, id);
    const head = await d.events.headSeq(app_id);
    if (head <= cursor) return false;
    const events = await d.events.query({ app_id, types: host.sub().filter, after_seq: cursor, limit: FANOUT_PAGE });
    const sub = host.sub();
    const rows: NewDelivery[] = events.map((e) => {
      const skip = sub.format === "auth0" && auth0TypeFor(e.type) === undefined;
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
    if (sub.ordering === "none" && host.deliverable()) {
      const until = d.now() + d.leaseMs;
      let room = host.claimLimit();
      for (let i = 0; i < rows.length && room > 0; i++) {
        const r = rows[i]!;
        if (r.state !== "pending") continue;
        r.claimed_by = d.owner;
        r.claim_until = until;
        mine.push({ pos: 0, id: r.id, event_id: r.event_id, seq: r.seq, subject: r.subject, attempts: 0, next_attempt_at: 0, event: events[i] });
        room--;
      }
    }
    // Another worker may have fanned out this page first: then the cursor moved and this writes nothing; read it again.
    if (await d.deliveries.fanOut(app_id, id, rows, next, cursor)) {
      for (const m of mine) host.adopt(m);
      if (rows.length > mine.length && rows.some((r) => r.state === "pending" && r.claimed_by === undefined)) host.unclaimedCreated();
      if (events.length < FANOUT_PAGE) return false;
    }
  }
  return true;
}
