import type pg from "pg";
import { StoreError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import { appendCalls, type AppendOutcome } from "./append.js";
import { inTransaction, sqlState } from "./connection.js";

interface PendingCall {
  inputs: readonly AppendInput[];
  apps: string[];
  bytes: number;
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH_EVENTS = 2000;
/** Keeps one INSERT's parameters (events are up to 1 MiB each) to a sane size. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Retried whole: deadlock (two apps locked in opposite orders by a caller's transaction), serialization
 * failure, and unique violation (the same caller-chosen id written concurrently by another app: the
 * retry sees it and answers idempotency_conflict).
 */
const RETRYABLE = new Set(["40P01", "40001", "23505"]);
const MAX_TRIES = 5;

export interface GroupCommitOptions {
  pool: pg.Pool;
  /** Quoted schema for SQL, and the raw name for notifications. */
  s: string;
  schema: string;
  /** Batches in flight at once (each on its own pooled connection). */
  maxInFlight: number;
  gate: () => Promise<void>;
  onCommitted: (maxSeqByApp: Map<string, number>) => void;
}

/**
 * Group commit without a thread: appends made during one turn of the event loop share one
 * transaction (one WAL flush). Batches for different apps commit in parallel on separate
 * connections; an app has at most one batch in flight, so this process's appends for an app get seqs
 * in call order (the row lock would serialise them anyway, but not necessarily in call order).
 */
export class GroupCommit {
  private queue: PendingCall[] = [];
  private busy = new Set<string>();
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: GroupCommitOptions) {}

  append(inputs: readonly AppendInput[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreError("The store is closed"));
    return new Promise((resolve, reject) => {
      const apps = [...new Set(inputs.map((i) => i.app_id))];
      const bytes = inputs.reduce((n, i) => n + i.payloadJson.length + i.contextJson.length, 0);
      this.queue.push({ inputs, apps, bytes, resolve, reject });
      this.schedule();
    });
  }

  /** Stops accepting appends; resolves once everything queued is committed or failed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.o.maxInFlight && this.startBatch());
    });
  }

  /** Takes the next batch off the queue, in order per app; false when nothing can start now. */
  private startBatch(): boolean {
    const blocked = new Set(this.busy);
    const taken: PendingCall[] = [];
    const rest: PendingCall[] = [];
    let events = 0;
    let bytes = 0;
    for (const c of this.queue) {
      const fits = taken.length === 0 || (events + c.inputs.length <= MAX_BATCH_EVENTS && bytes + c.bytes <= MAX_BATCH_BYTES);
      if (!fits || c.apps.some((a) => blocked.has(a))) {
        // Whatever waits, later calls of the same apps wait behind it.
        for (const a of c.apps) blocked.add(a);
        rest.push(c);
        continue;
      }
      taken.push(c);
      events += c.inputs.length;
      bytes += c.bytes;
    }
    if (taken.length === 0) return false;
    this.queue = rest;
    const apps = new Set(taken.flatMap((c) => c.apps));
    for (const a of apps) this.busy.add(a);
    this.inFlight++;
    void this.commit(taken).finally(() => {
      for (const a of apps) this.busy.delete(a);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
    });
    return true;
  }

  private async commit(calls: PendingCall[]): Promise<void> {
    let result: AppendOutcome;
    try {
      await this.o.gate();
      result = await this.write(calls.map((c) => c.inputs));
    } catch (e) {
      const err = new StoreError(`PostgreSQL write failed; nothing in this batch was recorded: ${(e as Error).message}`, e);
      for (const c of calls) c.reject(err);
      return;
    }
    if (result.maxSeqByApp.size > 0) this.o.onCommitted(result.maxSeqByApp);
    result.outcomes.forEach((o, i) => ("ok" in o ? calls[i]!.resolve(o.ok) : calls[i]!.reject(o.err)));
  }

  private async write(calls: (readonly AppendInput[])[]): Promise<AppendOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.o.pool, (tx) => appendCalls(tx, this.o.s, this.o.schema, calls));
      } catch (e) {
        if (attempt >= MAX_TRIES || !RETRYABLE.has(sqlState(e) ?? "")) throw e;
        await new Promise((r) => setTimeout(r, attempt * 5 * Math.random()));
      }
    }
  }
}
