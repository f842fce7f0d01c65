/**
 * The writing side of group commit: applies batches on its own connection and keeps the lazy
 * by-user and by-type indexes up to date. It runs either in a worker thread (writer-thread.ts) or
 * inline on the main thread; the protocol is the same messages either way.
 */
import Database from "better-sqlite3";
import type { AppendInput } from "../../core/ports/store.js";
import { AppendStatements } from "./statements.js";
import { LazyIndexer } from "./lazy-index.js";
import { SAVE_CURSOR_SQL, writeBatch, type BatchResult, type CursorSave, type OpRegistry, type WriterOp } from "./write-batch.js";
import { createDeliveryOps } from "./delivery-ops.js";

export interface WriterInit {
  filename: string;
  synchronous: string;
  busyTimeoutMs: number;
}

/**
 * A batch's events travel as one flat array, EVENT_FIELDS values per event, and `sizes` (events
 * per call): cloning plain values costs a quarter of cloning one object per event.
 */
export type ToWriter = { kind: "batch"; id: number; events: unknown[]; sizes: number[]; cursors: CursorSave[]; ops: WriterOp[] } | { kind: "close" };

export const EVENT_FIELDS = 8;

/** Appends `inputs` to a flat batch (the order unpack() reads them back in). */
export function pack(out: unknown[], inputs: readonly AppendInput[]): void {
  for (const i of inputs) out.push(i.id, i.callerId, i.app_id, i.type, i.user_id, i.timestamp, i.payloadJson, i.contextJson);
}

function unpack(events: unknown[], sizes: number[]): AppendInput[][] {
  const calls: AppendInput[][] = [];
  let f = 0;
  for (const n of sizes) {
    const call: AppendInput[] = [];
    for (let k = 0; k < n; k++, f += EVENT_FIELDS) {
      call.push({
        id: events[f] as string,
        callerId: events[f + 1] as boolean,
        app_id: events[f + 2] as string,
        type: events[f + 3] as string,
        user_id: events[f + 4] as string | undefined,
        timestamp: events[f + 5] as number,
        payloadJson: events[f + 6] as string,
        contextJson: events[f + 7] as string,
      });
    }
    calls.push(call);
  }
  return calls;
}

export type FromWriter =
  | { kind: "ready" }
  | ({ kind: "done"; id: number } & BatchResult)
  | { kind: "failed"; id: number; message: string; code?: string }
  | { kind: "fatal"; message: string }
  | { kind: "closed" };

/** Index in chunks this large; smaller backlogs wait for an idle moment. */
const INDEX_CHUNK = 32_768;
const INDEX_IDLE_MS = 25;
/**
 * Subject counters are folded in smaller chunks than the indexes: a transactional emit scans the
 * unfolded tail for its user (~0.15 µs per event: this plus one batch, 1–2 ms at most). Folding
 * every 1,024 events cost the writer about what writing the counters in each commit did.
 */
const COUNTER_CHUNK = 8192;
/**
 * SQLite's autocheckpoint (every 1,000 WAL pages) runs inside the commit that crosses the limit, so
 * the emits of that batch wait for it. We checkpoint after answering a batch once the WAL has grown
 * by about this much, and when idle. About SQLite's own limit: other connections (a caller's
 * transactional emit, another process) keep their autocheckpoint and would otherwise find a large
 * WAL to copy inside their commit. 16 and 64 MB measured no faster here.
 */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;
/**
 * Rough WAL bytes per event beyond its JSON (other columns, index entries) and per commit (whole
 * pages: the tables' last pages, counters, B-tree interiors), fitted to measured WAL frame counts.
 */
const EVENT_OVERHEAD_BYTES = 160;
const COMMIT_OVERHEAD_BYTES = 64 * 1024;

export function createWriter(init: WriterInit, post: (m: FromWriter) => void): (m: ToWriter) => void {
  let db: Database.Database;
  try {
    db = new Database(init.filename);
    db.pragma(`busy_timeout = ${init.busyTimeoutMs}`);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${init.synchronous}`);
    db.pragma("wal_autocheckpoint = 0");
  } catch (e) {
    post({ kind: "fatal", message: (e as Error).message });
    return () => undefined;
  }
  const stmts = new AppendStatements(db, true);
  const saveCursor = db.prepare(SAVE_CURSOR_SQL);
  const indexer = new LazyIndexer(db);
  const registry = createDeliveryOps(db) as unknown as OpRegistry;
  let idleTimer: NodeJS.Timeout | undefined;
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  let walBytes = 0;
  const checkpointNow = () => {
    walBytes = 0;
    try {
      // PASSIVE never waits for readers; pages a reader still needs are copied by a later checkpoint.
      checkpoint.get();
    } catch {
      /* retried at the next idle moment or size limit */
    }
  };
  const indexAll = () => {
    try {
      while (indexer.run(INDEX_CHUNK) === INDEX_CHUNK);
    } catch {
      // Indexing resumes from index_state on a later pass; nothing is lost.
    }
    checkpointNow();
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
      const r = writeBatch(db, stmts, saveCursor, unpack(msg.events, msg.sizes), msg.cursors, msg.ops, registry);
      post({ kind: "done", id: msg.id, ...r });
      walBytes += walEstimate(msg.events, msg.ops.length + msg.cursors.length);
    } catch (e) {
      const err = e as Error & { code?: string };
      post({ kind: "failed", id: msg.id, message: err.message, code: err.code });
    }
    try {
      if (indexer.backlog() >= INDEX_CHUNK) indexer.run(INDEX_CHUNK);
      const counters = indexer.backlog("subject_counters");
      if (counters >= COUNTER_CHUNK) indexer.run(counters, "subject_counters");
    } catch {
      /* retried when idle */
    }
    if (walBytes >= CHECKPOINT_BYTES) checkpointNow();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(indexAll, INDEX_IDLE_MS);
    idleTimer.unref?.();
  };
}

function walEstimate(events: unknown[], others: number): number {
  let bytes = COMMIT_OVERHEAD_BYTES + others * 4096;
  for (let f = 0; f < events.length; f += EVENT_FIELDS) bytes += EVENT_OVERHEAD_BYTES + (events[f + 6] as string).length + (events[f + 7] as string).length;
  return bytes;
}
