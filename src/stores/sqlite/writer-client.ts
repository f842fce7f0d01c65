import { Worker } from "node:worker_threads";
import { IdempotencyConflictError, StoreError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import type { CursorSave } from "./write-batch.js";
import type { DeliveryOpArgs, DeliveryOpName } from "./delivery-ops.js";
import { createWriter, pack, type FromWriter, type ToWriter, type WriterInit } from "./writer-core.js";

interface PendingCall {
  inputs: readonly AppendInput[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

interface PendingCursor extends CursorSave {
  done: (() => void)[];
  fail: ((e: unknown) => void)[];
}

interface PendingOp {
  name: string;
  args: unknown;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

interface InFlight {
  calls: PendingCall[];
  cursors: PendingCursor[];
  ops: PendingOp[];
}

const MAX_BATCH_EVENTS = 8192;
/** Two batches in flight: the writer commits one while the next is already queued behind it. */
const MAX_IN_FLIGHT = 2;

/**
 * Group commit from the main thread's side: appends and cursor saves requested while the writer
 * thread is busy are sent together as the next batch, so concurrent emitters share one fsync and
 * batches grow exactly when load does. The thread handles batches in the order sent, which keeps
 * seq order equal to the order calls were made.
 */
export class WriterClient {
  private readonly post: (m: ToWriter) => void;
  private closing: (() => void) | undefined;
  private queue: PendingCall[] = [];
  private cursors = new Map<string, PendingCursor>();
  private ops: PendingOp[] = [];
  private inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private fatal: Error | undefined;
  private closed: Promise<void> | undefined;

  /** `thread: false` writes on the main thread (no worker): lower latency when there is no concurrency to batch. */
  constructor(init: WriterInit, private readonly onCommitted: (maxSeqByApp: [string, number][]) => void, thread = true) {
    if (!thread) {
      const handle = createWriter(init, (m) => queueMicrotask(() => this.onMessage(m)));
      this.post = (m) => setImmediate(() => handle(m));
      return;
    }
    const here = import.meta.url;
    const entry = new URL(`./writer-thread.${here.endsWith(".ts") ? "ts" : "js"}`, here);
    // Under tsx or vitest the sources are .ts: the worker registers the tsx loader first. The built package is plain .js.
    // tsx is resolved from this file, not from the working directory (an eval'd worker has no location of its own).
    const worker = here.endsWith(".ts")
      ? new Worker(`import(${JSON.stringify(tsxApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: init })
      : new Worker(entry, { workerData: init });
    worker.on("message", (m: FromWriter) => this.onMessage(m));
    worker.on("error", (e) => this.die(e));
    worker.on("exit", (code) => {
      if (!this.closed) this.die(new Error(`SQLite writer thread exited with code ${code}`));
      else this.closing?.(); // exited while closing: do not wait for a "closed" that will not come
    });
    this.post = (m) => worker.postMessage(m);
  }

  append(inputs: readonly AppendInput[]): Promise<AppendResult[]> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.schedule();
    });
  }

  saveCursor(app: string, name: string, seq: number): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      const key = `${app}\u0000${name}`;
      const c = this.cursors.get(key);
      if (c) {
        c.seq = Math.max(c.seq, seq);
        c.done.push(resolve);
        c.fail.push(reject);
      } else this.cursors.set(key, { app, name, seq, done: [resolve], fail: [reject] });
      this.schedule();
    });
  }

  /** A delivery write, committed with the next batch. */
  op<K extends DeliveryOpName>(name: K, args: DeliveryOpArgs[K]): Promise<unknown> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.ops.push({ name, args, resolve, reject });
      this.schedule();
    });
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || this.cursors.size > 0 || this.ops.length > 0;
  }

  /** Resolves when everything queued so far is committed (or failed). */
  drain(): Promise<void> {
    if (this.inFlight.size === 0 && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    // A dead writer thread will never answer "closed": there is nothing left to close.
    if (this.fatal) return;
    this.closed ??= new Promise<void>((resolve) => {
      this.closing = resolve;
      this.post({ kind: "close" });
    });
    return this.closed;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight.size >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // One turn of the event loop gathers every emit made concurrently.
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT || !this.hasWork()) return;
    // With the writer idle, send half now and half right behind it: the writer then always has the
    // next batch queued while the main thread prepares the one after (pipelining).
    const total = this.queue.reduce((a, c) => a + c.inputs.length, 0);
    const limit = Math.min(MAX_BATCH_EVENTS, this.inFlight.size === 0 && total >= 64 ? Math.ceil(total / 2) : total);
    let n = 0;
    let i = 0;
    while (i < this.queue.length && (n === 0 || n + this.queue[i]!.inputs.length <= limit)) n += this.queue[i++]!.inputs.length;
    const calls = this.queue.splice(0, i);
    const cursors = [...this.cursors.values()];
    this.cursors.clear();
    const ops = this.ops.splice(0);
    const id = this.nextId++;
    this.inFlight.set(id, { calls, cursors, ops });
    const events: unknown[] = [];
    const sizes: number[] = [];
    for (const c of calls) {
      pack(events, c.inputs);
      sizes.push(c.inputs.length);
    }
    const msg: ToWriter = {
      kind: "batch",
      id,
      events,
      sizes,
      cursors: cursors.map(({ app, name, seq }) => ({ app, name, seq })),
      ops: ops.map(({ name, args }) => ({ name, args })),
    };
    this.post(msg);
    if (this.hasWork() && this.inFlight.size < MAX_IN_FLIGHT) this.send();
  }

  private onMessage(m: FromWriter): void {
    if (m.kind === "ready") return;
    if (m.kind === "closed") return this.closing?.();
    if (m.kind === "fatal") return this.die(new Error(m.message));
    const flight = this.inFlight.get(m.id);
    if (!flight) return;
    this.inFlight.delete(m.id);
    const { calls, cursors, ops } = flight;
    if (m.kind === "failed") {
      const err = new StoreError(`SQLite write failed; nothing in this batch was recorded: ${m.message}`);
      for (const c of calls) c.reject(err);
      for (const c of cursors) for (const f of c.fail) f(err);
      for (const o of ops) o.reject(err);
    } else {
      m.opResults.forEach((r, i) => ("ok" in r ? ops[i]!.resolve(r.ok) : ops[i]!.reject(new StoreError(`${ops[i]!.name} failed: ${r.err.message}`))));
      const failed = m.failed.length > 0 ? new Map(m.failed) : undefined;
      const old = m.duplicates.length > 0 ? new Set(m.duplicates) : undefined;
      let at = 0;
      calls.forEach((call, i) => {
        const start = at;
        at += call.inputs.length;
        const err = failed?.get(i);
        if (err) return call.reject(err.code === "idempotency_conflict" ? new IdempotencyConflictError(err.id ?? "") : new StoreError(err.message));
        call.resolve(
          call.inputs.map((input, j) => ({ id: input.id, seq: m.seqs[start + j]!, subject_seq: m.subjectSeqs[start + j] || null, duplicate: old?.has(start + j) ?? false })),
        );
      });
      for (const c of cursors) for (const d of c.done) d();
      if (m.maxSeqByApp.length > 0) this.onCommitted(m.maxSeqByApp);
    }
    // Through schedule(), so the emits that the resolved callers make next join this batch.
    if (this.hasWork()) this.schedule();
    else if (this.inFlight.size === 0) for (const f of this.idle.splice(0)) f();
  }

  private die(e: Error): void {
    if (this.fatal) return;
    this.fatal = new StoreError(`SQLite writer thread failed: ${e.message}`, e);
    this.closing?.();
    const flights = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const c of [...flights.flatMap((f) => f.calls), ...this.queue.splice(0)]) c.reject(this.fatal);
    for (const c of [...flights.flatMap((f) => f.cursors), ...this.cursors.values()]) for (const f of c.fail) f(this.fatal);
    for (const o of [...flights.flatMap((f) => f.ops), ...this.ops.splice(0)]) o.reject(this.fatal);
    this.cursors.clear();
    for (const f of this.idle.splice(0)) f();
  }
}

function tsxApiUrl(): string {
  // import.meta.resolve is missing under some test runners' module loaders; there the working directory is the repo.
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  try {
    return resolve ? resolve("tsx/esm/api") : "tsx/esm/api";
  } catch {
    return "tsx/esm/api";
  }
}
