import type Database from "better-sqlite3";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import type { AppendStatements } from "./statements.js";

export interface CursorSave {
  app: string;
  name: string;
  seq: number;
}

export interface CallError {
  code: string;
  message: string;
  id?: string;
}

/**
 * Flat and compact, because it crosses the thread boundary on every batch: the client knows each
 * event's id and call, so per event only the two numbers come back.
 */
export interface BatchResult {
  /** Per event of the batch, in call order (0 for the events of a failed call). */
  seqs: Float64Array;
  /** Per event; 0 when the event has no user. */
  subjectSeqs: Float64Array;
  /** Flat positions of events answered with an existing event (idempotent retry). */
  duplicates: number[];
  /** Calls that failed alone (all-or-nothing per call), by call index. */
  failed: [number, CallError][];
  maxSeqByApp: [string, number][];
  opResults: OpOutcome[];
}

/** A named write that rides in the batch (delivery bookkeeping); it fails alone, in its own savepoint. */
export interface WriterOp {
  name: string;
  args: unknown;
}
export type OpOutcome = { ok: unknown } | { err: { code: string; message: string } };
export type OpRegistry = Record<string, (args: never) => unknown>;

/**
 * Writes one group-commit batch in a single IMMEDIATE transaction: every call's events and the
 * cursor saves. A call with an idempotency conflict fails alone; the others commit.
 */
export function writeBatch(
  db: Database.Database,
  stmts: AppendStatements,
  saveCursor: Database.Statement,
  calls: readonly (readonly AppendInput[])[],
  cursors: readonly CursorSave[],
  ops: readonly WriterOp[] = [],
  registry: OpRegistry = {},
): BatchResult {
  let total = 0;
  let callerIds = false;
  for (const c of calls) {
    total += c.length;
    for (const i of c) if (i.callerId) callerIds = true;
  }
  const seqs = new Float64Array(total);
  const subjectSeqs = new Float64Array(total);
  const duplicates: number[] = [];
  const failed: [number, CallError][] = [];
  const maxSeqByApp = new Map<string, number>();
  let opResults: OpOutcome[] = [];
  const tx = db.transaction(() => {
    // Generated ids cannot collide with anything: no look-ups, one multi-row insert run.
    if (!callerIds) {
      if (total > 0) stmts.insertFreshInto(calls.length === 1 ? calls[0]! : calls.flat(), seqs, subjectSeqs);
    } else withCallerIds(stmts, calls, seqs, subjectSeqs, duplicates, failed);
    const old = duplicates.length > 0 ? new Set(duplicates) : undefined;
    let at = 0;
    for (const c of calls)
      for (const input of c) {
        const seq = seqs[at]!;
        if (seq > (maxSeqByApp.get(input.app_id) ?? 0) && !old?.has(at)) maxSeqByApp.set(input.app_id, seq);
        at++;
      }
    const now = Date.now();
    for (const c of cursors) saveCursor.run(c.app, c.name, c.seq, now, c.seq, now);
    opResults = [];
    for (const op of ops) {
      const fn = registry[op.name];
      try {
        if (!fn) throw new Error(`unknown writer op ${op.name}`);
        opResults.push({ ok: db.transaction(() => fn(op.args as never))() });
      } catch (e) {
        const err = e as Error & { code?: string };
        opResults.push({ err: { code: err.code ?? "store_failed", message: err.message } });
      }
    }
  });
  try {
    tx.immediate();
  } catch (e) {
    stmts.invalidate();
    throw e;
  }
  return { seqs, subjectSeqs, duplicates, failed, maxSeqByApp: [...maxSeqByApp], opResults };
}

/** The general path: caller-chosen ids may repeat earlier events or each other. */
function withCallerIds(
  stmts: AppendStatements,
  calls: readonly (readonly AppendInput[])[],
  seqs: Float64Array,
  subjectSeqs: Float64Array,
  duplicates: number[],
  failed: [number, CallError][],
): void {
  const seen = new Map<string, AppendInput>();
  const offsets: number[] = [];
  let off = 0;
  const plans = calls.map((inputs, i) => {
    offsets.push(off);
    off += inputs.length;
    try {
      return stmts.resolveDuplicates(inputs, seen);
    } catch (e) {
      const err = e as Error & { code?: string; id?: string };
      failed.push([i, { code: err.code ?? "store_failed", message: err.message, id: err.id }]);
      // ids this failed call registered must not alias later calls to an event never written
      for (const input of inputs) if (seen.get(input.id) === input) seen.delete(input.id);
      return undefined;
    }
  });
  const fresh: AppendInput[] = [];
  const freshAt: number[] = [];
  plans.forEach((plan, i) =>
    plan?.forEach((p, j) => {
      if (p === undefined) (fresh.push(calls[i]![j]!), freshAt.push(offsets[i]! + j));
    }),
  );
  const fs = new Float64Array(fresh.length);
  const fss = new Float64Array(fresh.length);
  stmts.insertFreshInto(fresh, fs, fss);
  const atById = new Map<string, number>();
  fresh.forEach((input, k) => {
    const at = freshAt[k]!;
    seqs[at] = fs[k]!;
    subjectSeqs[at] = fss[k]!;
    atById.set(input.id, at);
  });
  plans.forEach((plan, i) =>
    plan?.forEach((p, j) => {
      if (p === undefined) return;
      const at = offsets[i]! + j;
      const src = p === "alias" ? atById.get(calls[i]![j]!.id)! : undefined;
      seqs[at] = src === undefined ? (p as AppendResult).seq : seqs[src]!;
      subjectSeqs[at] = src === undefined ? ((p as AppendResult).subject_seq ?? 0) : subjectSeqs[src]!;
      duplicates.push(at);
    }),
  );
}

export const SAVE_CURSOR_SQL =
  "INSERT INTO consumers (app_id, name, cursor_seq, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (app_id, name) DO UPDATE SET cursor_seq = max(cursor_seq, ?), updated_at = ?";
