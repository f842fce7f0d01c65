import { backoffDelay, type BackoffPolicy } from "../core/backoff.js";
import type { Envelope } from "../core/envelope.js";
import type { EventStore } from "../core/ports/store.js";

export interface HandlerErrorInfo {
  handler: string;
  /** Absent when the failure was reading or saving the cursor rather than handling an event. */
  event?: Envelope;
  attempt: number;
  /** Milliseconds until the next attempt. */
  retryInMs: number;
}

export interface HandlerConsumerOptions {
  store: EventStore;
  app: string;
  name: string;
  pattern: string;
  handle: (event: Envelope) => unknown;
  retry: BackoffPolicy;
  pollIntervalMs: number;
  batchSize: number;
  onError: (error: unknown, info: HandlerErrorInfo) => void;
}

/**
 * A durable in-process handler: a named consumer with its own cursor in the store.
 * It reads events after its cursor, calls the handler for those matching its pattern, retries a
 * failing event with backoff (holding back only itself), and saves its cursor as it goes, so a
 * restart resumes where it stopped: each recorded event reaches it at least once.
 */
export class HandlerConsumer {
  private cursor = 0;
  /** Highest seq whose first attempt has settled: what `emit(..., { await: true })` waits for. */
  private settled = 0;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private stopping = false;
  private idleWake: (() => void) | undefined;
  private stopWake: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  private pendingSave: Promise<void> = Promise.resolve();

  constructor(private readonly o: HandlerConsumerOptions) {}

  start(cursor: number): void {
    this.cursor = cursor;
    this.settled = cursor;
    this.loop = this.run().catch((e) => this.o.onError(e, { handler: this.o.name, attempt: 0, retryInMs: 0 }));
  }

  get name(): string {
    return this.o.name;
  }

  /** New events were committed: cut an idle wait short (never a retry backoff). */
  wake(): void {
    this.woken = true;
    this.idleWake?.();
  }

  /** Resolves once the handler has made its first attempt at every event up to `seq`. */
  waitFor(seq: number): Promise<void> {
    if (this.settled >= seq || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Finishes the event in hand (no further retries), saves the cursor and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopWake?.();
    await this.loop;
    this.releaseWaiters(Number.POSITIVE_INFINITY);
    await this.pendingSave;
  }

  private async run(): Promise<void> {
    const { store, app, pattern, batchSize } = this.o;
    while (!this.stopping) {
      this.woken = false;
      let head: number;
      let events: Envelope[];
      try {
        // Head first: every seq <= head is already visible, so the cursor may jump to it when the page is short.
        head = await store.headSeq(app);
        events = await store.query({ app_id: app, types: [pattern], after_seq: this.cursor, limit: batchSize });
      } catch (e) {
        this.o.onError(e, { handler: this.o.name, attempt: 0, retryInMs: this.o.pollIntervalMs });
        await this.sleep(this.o.pollIntervalMs, true);
        continue;
      }
      const start = this.cursor;
      for (const event of events) {
        if (!(await this.deliver(event))) break;
        this.advance(event.seq);
      }
      if (!this.stopping && events.length < batchSize && head > this.cursor) this.advance(head);
      if (this.cursor !== start) this.pendingSave = store.saveCursor(app, this.o.name, this.cursor).catch((e) => this.reportSaveError(e));
      if (events.length < batchSize && !this.woken) await this.sleep(this.o.pollIntervalMs, true);
    }
  }

  /** True when delivered; false when stopping before success. */
  private async deliver(event: Envelope): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.handle(event);
        return true;
      } catch (error) {
        const retryInMs = backoffDelay(this.o.retry, attempt);
        this.o.onError(error, { handler: this.o.name, event, attempt, retryInMs });
        if (attempt === 1) this.releaseWaiters(event.seq);
        if (this.stopping) return false;
        await this.sleep(retryInMs, false);
        if (this.stopping) return false;
      }
    }
  }

  private advance(seq: number): void {
    this.cursor = seq;
    this.releaseWaiters(seq);
  }

  private releaseWaiters(seq: number): void {
    if (seq > this.settled) this.settled = seq;
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) (w.seq <= this.settled ? w.resolve() : keep.push(w));
    this.waiters = keep;
  }

  private sleep(ms: number, idle: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.stopWake = done;
      if (idle) this.idleWake = done;
    }).finally(() => {
      this.stopWake = undefined;
      this.idleWake = undefined;
    });
  }

  private reportSaveError(e: unknown): void {
    this.o.onError(e, { handler: this.o.name, attempt: 0, retryInMs: 0 });
  }
}
