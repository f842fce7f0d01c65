import { InvalidQueryError } from "../../core/errors.js";
import type { DecisionRecord } from "../../core/hooks/decision.js";
import type { DecisionStore } from "../../core/ports/decisions.js";
import type { PgDb } from "./connection.js";

/**
 * The decision ledger on PostgreSQL: the same tables as on SQLite. A batch is one statement (the
 * decisions, then the per-hook answers of those actually inserted), so a retried batch is kept once.
 */
export function createPgDecisionStore(db: PgDb): DecisionStore {
  const s = db.s;
  return {
    async recordDecisions(records) {
      if (records.length === 0) return;
      const answers = records.flatMap((r) => r.hooks.map((h) => ({ id: r.id, hook: h.hook_id, outcome: h.outcome })));
      await db.exec(
        `WITH d AS (
           INSERT INTO ${s}.hook_decisions (id, app_id, event_id, type, decision, any_error, at_ms, record)
           SELECT r.id, r.app_id, r.event_id, r.type, r.decision, r.any_error, r.at_ms, r.record
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::bigint[], $8::json[]) WITH ORDINALITY
             AS r(id, app_id, event_id, type, decision, any_error, at_ms, record, ord)
           ORDER BY r.ord
           ON CONFLICT (id) DO NOTHING
           RETURNING id, app_id, pos)
         INSERT INTO ${s}.hook_decision_answers (app_id, hook_id, decision_pos, outcome)
         SELECT d.app_id, a.hook_id, d.pos, a.outcome FROM d JOIN unnest($9::text[], $10::text[], $11::text[]) AS a(decision_id, hook_id, outcome) ON a.decision_id = d.id
         ON CONFLICT DO NOTHING`,
        [
          records.map((r) => r.id), records.map((r) => r.app_id), records.map((r) => r.event_id), records.map((r) => r.type), records.map((r) => r.decision),
          records.map((r) => r.hooks.some((h) => h.outcome === "error")), records.map((r) => Date.parse(r.at)), records.map((r) => JSON.stringify(r)),
          answers.map((a) => a.id), answers.map((a) => a.hook), answers.map((a) => a.outcome),
        ],
      );
    },

    async queryDecisions(q) {
      const values: unknown[] = [q.app_id];
      const p = (v: unknown) => `$${values.push(v)}`;
      const where = ["d.app_id = $1"];
      let from = `${s}.hook_decisions d`;
      if (q.hook_id !== undefined) {
        from += ` JOIN ${s}.hook_decision_answers a ON a.app_id = d.app_id AND a.decision_pos = d.pos AND a.hook_id = ${p(q.hook_id)}`;
        if (q.outcome !== undefined) where.push(`a.outcome = ${p(q.outcome)}`);
      } else if (q.outcome === "error") where.push("d.any_error");
      else if (q.outcome !== undefined) where.push(`d.decision = ${p(q.outcome)}`);
      if (q.type !== undefined) where.push(`d.type = ${p(q.type)}`);
      if (q.after !== undefined) {
        const [row] = await db.query<{ pos: number }>(`SELECT pos FROM ${s}.hook_decisions WHERE app_id = $1 AND id = $2`, [q.app_id, q.after]);
        if (!row) throw new InvalidQueryError(`after: no decision ${JSON.stringify(q.after)} in this app`);
        where.push(`d.pos > ${p(row.pos)}`);
      }
      const rows = await db.query<{ record: DecisionRecord }>(`SELECT d.record FROM ${from} WHERE ${where.join(" AND ")} ORDER BY d.pos LIMIT ${p(q.limit)}`, values);
      return rows.map((r) => r.record);
    },
  };
}
