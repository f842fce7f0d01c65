import type { DecisionRecord } from "../core/hooks/decision.js";
import type { DecisionStore } from "../core/ports/decisions.js";

/**
 * Writes decisions to the ledger off the decision path: `before()` answers as soon as the chain
 * has decided, and records are written in batches, every `intervalMs` or at once when the buffer
 * is full (which bounds memory under a caller that never yields). Batching matters: one commit per
 * evaluation would cost an fsync, more than a loopback HTTP hook itself, and block the event loop.
 * A failed write is reported, never thrown into `before()`: the ledger is an audit trail, and
 * refusing sign-ups because the audit insert failed would turn a disk problem into an outage.
 */
export class DecisionRecorder {
  private buffer: DecisionRecord[] = [];
  private scheduled = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly store: DecisionStore,
    private readonly onError: (error: unknown, lost: number) => void,
    private readonly maxBuffer = 256,
    private readonly intervalMs = 50,
  ) {}

  /** Queues a finished record. */
  add(record: DecisionRecord): void {
    this.buffer.push(record);
    if (this.buffer.length >= this.maxBuffer) this.write();
    else if (!this.scheduled) {
      this.scheduled = true;
      // unref: a pending ledger write must not keep the process alive; close() flushes.
      setTimeout(() => {
        this.scheduled = false;
        this.write();
      }, this.intervalMs).unref();
    }
  }

  /** Queues a record that is complete only when its shadow hooks have answered. */
  addWhenReady(record: Promise<DecisionRecord>): void {
    const p = record.then(
      (r) => this.add(r),
      (e: unknown) => this.onError(e, 1),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every record queued so far (including those waiting for shadow hooks) is written. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    this.write();
    await Promise.all(this.writes);
  }

  private write(): void {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    let p: Promise<void>;
    try {
      p = this.store.recordDecisions(batch);
    } catch (e) {
      p = Promise.reject(e);
    }
    const tracked = p.catch((e: unknown) => this.onError(e, batch.length));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }
}
