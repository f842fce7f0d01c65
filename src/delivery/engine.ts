import os from "node:os";
import { v7 as uuidv7 } from "uuid";
import type { EventStore } from "../core/ports/store.js";
import type { DeliveryStore, Subscription } from "../core/ports/deliveries.js";
import { SubscriptionRunner, type RunnerDeps } from "./subscription-runner.js";

export interface DeliveryEngineOptions extends Omit<RunnerDeps, "events" | "deliveries"> {
  events: EventStore;
  deliveries: DeliveryStore;
  /** How long leadership lasts without renewal; renewed every third of it. */
  leaseMs: number;
}

const LEASE = "delivery";

/**
 * Runs the subscriptions of every app on this database. One process at a time delivers (a lease in
 * the store); another takes over when the lease expires, or at once when the holder is a dead
 * process on this host (a restart after a crash resumes immediately).
 */
export class DeliveryEngine {
  private readonly runners = new Map<string, SubscriptionRunner>();
  private readonly owner = `${os.hostname()}:${process.pid}:${uuidv7()}`;
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private tick: Promise<void> = Promise.resolve();

  constructor(private readonly o: DeliveryEngineOptions) {}

  start(): void {
    this.schedule(0);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** New events were recorded. */
  wake(): void {
    for (const r of this.runners.values()) r.eventsArrived();
  }

  subscriptionChanged(sub: Subscription): void {
    const r = this.runners.get(sub.id);
    if (r) r.update(sub);
    else if (this.leader) void this.addRunner(sub);
  }

  subscriptionDeleted(id: string): void {
    const r = this.runners.get(id);
    if (!r) return;
    this.runners.delete(id);
    void r.stop();
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
    if (this.leader) await this.o.deliveries.releaseLease(LEASE, this.owner).catch(() => undefined);
    this.leader = false;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.renew().finally(() => this.schedule(Math.max(50, Math.floor(this.o.leaseMs / 3))));
    }, ms);
    this.timer.unref?.();
  }

  private async renew(): Promise<void> {
    try {
      const now = this.o.now();
      const holder = await this.o.deliveries.leaseHolder(LEASE);
      const got = await this.o.deliveries.acquireLease(LEASE, this.owner, this.o.leaseMs, now, holder !== null && isDeadLocalProcess(holder) ? holder : undefined);
      if (got && !this.leader && !this.stopped) {
        this.leader = true;
        for (const sub of await this.o.deliveries.allSubscriptions()) await this.addRunner(sub);
      } else if (!got && this.leader) {
        this.leader = false;
        const rs = [...this.runners.values()];
        this.runners.clear();
        await Promise.all(rs.map((r) => r.stop()));
      }
    } catch (e) {
      this.o.onError(e, "delivery lease");
    }
  }

  private async addRunner(sub: Subscription): Promise<void> {
    if (this.runners.has(sub.id) || this.stopped) return;
    const r = new SubscriptionRunner(sub, { ...this.o });
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
