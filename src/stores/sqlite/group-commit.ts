import type Database from "better-sqlite3";
import { StoreError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import type { AppendStatements } from "./statements.js";

interface PendingCall {
  inputs: readonly AppendInput[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: every append and cursor save requested during one turn of the event loop is
 * written in a single IMMEDIATE transaction, so concurrent emitters share one fsync.
 * better-sqlite3 is synchronous; batching is what keeps the event loop free.
 */
export class GroupCommitWriter {
  private calls: PendingCall[] = [];
  private cursors = new Map<string, { app: string; name: string; seq: number; waiters: (() => void)[]; fail: ((e: unknown) => void)[] }>();
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly stmts: AppendStatements,
    private readonly saveCursorStmt: Database.Statement,
    private readonly onCommitted: (maxSeqByApp: Map<string, number>) => void,
    private readonly maxBatch = 4096,
  ) {}

  append(inputs: readonly AppendInput[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.calls.push({ inputs, resolve, reject });
      this.schedule();
    });
  }

  saveCursor(app: string, name: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${app}\u0000${name}`;
      const c = this.cursors.get(key);
      if (c) {
        c.seq = Math.max(c.seq, seq);
        c.waiters.push(resolve);
        c.fail.push(reject);
      } else this.cursors.set(key, { app, name, seq, waiters: [resolve], fail: [reject] });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is committed or failed. */
  drain(): Promise<void> {
    if (!this.scheduled && this.calls.length === 0 && this.cursors.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const calls = this.takeCalls();
    const cursors = [...this.cursors.values()];
    this.cursors.clear();
    const maxSeqByApp = new Map<string, number>();
    const outcomes: ({ ok: AppendResult[] } | { err: unknown })[] = [];
    try {
      const run = this.db.transaction(() => {
        outcomes.length = 0;
        maxSeqByApp.clear();
        this.writeCalls(calls, outcomes, maxSeqByApp);
        const now = Date.now();
        for (const c of cursors) this.saveCursorStmt.run(c.app, c.name, c.seq, now, c.seq, now);
      });
      run.immediate();
    } catch (e) {
      const err = new StoreError("SQLite write failed; nothing in this batch was recorded", e);
      for (const c of calls) c.reject(err);
      for (const c of cursors) for (const f of c.fail) f(err);
      this.afterFlush();
      return;
    }
    calls.forEach((c, i) => {
      const o = outcomes[i]!;
      if ("ok" in o) c.resolve(o.ok);
      else c.reject(o.err);
    });
    for (const c of cursors) for (const w of c.waiters) w();
    if (maxSeqByApp.size > 0) this.onCommitted(maxSeqByApp);
    this.afterFlush();
  }

  private afterFlush(): void {
    this.scheduled = false;
    if (this.calls.length > 0 || this.cursors.size > 0) this.schedule();
    else for (const f of this.idle.splice(0)) f();
  }

  private takeCalls(): PendingCall[] {
    let n = 0;
    let i = 0;
    while (i < this.calls.length && (n === 0 || n + this.calls[i]!.inputs.length <= this.maxBatch)) n += this.calls[i++]!.inputs.length;
    return this.calls.splice(0, i);
  }

  /** A call is all-or-nothing: an idempotency conflict in it fails that call only. */
  private writeCalls(calls: PendingCall[], outcomes: ({ ok: AppendResult[] } | { err: unknown })[], maxSeqByApp: Map<string, number>): void {
    const seen = new Map<string, AppendInput>();
    const plans: ((AppendResult | "alias" | undefined)[] | undefined)[] = calls.map((c, i) => {
      try {
        return this.stmts.resolveDuplicates(c.inputs, seen);
      } catch (err) {
        outcomes[i] = { err };
        // ids this failed call registered must not alias later calls to an event never written
        for (const input of c.inputs) if (seen.get(input.id) === input) seen.delete(input.id);
        return undefined;
      }
    });
    const fresh: AppendInput[] = [];
    plans.forEach((plan, i) => {
      if (!plan) return;
      calls[i]!.inputs.forEach((input, j) => {
        if (plan[j] === undefined) fresh.push(input);
      });
    });
    const inserted = new Map<string, AppendResult>();
    for (const r of this.stmts.insertFresh(fresh)) inserted.set(r.id, r);
    for (const input of fresh) {
      const r = inserted.get(input.id)!;
      maxSeqByApp.set(input.app_id, Math.max(maxSeqByApp.get(input.app_id) ?? 0, r.seq));
    }
    plans.forEach((plan, i) => {
      if (!plan) return;
      outcomes[i] = {
        ok: calls[i]!.inputs.map((input, j) => {
          const p = plan[j];
          if (p === "alias") return { ...inserted.get(input.id)!, duplicate: true };
          return p ?? inserted.get(input.id)!;
        }),
      };
    });
  }
}
