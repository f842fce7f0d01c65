import os from "node:os";
import { uuidv7 } from "../core/ids.js";
import type { EventStore } from "../core/ports/store.js";
import type { Envelope } from "../core/envelope.js";
import type { DeliveryStore, Subscription } from "../core/ports/deliveries.js";
import { SubscriptionRunner, type RunnerDeps } from "./subscription-runner.js";

export interface DeliveryEngineOptions extends Omit<RunnerDeps, "events" | "deliveries" | "owner"> {
  events: EventStore;
  deliveries: DeliveryStore;
  /** How long a claim on a delivery lasts without renewal; renewed every third of it. */
  leaseMs: number;
  /** How often to look for work the notifier does not announce (expired claims, retries due, other processes' subscriptions). Default: min(1 s, leaseMs / 3). */
  pollMs?: number;
}

/**
 * Runs the subscriptions of every app on this database, in as many processes as like: each worker
 * claims the deliveries it sends (see DeliveryStore.claimPending), renews its claims every third of
 * the lease, and releases them when it stops. A dead worker's claims expire after the lease; those
 * of a dead process on this host are released at start, so a restart after a crash resumes at once.
 */
export class DeliveryEngine {
  private readonly runners = new Map<string, SubscriptionRunner>();
  private readonly owner = `${os.hostname()}:${process.pid}:${uuidv7()}`;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private tick: Promise<void> = Promise.resolve();
  private lastRenewal = 0;

  constructor(private readonly o: DeliveryEngineOptions) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.tick = this.begin().finally(() => this.schedule());
  }

  /** New events were recorded. */
  wake(): void {
    for (const r of this.runners.values()) r.eventsArrived();
  }

  subscriptionChanged(sub: Subscription): void {
    const r = this.runners.get(sub.id);
    if (r) r.update(sub);
    else if (this.started) void this.addRunner(sub);
  }

  subscriptionDeleted(id: string): void {
    const r = this.runners.get(id);
    if (!r) return;
    this.runners.delete(id);
    void r.stop();
  }

  /**
   * For deliveries about to be created here (a replay): how many this worker takes at once, created
   * already claimed by it and handed over with `adopt`, so they go out without a claim round trip.
   */
  preclaim(id: string): { owner: string; untilMs: number; room: number } | undefined {
    const room = this.runners.get(id)?.adoptable() ?? 0;
    return room > 0 && !this.stopped ? { owner: this.owner, untilMs: this.o.now() + this.o.leaseMs, room } : undefined;
  }

  adopt(id: string, deliveries: { id: string; event: Envelope; subject: string | null }[]): void {
    this.runners.get(id)?.adopt(deliveries);
  }

  /** Deliveries of this subscription went back to pending. */
  reload(id: string): void {
    this.runners.get(id)?.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    // Results are recorded by now; what is still held goes back to the other workers at once.
    if (this.started) await this.o.deliveries.releaseClaims(this.owner).catch((e) => this.o.onError(e, "releasing delivery claims"));
  }

  private get pollMs(): number {
    return this.o.pollMs ?? Math.max(50, Math.min(1000, Math.floor(this.o.leaseMs / 3)));
  }

  private async begin(): Promise<void> {
    try {
      for (const owner of await this.o.deliveries.claimOwners()) {
        if (isDeadLocalProcess(owner)) await this.o.deliveries.releaseClaims(owner);
      }
      await this.refresh();
    } catch (e) {
      this.o.onError(e, "delivery start");
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.poll().finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    try {
      const now = this.o.now();
      if (now - this.lastRenewal >= this.o.leaseMs / 3 - this.pollMs / 2) {
        await this.o.deliveries.renewClaims(this.owner, now + this.o.leaseMs);
        this.lastRenewal = now;
      }
      await this.refresh();
      for (const r of this.runners.values()) r.reload();
    } catch (e) {
      this.o.onError(e, "delivery poll");
    }
  }

  /** Subscriptions created, changed or deleted by other processes. */
  private async refresh(): Promise<void> {
    const subs = await this.o.deliveries.allSubscriptions();
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const sub of subs) {
      seen.add(sub.id);
      const r = this.runners.get(sub.id);
      if (!r) await this.addRunner(sub);
      else if (r.subscription.updated_at !== sub.updated_at) r.update(sub);
    }
    for (const id of [...this.runners.keys()]) if (!seen.has(id)) this.subscriptionDeleted(id);
  }

  private async addRunner(sub: Subscription): Promise<void> {
    if (this.runners.has(sub.id) || this.stopped) return;
    const r = new SubscriptionRunner(sub, { ...this.o, owner: this.owner });
    this.runners.set(sub.id, r);
    await r.init();
    r.wake();
  }
}

/** `host:pid:...` of a process on this host that no longer runs. */
function isDeadLocalProcess(owner: string): boolean {
  const [host, pid] = owner.split(":");
  if (host !== os.hostname() || !pid || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
