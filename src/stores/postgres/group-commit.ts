import type pg from "pg";
import { StoreError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import { appendCalls, committedEarlier, type AppendOutcome } from "./append.js";
import { appendFresh, freshCommitted } from "./append-fresh.js";
import { checkout, isConnectionError, isTransient, sqlOn, sqlState, waitToRetry, type Patience } from "./connection.js";

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
  /** How long a batch waits for a lost server to come back. */
  patience: Patience;
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
      const unknown = e instanceof OutcomeUnknown;
      const cause = unknown ? e.cause : e;
      for (const c of calls) {
        c.reject(
          unknown
            ? new StoreError(`PostgreSQL became unreachable while committing; these events may or may not be recorded (ids ${c.inputs.map((i) => i.id).join(", ")}): ${(cause as Error).message}`, cause)
            : new StoreError(`PostgreSQL write failed; nothing in this batch was recorded: ${(cause as Error).message}`, cause),
        );
      }
      return;
    }
    if (result.maxSeqByApp.size > 0) this.o.onCommitted(result.maxSeqByApp);
    result.outcomes.forEach((o, i) => ("ok" in o ? calls[i]!.resolve(o.ok) : calls[i]!.reject(o.err)));
  }

  /**
   * One transaction per attempt (one statement when no call chose its ids: appendFresh). A lost
   * connection (server restart, network) is waited out for up to the store's patience, then the batch
   * is tried again; SQL-level conflicts retry a few times.
   *
   * Why a retry never records an event twice: a connection lost before COMMIT was sent means the
   * server rolled the transaction back, so the retry starts from scratch. A connection lost *during*
   * COMMIT (or during the single fast-path statement, which commits as it ends) leaves the outcome
   * unknown: the server may have committed and died before answering. Blindly writing again would
   * then either fail on the unique id or, worse, take new seqs. So the next attempt first asks the
   * database whether the earlier one committed, under the apps' counter locks (so a still-running
   * server process of that attempt has finished): every id it inserted present with the seq it was
   * given (committedEarlier), or, for the fast path, every id of the batch present (freshCommitted).
   * If so, the callers get exactly that answer and nothing is written; if not, the batch is appended
   * afresh in the same transaction. Seqs stay gap-free and each event is in the log once, whichever
   * way the COMMIT went. Should the patience run out before the database can be asked, the callers
   * are told the outcome is unknown, never that nothing was recorded.
   */
  private async write(calls: (readonly AppendInput[])[]): Promise<AppendOutcome> {
    const fast = calls.every((c) => c.every((i) => !i.callerId));
    let unsure: { fast: true } | { fast: false; outcome: AppendOutcome } | undefined;
    let deadline: number | undefined;
    let conflicts = 0;
    for (let attempt = 0; ; attempt++) {
      let client;
      try {
        client = await checkout(this.o.pool, this.o.patience, deadline);
      } catch (e) {
        throw unsure ? new OutcomeUnknown(e) : e;
      }
      const tx = sqlOn(client);
      let sentFast = false;
      let computed: AppendOutcome | undefined;
      try {
        if (fast && !unsure) {
          sentFast = true;
          const outcome = await appendFresh(tx, this.o.s, this.o.schema, calls);
          client.release();
          return outcome;
        }
        await tx.exec("BEGIN");
        if (unsure) {
          const earlier = unsure.fast ? await freshCommitted(tx, this.o.s, calls) : (await committedEarlier(tx, this.o.s, calls, unsure.outcome)) ? unsure.outcome : undefined;
          if (earlier) {
            await tx.exec("ROLLBACK");
            client.release();
            return earlier;
          }
          unsure = undefined;
        }
        const outcome = await appendCalls(tx, this.o.s, this.o.schema, calls);
        computed = outcome;
        await tx.exec("COMMIT");
        client.release();
        return outcome;
      } catch (e) {
        const broken = isConnectionError(e);
        if (!broken && !sentFast) await client.query("ROLLBACK").catch(() => undefined);
        client.release(broken ? (e as Error) : undefined);
        if (isTransient(e)) {
          // Lost while the fast statement ran, or during COMMIT (appendCalls had returned).
          if (sentFast) unsure = { fast: true };
          else if (computed) unsure = { fast: false, outcome: computed };
          deadline ??= Date.now() + this.o.patience.timeoutMs;
          if (await waitToRetry(e, attempt, deadline, this.o.patience)) continue;
          throw unsure ? new OutcomeUnknown(e) : e;
        }
        if (++conflicts >= MAX_TRIES || !RETRYABLE.has(sqlState(e) ?? "")) throw unsure ? new OutcomeUnknown(e) : e;
        await new Promise((r) => setTimeout(r, conflicts * 5 * Math.random()));
      }
    }
  }
}

/** A batch whose last known state is "COMMIT sent, no answer": its callers must not be told "nothing recorded". */
class OutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super("commit outcome unknown", { cause });
  }
}
