/**
 * The writing side of group commit: applies batches on its own connection and keeps the lazy
 * by-user index up to date. It runs either in a worker thread (writer-thread.ts) or inline on the
 * main thread; the protocol is the same messages either way.
 */
import Database from "better-sqlite3";
import type { AppendInput } from "../../core/ports/store.js";
import { AppendStatements } from "./statements.js";
import { UserIndexer } from "./user-index.js";
import { SAVE_CURSOR_SQL, writeBatch, type CallOutcome, type CursorSave, type OpOutcome, type OpRegistry, type WriterOp } from "./write-batch.js";
import { createDeliveryOps } from "./delivery-ops.js";

export interface WriterInit {
  filename: string;
  synchronous: string;
  busyTimeoutMs: number;
}

export type ToWriter = { kind: "batch"; id: number; calls: AppendInput[][]; cursors: CursorSave[]; ops: WriterOp[] } | { kind: "close" };

export type FromWriter =
  | { kind: "ready" }
  | { kind: "done"; id: number; outcomes: CallOutcome[]; maxSeqByApp: [string, number][]; opResults: OpOutcome[] }
  | { kind: "failed"; id: number; message: string; code?: string }
  | { kind: "fatal"; message: string }
  | { kind: "closed" };

/** Index in chunks this large; smaller backlogs wait for an idle moment. */
const INDEX_CHUNK = 32_768;
const INDEX_IDLE_MS = 25;

export function createWriter(init: WriterInit, post: (m: FromWriter) => void): (m: ToWriter) => void {
  let db: Database.Database;
  try {
    db = new Database(init.filename);
    db.pragma(`busy_timeout = ${init.busyTimeoutMs}`);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${init.synchronous}`);
  } catch (e) {
    post({ kind: "fatal", message: (e as Error).message });
    return () => undefined;
  }
  const stmts = new AppendStatements(db, true);
  const saveCursor = db.prepare(SAVE_CURSOR_SQL);
  const indexer = new UserIndexer(db);
  const registry = createDeliveryOps(db) as unknown as OpRegistry;
  let idleTimer: NodeJS.Timeout | undefined;
  const indexAll = () => {
    try {
      while (indexer.run(INDEX_CHUNK) === INDEX_CHUNK);
    } catch {
      // Indexing resumes from index_state on a later pass; nothing is lost.
    }
  };

  post({ kind: "ready" });
  return (msg) => {
    if (msg.kind === "close") {
      clearTimeout(idleTimer);
      indexAll();
      db.close();
      post({ kind: "closed" });
      return;
    }
    try {
      const r = writeBatch(db, stmts, saveCursor, msg.calls, msg.cursors, msg.ops, registry);
      post({ kind: "done", id: msg.id, outcomes: r.outcomes, maxSeqByApp: r.maxSeqByApp, opResults: r.opResults });
    } catch (e) {
      const err = e as Error & { code?: string };
      post({ kind: "failed", id: msg.id, message: err.message, code: err.code });
    }
    try {
      if (indexer.backlog() >= INDEX_CHUNK) indexer.run(INDEX_CHUNK);
    } catch {
      /* retried when idle */
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(indexAll, INDEX_IDLE_MS);
    idleTimer.unref?.();
  };
}
