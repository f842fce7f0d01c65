import { assertValidPattern } from "../../core/pattern.js";
import type { Envelope } from "../../core/envelope.js";
import type { EventQuery } from "../../core/ports/store.js";

export const EVENT_COLUMNS = "id, seq, subject_seq, type, payload, context";

export interface EventRow {
  id: string;
  seq: number;
  subject_seq: number | null;
  type: string;
  payload: unknown;
  context: unknown;
}

export function toEnvelope(r: EventRow): Envelope {
  return { id: r.id, seq: r.seq, subject_seq: r.subject_seq, type: r.type, payload: r.payload, context: r.context } as Envelope;
}

/**
 * The pattern as a PostgreSQL regular expression, the same language as compilePattern's: segments
 * are [a-z0-9_] only, so nothing needs escaping but the dots.
 */
export function patternRegex(pattern: string): string {
  assertValidPattern(pattern);
  return pattern
    .split(".")
    .map((s) => (s === "**" ? "[a-z0-9_]+(\\.[a-z0-9_]+)*" : s === "*" ? "[a-z0-9_]+" : s))
    .join("\\.");
}

/** SQL for a page of the log. Exact types use the (app_id, type, seq) index; wildcards become one anchored regex. */
export function eventQuerySql(s: string, q: EventQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [q.app_id];
  const where = ["app_id = $1"];
  const p = (v: unknown) => `$${values.push(v)}`;
  if (q.types && q.types.length > 0) {
    const exact = q.types.filter((t) => !t.includes("*"));
    const wild = q.types.filter((t) => t.includes("*"));
    const ors: string[] = [];
    if (exact.length > 0) ors.push(`type = ANY(${p(exact)}::text[])`);
    if (wild.length > 0) ors.push(`type ~ ${p(`^(${wild.map(patternRegex).join("|")})$`)}`);
    where.push(`(${ors.join(" OR ")})`);
  }
  if (q.user_id !== undefined) where.push(`user_id = ${p(q.user_id)}`);
  if (q.after_seq !== undefined) where.push(`seq > ${p(q.after_seq)}`);
  if (q.since !== undefined) where.push(`"timestamp" >= ${p(q.since)}`);
  if (q.until !== undefined) where.push(`"timestamp" < ${p(q.until)}`);
  return { text: `SELECT ${EVENT_COLUMNS} FROM ${s}.events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ${p(q.limit)}`, values };
}
