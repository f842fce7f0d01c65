import { IdempotencyConflictError, StoreError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import type { Sql } from "./connection.js";

/** The NOTIFY channel; the payload names schema, app and seq (several schemas may share a database). */
export const EVENTS_CHANNEL = "authbus_events";

/** Per call: its results, or the error that failed that call alone (all-or-nothing per call). */
export type CallOutcome = { ok: AppendResult[] } | { err: Error };

export interface AppendOutcome {
  outcomes: CallOutcome[];
  /** Highest seq written per app (apps that only saw duplicates are absent). */
  maxSeqByApp: Map<string, number>;
}

interface ExistingRow {
  id: string;
  app_id: string;
  seq: string | number;
  subject_seq: string | number | null;
  type: string;
  payload: string;
}

const num = (v: string | number) => Number(v);

/**
 * Appends calls inside an open transaction: the group-commit batch on our own client, or the caller's
 * transaction (fromPg). Runs on any client, whatever its type parsers, hence the explicit Number().
 *
 * Why seq is commit order: each app's counter row is locked (FOR UPDATE) before anything else and
 * stays locked until this transaction ends, so a second writer of the same app waits, then reads the
 * counter as the first one committed it. Its events get higher seqs *and* become visible later.
 * The duplicate check runs after the lock for the same reason: a concurrent writer of the same id
 * (same app) has committed by then, and READ COMMITTED lets the next statement see it.
 */
export async function appendCalls(sql: Sql, s: string, schemaName: string, calls: readonly (readonly AppendInput[])[]): Promise<AppendOutcome> {
  const apps = [...new Set(calls.flatMap((c) => c.map((i) => i.app_id)))].sort();
  const counters = await lockCounters(sql, s, apps);

  const callerIds = [...new Set(calls.flatMap((c) => c.filter((i) => i.callerId).map((i) => i.id)))];
  const existing = new Map<string, ExistingRow>();
  if (callerIds.length > 0) {
    const rows = await sql.query<ExistingRow>(`SELECT id, app_id, seq, subject_seq, type, payload::text AS payload FROM ${s}.events WHERE id = ANY($1::text[])`, [callerIds]);
    for (const r of rows) existing.set(r.id, r);
  }

  // Same rules as the SQLite store: a known id answers the original; another type, payload or app conflicts.
  const seen = new Map<string, AppendInput>();
  const outcomes: CallOutcome[] = [];
  const plans = calls.map((inputs, i) => {
    try {
      return inputs.map((input): AppendResult | "alias" | undefined => {
        if (!input.callerId) return undefined;
        const earlier = seen.get(input.id);
        if (earlier) {
          if (earlier.type !== input.type || earlier.payloadJson !== input.payloadJson || earlier.app_id !== input.app_id) throw new IdempotencyConflictError(input.id);
          return "alias";
        }
        const row = existing.get(input.id);
        if (!row) {
          seen.set(input.id, input);
          return undefined;
        }
        if (row.type !== input.type || row.payload !== input.payloadJson || row.app_id !== input.app_id) throw new IdempotencyConflictError(input.id);
        return { id: input.id, seq: num(row.seq), subject_seq: row.subject_seq === null ? null : num(row.subject_seq), duplicate: true };
      });
    } catch (e) {
      outcomes[i] = { err: e as Error };
      // Ids this failed call registered must not alias later calls to an event never written.
      for (const input of inputs) if (seen.get(input.id) === input) seen.delete(input.id);
      return undefined;
    }
  });

  const fresh: AppendInput[] = [];
  plans.forEach((plan, i) => plan && calls[i]!.forEach((input, j) => plan[j] === undefined && fresh.push(input)));
  const inserted = await insertFresh(sql, s, schemaName, fresh, counters);
  const maxSeqByApp = new Map<string, number>();
  for (const r of inserted.values()) if (r.seq > (maxSeqByApp.get(r.app) ?? 0)) maxSeqByApp.set(r.app, r.seq);

  plans.forEach((plan, i) => {
    if (!plan) return;
    outcomes[i] = {
      ok: calls[i]!.map((input, j) => {
        const p = plan[j];
        const r = p === "alias" || p === undefined ? inserted.get(input.id)! : p;
        return { id: r.id, seq: r.seq, subject_seq: r.subject_seq, duplicate: p !== undefined };
      }),
    };
  });
  return { outcomes, maxSeqByApp };
}

/**
 * Whether an earlier attempt at these calls, whose COMMIT got no answer, was committed. Its events
 * went in as one transaction: either all of them are in the log, with the seqs that attempt gave
 * them, or none is (our UUIDv7 ids are ours alone; a caller's id written meanwhile by someone else
 * gets its own seq). The apps' counters are locked first: if that attempt's server process is still
 * alive (the connection was cut, not the server), it holds them until it has committed or rolled
 * back, so the answer cannot change after we read it.
 */
export async function committedEarlier(sql: Sql, s: string, calls: readonly (readonly AppendInput[])[], earlier: AppendOutcome): Promise<boolean> {
  const written = new Map<string, number>();
  for (const o of earlier.outcomes) if ("ok" in o) for (const r of o.ok) if (!r.duplicate) written.set(r.id, r.seq);
  // Nothing written: its answer (duplicates, conflicts) holds whether it committed or not.
  if (written.size === 0) return true;
  await lockCounters(sql, s, [...new Set(calls.flatMap((c) => c.map((i) => i.app_id)))].sort());
  const rows = await sql.query<{ id: string; seq: string | number }>(`SELECT id, seq FROM ${s}.events WHERE id = ANY($1::text[])`, [[...written.keys()]]);
  return rows.length === written.size && rows.every((r) => written.get(r.id) === num(r.seq));
}

/** Locks the apps' counter rows, creating missing ones; answers each app's last seq. */
export async function lockCounters(sql: Sql, s: string, apps: string[]): Promise<Map<string, number>> {
  const select = `SELECT app_id, last_seq FROM ${s}.app_counters WHERE app_id = ANY($1::text[]) ORDER BY app_id FOR UPDATE`;
  const counters = new Map<string, number>();
  for (const r of await sql.query<{ app_id: string; last_seq: string | number }>(select, [apps])) counters.set(r.app_id, num(r.last_seq));
  const missing = apps.filter((a) => !counters.has(a));
  if (missing.length > 0) {
    // First event of an app: a concurrent creator makes us wait here, then we lock its row.
    await sql.exec(`INSERT INTO ${s}.app_counters (app_id, last_seq) SELECT unnest($1::text[]), 0 ON CONFLICT (app_id) DO NOTHING`, [missing]);
    for (const r of await sql.query<{ app_id: string; last_seq: string | number }>(select, [missing])) counters.set(r.app_id, num(r.last_seq));
    // Only a snapshot older than the row's creator can miss it (a REPEATABLE READ caller transaction).
    const lost = missing.filter((a) => !counters.has(a));
    if (lost.length > 0) throw new StoreError(`Cannot lock the seq counter of app ${lost[0]}: it was created after this transaction's snapshot; retry the transaction`);
  }
  return counters;
}

interface Inserted extends AppendResult {
  app: string;
}

async function insertFresh(sql: Sql, s: string, schemaName: string, fresh: AppendInput[], counters: Map<string, number>): Promise<Map<string, Inserted>> {
  const out = new Map<string, Inserted>();
  if (fresh.length === 0) return out;
  // Subject counters: one row per (app, user), bumped by the batch's count. Under the app locks, so uncontended.
  const perSubject = new Map<string, { app: string; user: string; n: number }>();
  for (const i of fresh) {
    if (i.user_id === undefined) continue;
    const key = `${i.app_id}\u0000${i.user_id}`;
    const e = perSubject.get(key);
    if (e) e.n++;
    else perSubject.set(key, { app: i.app_id, user: i.user_id, n: 1 });
  }
  const nextSubject = new Map<string, number>();
  if (perSubject.size > 0) {
    const list = [...perSubject.values()];
    const rows = await sql.query<{ app_id: string; user_id: string; last_seq: string | number }>(
      `INSERT INTO ${s}.subject_counters AS c (app_id, user_id, last_seq) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (app_id, user_id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq RETURNING app_id, user_id, last_seq`,
      [list.map((x) => x.app), list.map((x) => x.user), list.map((x) => x.n)],
    );
    for (const r of rows) {
      const key = `${r.app_id}\u0000${r.user_id}`;
      nextSubject.set(key, num(r.last_seq) - perSubject.get(key)!.n + 1);
    }
  }
  const nextSeq = new Map([...counters].map(([app, last]) => [app, last + 1]));
  const cols = { app: [] as string[], seq: [] as number[], id: [] as string[], type: [] as string[], user: [] as (string | null)[], sseq: [] as (number | null)[], ts: [] as number[], payload: [] as string[], context: [] as string[] };
  for (const i of fresh) {
    const seq = nextSeq.get(i.app_id)!;
    nextSeq.set(i.app_id, seq + 1);
    let subjectSeq: number | null = null;
    if (i.user_id !== undefined) {
      const key = `${i.app_id}\u0000${i.user_id}`;
      subjectSeq = nextSubject.get(key)!;
      nextSubject.set(key, subjectSeq + 1);
    }
    out.set(i.id, { id: i.id, seq, subject_seq: subjectSeq, duplicate: false, app: i.app_id });
    cols.app.push(i.app_id), cols.seq.push(seq), cols.id.push(i.id), cols.type.push(i.type), cols.user.push(i.user_id ?? null);
    cols.sseq.push(subjectSeq), cols.ts.push(i.timestamp), cols.payload.push(i.payloadJson), cols.context.push(i.contextJson);
  }
  await sql.exec(
    `INSERT INTO ${s}.events (app_id, seq, id, type, user_id, subject_seq, "timestamp", payload, context)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::json[], $9::json[])`,
    [cols.app, cols.seq, cols.id, cols.type, cols.user, cols.sseq, cols.ts, cols.payload, cols.context],
  );
  const apps = [...nextSeq].filter(([app, next]) => next - 1 > counters.get(app)!);
  // The notification is queued with the transaction: listeners hear of it only if and when it commits.
  await sql.exec(
    `UPDATE ${s}.app_counters AS c SET last_seq = v.seq FROM unnest($1::text[], $2::bigint[]) AS v(app_id, seq) WHERE c.app_id = v.app_id
     RETURNING pg_notify('${EVENTS_CHANNEL}', json_build_object('schema', $3::text, 'app_id', c.app_id, 'seq', c.last_seq)::text)`,
    [apps.map(([a]) => a), apps.map(([, next]) => next - 1), schemaName],
  );
  return out;
}
