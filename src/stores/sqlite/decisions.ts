import Database from "better-sqlite3";
import { InvalidQueryError, StoreError } from "../../core/errors.js";
import type { DecisionRecord } from "../../core/hooks/decision.js";
import type { DecisionQuery, DecisionStore } from "../../core/ports/decisions.js";
import type { WriterClient } from "./writer-client.js";

/**
 * The decision ledger on SQLite (migration 2). The whole record is kept as JSON; the columns and
 * the per-hook answer table exist only for filtering.
 *
 * It has its own connection, opened on first use, with synchronous=NORMAL: ledger batches are
 * committed from the main thread, and an fsync per batch there would stall every request (the
 * event log commits on the writer thread for the same reason). In WAL mode such commits are
 * durable at the next checkpoint (mostly run by the event writer; rarely, when the WAL passes its
 * threshold, by this connection): a power cut can lose the last ledger records, never an event.
 * Batches come from the DecisionRecorder. With a `writer` (the store's writer thread), batches are
 * written there instead, inside the group-commit transactions: faster, and as durable as events.
 */
export function createSqliteDecisionStore(
  filename: string,
  options: { busyTimeoutMs?: number; writer?: Pick<WriterClient, "op"> } = {},
): DecisionStore & { close(): void } {
  let conn: ReturnType<typeof open> | undefined;
  let closed = false;

  function open() {
    const db = new Database(filename);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma("synchronous = NORMAL");
    const insert = db.prepare(
      "INSERT INTO hook_decisions (id, app_id, event_id, type, decision, any_error, at_ms, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    const insertAnswer = db.prepare("INSERT INTO hook_decision_answers (app_id, hook_id, decision_pos, outcome) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
    const posOf = db.prepare("SELECT pos FROM hook_decisions WHERE app_id = ? AND id = ?");
    const write = db.transaction((records: readonly DecisionRecord[]) => {
      for (const r of records) {
        const info = insert.run(r.id, r.app_id, r.event_id, r.type, r.decision, r.hooks.some((h) => h.outcome === "error") ? 1 : 0, Date.parse(r.at), JSON.stringify(r));
        if (info.changes === 0) continue;
        for (const h of r.hooks) insertAnswer.run(r.app_id, h.hook_id, info.lastInsertRowid, h.outcome);
      }
    });
    return { db, write, posOf };
  }

  function connection() {
    if (closed) throw new StoreError("The decision ledger is closed");
    try {
      conn ??= open();
    } catch (e) {
      throw new StoreError(`Cannot open the decision ledger: ${(e as Error).message}`, e);
    }
    return conn;
  }

  return {
    async recordDecisions(records) {
      if (records.length === 0) return;
      if (options.writer) {
        try {
          await options.writer.op("recordDecisions", { records: [...records] });
        } catch (e) {
          throw new StoreError(`Cannot record ${records.length} hook decision(s): ${(e as Error).message}`, e);
        }
        return;
      }
      const { write } = connection();
      try {
        // IMMEDIATE: take the write lock up front so a concurrent writer makes us wait (busy_timeout), not fail mid-transaction.
        write.immediate(records);
      } catch (e) {
        throw new StoreError(`Cannot record ${records.length} hook decision(s): ${(e as Error).message}`, e);
      }
    },

    async queryDecisions(q: DecisionQuery) {
      const { db, posOf } = connection();
      const where = ["d.app_id = ?"];
      const params: unknown[] = [q.app_id];
      let from = "hook_decisions d";
      if (q.hook_id !== undefined) {
        from += " JOIN hook_decision_answers a ON a.app_id = d.app_id AND a.decision_pos = d.pos AND a.hook_id = ?";
        params.unshift(q.hook_id);
        if (q.outcome !== undefined) (where.push("a.outcome = ?"), params.push(q.outcome));
      } else if (q.outcome === "error") where.push("d.any_error = 1");
      else if (q.outcome !== undefined) (where.push("d.decision = ?"), params.push(q.outcome));
      if (q.type !== undefined) (where.push("d.type = ?"), params.push(q.type));
      if (q.after !== undefined) {
        const row = posOf.get(q.app_id, q.after) as { pos: number } | undefined;
        if (!row) throw new InvalidQueryError(`after: no decision ${JSON.stringify(q.after)} in this app`);
        where.push("d.pos > ?");
        params.push(row.pos);
      }
      params.push(q.limit);
      const rows = db.prepare(`SELECT d.record FROM ${from} WHERE ${where.join(" AND ")} ORDER BY d.pos LIMIT ?`).all(...params) as { record: string }[];
      return rows.map((r) => JSON.parse(r.record) as DecisionRecord);
    },

    close() {
      closed = true;
      conn?.db.close();
      conn = undefined;
    },
  };
}
