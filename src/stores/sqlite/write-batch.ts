import type Database from "better-sqlite3";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import type { AppendStatements } from "./statements.js";

export interface CursorSave {
  app: string;
  name: string;
  seq: number;
}

/** Per call: its results, or the error that failed the whole call (all-or-nothing per call). */
export type CallOutcome = { ok: AppendResult[] } | { err: { code: string; message: string; id?: string } };

export interface BatchResult {
  outcomes: CallOutcome[];
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
  const outcomes: CallOutcome[] = [];
  const opResults: OpOutcome[] = [];
  const maxSeqByApp = new Map<string, number>();
  const tx = db.transaction(() => {
    outcomes.length = 0;
    maxSeqByApp.clear();
    const seen = new Map<string, AppendInput>();
    const plans = calls.map((inputs, i) => {
      try {
        return stmts.resolveDuplicates(inputs, seen);
      } catch (e) {
        const err = e as Error & { code?: string; id?: string };
        outcomes[i] = { err: { code: err.code ?? "store_failed", message: err.message, id: err.id } };
        // ids this failed call registered must not alias later calls to an event never written
        for (const input of inputs) if (seen.get(input.id) === input) seen.delete(input.id);
        return undefined;
      }
    });
    const fresh: AppendInput[] = [];
    plans.forEach((plan, i) => plan && calls[i]!.forEach((input, j) => plan[j] === undefined && fresh.push(input)));
    const inserted = new Map<string, AppendResult>();
    for (const r of stmts.insertFresh(fresh)) inserted.set(r.id, r);
    for (const input of fresh) {
      const seq = inserted.get(input.id)!.seq;
      if (seq > (maxSeqByApp.get(input.app_id) ?? 0)) maxSeqByApp.set(input.app_id, seq);
    }
    plans.forEach((plan, i) => {
      if (!plan) return;
      outcomes[i] = {
        ok: calls[i]!.map((input, j) => {
          const p = plan[j];
          if (p === "alias") return { ...inserted.get(input.id)!, duplicate: true };
          return p ?? inserted.get(input.id)!;
        }),
      };
    });
    const now = Date.now();
    for (const c of cursors) saveCursor.run(c.app, c.name, c.seq, now, c.seq, now);
    opResults.length = 0;
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
  return { outcomes, maxSeqByApp: [...maxSeqByApp], opResults };
}

export const SAVE_CURSOR_SQL =
  "INSERT INTO consumers (app_id, name, cursor_seq, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (app_id, name) DO UPDATE SET cursor_seq = max(cursor_seq, ?), updated_at = ?";
