import Database from "better-sqlite3";
import path from "node:path";
import { compilePattern } from "../../core/pattern.js";
import { keepStoredJson } from "../../core/formats/native.js";
import { StoreError, TransactionRequiredError } from "../../core/errors.js";
import type { Envelope } from "../../core/envelope.js";
import type { AppendInput, AppendResult, EventQuery, EventStore, TransactionHandle } from "../../core/ports/store.js";
import { migrate } from "./migrations.js";
import { unindexedFrom, type LazyIndexName } from "./lazy-index.js";
import { AppendStatements } from "./statements.js";
import { WriterClient } from "./writer-client.js";
import { BETTER_SQLITE3_TX } from "./transaction.js";
import { createSqliteDecisionStore } from "./decisions.js";
import { createSqliteDeliveryStore } from "./delivery-store.js";
import type { DeliveryStore } from "../../core/ports/deliveries.js";
import type { DecisionStore } from "../../core/ports/decisions.js";
import type { TenancyStore } from "../../core/ports/tenancy.js";
import { createSqliteTenancyStore } from "./tenancy-store.js";

export type SqliteSynchronous = "FULL" | "NORMAL" | "EXTRA";

export interface SqliteStoreOptions {
  /** File path, or ":memory:" (tests only: nothing survives the process). */
  filename: string;
  /** FULL (default) syncs the WAL on every commit: acknowledged events survive power loss. */
  synchronous?: SqliteSynchronous;
  busyTimeoutMs?: number;
  /** Commit on a worker thread (default true) so fsyncs never block the event loop. */
  writerThread?: boolean;
}

interface EventRow {
  id: string;
  seq: number;
  subject_seq: number | null;
  type: string;
  payload: string;
  context: string;
}

const COLUMNS = "id, seq, subject_seq, type, payload, context";

export function createSqliteStore(
  options: SqliteStoreOptions,
): EventStore & { readonly filename: string; readonly decisions: DecisionStore; readonly deliveries: DeliveryStore; readonly tenancy: TenancyStore; ping(): Promise<void> } {
  const filename = options.filename === ":memory:" ? ":memory:" : path.resolve(options.filename);
  if (filename === ":memory:") {
    throw new StoreError("An in-memory SQLite database cannot be shared with the writer thread; use a file (a temp file in tests)");
  }
  let db: Database.Database;
  try {
    db = new Database(filename);
    configure(db, options);
    migrate(db);
  } catch (e) {
    throw new StoreError(`Cannot open SQLite database ${filename}: ${(e as Error).message}`, e);
  }
  const matchers = new Map<string, (t: string) => boolean>();
  db.function("authbus_match", { deterministic: true }, (pattern: unknown, type: unknown) => {
    let m = matchers.get(String(pattern));
    if (!m) matchers.set(String(pattern), (m = compilePattern(String(pattern))));
    return m(String(type)) ? 1 : 0;
  });

  const listeners = new Set<(app: string, seq: number) => void>();
  const notify = (byApp: Map<string, number>) => {
    for (const [app, seq] of byApp) for (const l of listeners) l(app, seq);
  };
  const writer = new WriterClient(
    { filename, synchronous: options.synchronous ?? "FULL", busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
    (byApp) => notify(new Map(byApp)),
    options.writerThread ?? true,
  );
  const statements = new Map<string, Database.Statement>();
  const callerStatements = new WeakMap<Database.Database, AppendStatements>();
  const getById = db.prepare(`SELECT ${COLUMNS} FROM events WHERE app_id = ? AND id = ?`);
  const head = db.prepare("SELECT last_seq FROM app_counters WHERE app_id = ?");
  const readCursor = db.prepare("SELECT cursor_seq FROM consumers WHERE app_id = ? AND name = ?");
  const createCursor = db.prepare(
    "INSERT INTO consumers (app_id, name, cursor_seq, updated_at) SELECT ?, ?, coalesce((SELECT last_seq FROM app_counters WHERE app_id = ?), 0), ? ON CONFLICT DO NOTHING",
  );
  let closed = false;

  const decisions = createSqliteDecisionStore(filename, { busyTimeoutMs: options.busyTimeoutMs, writer });
  return {
    kind: "sqlite",
    filename,
    decisions,
    deliveries: createSqliteDeliveryStore(db, writer),
    tenancy: createSqliteTenancyStore(db),
    async ping() {
      if (closed) throw new StoreError("The store is closed");
      try {
        db.prepare("SELECT count(*) FROM authbus_migrations").get();
      } catch (e) {
        throw new StoreError(`The database is not reachable: ${(e as Error).message}`, e);
      }
    },
    append: (inputs) => (inputs.length === 0 ? Promise.resolve([]) : writer.append(inputs)),

    appendInTransaction(tx: TransactionHandle, input: AppendInput): AppendResult {
      if (tx.kind !== BETTER_SQLITE3_TX) throw new TransactionRequiredError(`A ${tx.kind} transaction cannot be used with the SQLite store; use fromBetterSqlite3(db)`);
      const conn = tx.connection as Database.Database;
      if (!conn.open || !conn.inTransaction) throw new TransactionRequiredError("fromBetterSqlite3(db): the connection has no open transaction; call emit inside db.transaction(...)");
      if (path.resolve(conn.name) !== filename) throw new TransactionRequiredError(`fromBetterSqlite3(db): the connection is to ${conn.name}, not to the bus's database ${filename}`);
      let s = callerStatements.get(conn);
      if (!s) callerStatements.set(conn, (s = new AppendStatements(conn)));
      const seen = new Map<string, AppendInput>();
      const dup = s.resolveDuplicates([input], seen)[0];
      const result = dup && dup !== "alias" ? dup : s.insertFresh([input])[0]!;
      // The caller commits synchronously (better-sqlite3 transactions cannot await), so by the next turn it is visible.
      if (!result.duplicate) setImmediate(() => notify(new Map([[input.app_id, result.seq]])));
      return result;
    },

    async query(q: EventQuery): Promise<Envelope[]> {
      const [sql, params] = querySql(q);
      let stmt = statements.get(sql);
      if (!stmt) {
        // A query's text depends only on which filters it uses: a handful of shapes, each prepared once.
        if (statements.size >= 256) statements.clear();
        statements.set(sql, (stmt = db.prepare(sql)));
      }
      const rows = stmt.all(...params) as EventRow[];
      return q.forRendering ? rows.map(toRenderedEnvelope) : rows.map(toEnvelope);
    },

    async getEvent(app_id, id) {
      const row = getById.get(app_id, id) as EventRow | undefined;
      return row ? toEnvelope(row) : undefined;
    },

    async headSeq(app_id) {
      return (head.get(app_id) as { last_seq: number } | undefined)?.last_seq ?? 0;
    },

    async openCursor(app_id, consumer) {
      const existing = readCursor.get(app_id, consumer) as { cursor_seq: number } | undefined;
      if (existing) return existing.cursor_seq;
      createCursor.run(app_id, consumer, app_id, Date.now());
      return (readCursor.get(app_id, consumer) as { cursor_seq: number }).cursor_seq;
    },

    saveCursor: (app_id, consumer, seq) => writer.saveCursor(app_id, consumer, seq),

    onAppended(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      listeners.clear();
      decisions.close();
      db.close();
    },
  };
}

/**
 * By user or by exact types, the lazily built index plus the not yet indexed tail of `events`,
 * in one statement (one snapshot). Type patterns with wildcards test every row of the app anyway.
 * Exported for the query-plan test.
 */
export function querySql(q: EventQuery): [string, unknown[]] {
  const types = q.types && q.types.length > 0 ? q.types : undefined;
  const exact = types !== undefined && types.every((t) => !t.includes("*"));
  const filter = (e: string, withTypes: boolean): [string, unknown[]] => {
    const where = [`${e}app_id = ?`];
    const params: unknown[] = [q.app_id];
    if (types && withTypes) {
      const ors: string[] = [];
      const names = types.filter((t) => !t.includes("*"));
      if (names.length > 0) (ors.push(`${e}type IN (${names.map(() => "?").join(", ")})`), params.push(...names));
      for (const w of types.filter((t) => t.includes("*"))) (ors.push(`authbus_match(?, ${e}type) = 1`), params.push(w));
      where.push(`(${ors.join(" OR ")})`);
    }
    if (q.after_seq !== undefined) (where.push(`${e}seq > ?`), params.push(q.after_seq));
    if (q.since !== undefined) (where.push(`${e}timestamp >= ?`), params.push(q.since));
    if (q.until !== undefined) (where.push(`${e}timestamp < ?`), params.push(q.until));
    return [where.join(" AND "), params];
  };
  const cols = COLUMNS.split(", ").map((c) => `e.${c}`).join(", ");
  const [all, allParams] = filter("e.", true);
  // The tail is read by rowid range only: the `+` keeps SQLite from walking the app's whole
  // (app_id, seq) index instead, which reads every event of the app when the tail has few matches.
  const [tailFilter] = filter("+e.", true);
  const tail = (index: LazyIndexName, also = "") =>
    `SELECT * FROM (SELECT ${cols}, e.seq AS s FROM events e WHERE e.pos > ${unindexedFrom(index)} AND ${also}${tailFilter} ORDER BY e.seq LIMIT ?)`;
  if (q.user_id !== undefined) {
    const sql = `SELECT ${COLUMNS} FROM (
        SELECT * FROM (SELECT ${cols}, e.seq AS s FROM events e WHERE ${all} AND e.seq IN
          (SELECT seq FROM user_events WHERE app_id = ? AND user_id = ?) ORDER BY e.seq LIMIT ?)
        UNION ALL
        ${tail("user_events", "e.user_id = ? AND ")}
      ) ORDER BY s LIMIT ?`;
    return [sql, [...allParams, q.app_id, q.user_id, q.limit, q.user_id, ...allParams, q.limit, q.limit]];
  }
  if (!exact) return [`SELECT ${COLUMNS} FROM events e WHERE ${all} ORDER BY e.seq LIMIT ?`, [...allParams, q.limit]];
  // Driven by the index (CROSS JOIN keeps it the outer loop): a cursor over one type reads its next rows only.
  const [rest, restParams] = filter("e.", false);
  const sql = `SELECT ${COLUMNS} FROM (
      SELECT * FROM (SELECT ${cols}, t.seq AS s FROM type_events t CROSS JOIN events e ON e.app_id = t.app_id AND e.seq = t.seq
        WHERE t.app_id = ? AND t.type IN (${types.map(() => "?").join(", ")})${q.after_seq !== undefined ? " AND t.seq > ?" : ""} AND ${rest}
        ORDER BY t.seq LIMIT ?)
      UNION ALL
      ${tail("type_events")}
    ) ORDER BY s LIMIT ?`;
  const indexParams = [q.app_id, ...types, ...(q.after_seq !== undefined ? [q.after_seq] : []), ...restParams, q.limit];
  return [sql, [...indexParams, ...allParams, q.limit, q.limit]];
}

function configure(db: Database.Database, options: SqliteStoreOptions): void {
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (db.name !== ":memory:") {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (String(mode).toLowerCase() !== "wal") throw new Error(`could not enable WAL (journal_mode=${mode})`);
  }
  db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
  db.pragma("foreign_keys = ON");
  // The writer checkpoints when idle (writer-core.ts); a commit here must not block the event loop doing it.
  db.pragma("wal_autocheckpoint = 0");
}

/**
 * For EventQuery.forRendering: the caller renders the envelope and shares it with no one, so the
 * JSON is parsed only if a rendering other than `native` reads payload or context.
 */
function toRenderedEnvelope(r: EventRow): Envelope {
  let payload: unknown;
  let context: unknown;
  const e = {
    id: r.id,
    seq: r.seq,
    subject_seq: r.subject_seq,
    type: r.type,
    get payload() {
      return (payload ??= JSON.parse(r.payload));
    },
    get context() {
      return (context ??= JSON.parse(r.context));
    },
  } as unknown as Envelope;
  return keepStoredJson(e, r.payload, r.context);
}

function toEnvelope(r: EventRow): Envelope {
  return { id: r.id, seq: r.seq, subject_seq: r.subject_seq, type: r.type, payload: JSON.parse(r.payload), context: JSON.parse(r.context) } as Envelope;
}
