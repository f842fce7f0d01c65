import type Database from "better-sqlite3";
import { IdempotencyConflictError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";
import { unindexedFrom } from "./lazy-index.js";

/** Beyond this many users the cache is dropped and rebuilt from the table (bounded memory). */
const MAX_CACHED_SUBJECTS = 200_000;

/** 32 x 9 = 288 parameters, well under SQLite's limit (32,766). */
const INSERT_ROWS = [32, 8, 1];

interface ExistingRow {
  seq: number;
  subject_seq: number | null;
  type: string;
  payload: string;
  app_id: string;
}

/**
 * The append logic on one connection, shared by the group-commit writer (our connection) and
 * transactional emit (the caller's connection). Must run inside a write transaction: counters
 * are read and bumped in it, so seq order is commit order (SQLite has one writer at a time).
 */
export class AppendStatements {
  private readonly findById: Database.Statement;
  private readonly bumpApp: Database.Statement;
  /** The true last subject_seq of one user: its counter row, or a later event not yet folded into it. */
  private readonly readSubject: Database.Statement;
  /** Counter upserts for this many users at once, largest first (transactional emits only). */
  private readonly writeSubjects: [number, Database.Statement][];
  /** Statements inserting this many rows at once, largest first. */
  private readonly inserts: [number, Database.Statement][];
  private readonly dataVersion: Database.Statement;
  private readonly readCounter: Database.Statement;
  private readonly countersUpto: Database.Statement;
  private readonly headPos: Database.Statement;
  private readonly lastByUser: Database.Statement;
  /**
   * The writer's subject counters: the last subject_seq of every user with an event after the
   * folded position (see lazy-index.ts) or seen since, complete for events up to `scannedTo`.
   */
  private readonly subjects = new Map<string, number>();
  private scannedTo = -1;
  private seenVersion = -1;

  /**
   * `cacheSubjects`: only for a connection whose transactions we control (the writer thread), since
   * a rollback we do not see would leave the cache ahead of the table. Call invalidate() after a rollback.
   * With it, subject_counters is not written at all on the commit path: the lazy indexer folds
   * events into it in chunks, and the cache is rebuilt from the counters plus the unfolded tail.
   */
  constructor(db: Database.Database, private readonly cacheSubjects = false) {
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
    // `+`: scan the tail by rowid range, not the whole app through the (app_id, seq) index.
    this.readSubject = db
      .prepare(
        `SELECT max(coalesce((SELECT last_seq FROM subject_counters WHERE app_id = ? AND user_id = ?), 0),
                coalesce((SELECT max(subject_seq) FROM events WHERE pos > ${unindexedFrom("subject_counters")} AND +app_id = ? AND +user_id = ?), 0))`,
      )
      .pluck();
    this.readCounter = db.prepare("SELECT last_seq FROM subject_counters WHERE app_id = ? AND user_id = ?").pluck();
    this.countersUpto = db.prepare(`SELECT ${unindexedFrom("subject_counters")}`).pluck();
    this.headPos = db.prepare("SELECT coalesce(max(pos), 0) FROM events").pluck();
    this.lastByUser = db.prepare("SELECT app_id, user_id, max(subject_seq) AS last FROM events WHERE pos > ? AND pos <= ? AND user_id IS NOT NULL GROUP BY app_id, user_id");
    this.writeSubjects = INSERT_ROWS.map((rows) => [
      rows,
      db.prepare(
        `INSERT INTO subject_counters (app_id, user_id, last_seq) VALUES ${Array(rows).fill("(?, ?, ?)").join(", ")} ON CONFLICT (app_id, user_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
      ),
    ]);
    this.findById = db.prepare("SELECT app_id, seq, subject_seq, type, payload FROM events WHERE id = ?");
    this.bumpApp = db
      .prepare("INSERT INTO app_counters (app_id, last_seq) VALUES (?, ?) ON CONFLICT (app_id) DO UPDATE SET last_seq = last_seq + excluded.last_seq RETURNING last_seq")
      .pluck();
    this.inserts = INSERT_ROWS.map((rows) => [
      rows,
      db.prepare(`INSERT INTO events (app_id, seq, id, type, user_id, subject_seq, timestamp, payload, context) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`),
    ]);
  }

  /**
   * Looks up caller-chosen ids. Returns the original answers for duplicates (also within `inputs`),
   * or throws IdempotencyConflictError when a known id comes with another type or payload.
   */
  resolveDuplicates(inputs: readonly AppendInput[], seenInBatch: Map<string, AppendInput>): (AppendResult | "alias" | undefined)[] {
    return inputs.map((input) => {
      if (!input.callerId) return undefined;
      const earlier = seenInBatch.get(input.id);
      if (earlier) {
        if (earlier.type !== input.type || earlier.payloadJson !== input.payloadJson || earlier.app_id !== input.app_id) throw new IdempotencyConflictError(input.id);
        return "alias"; // answered with the earlier one's result once it is inserted
      }
      const row = this.findById.get(input.id) as ExistingRow | undefined;
      if (!row) {
        seenInBatch.set(input.id, input);
        return undefined;
      }
      if (row.type !== input.type || row.payload !== input.payloadJson || row.app_id !== input.app_id) throw new IdempotencyConflictError(input.id);
      return { id: input.id, seq: row.seq, subject_seq: row.subject_seq, duplicate: true };
    });
  }

  invalidate(): void {
    this.subjects.clear();
    this.scannedTo = -1;
    this.seenVersion = -1;
  }

  /**
   * Brings the cache up to the table (inside the write transaction, hence one snapshot). After
   * invalidate() it starts from the counters' folded position; when another connection has
   * committed, only the events since the last scan are read (ours among them: taking the max is harmless).
   */
  private syncSubjects(): void {
    const version = this.dataVersion.get() as number;
    if (this.subjects.size > MAX_CACHED_SUBJECTS) this.invalidate();
    const head = this.headPos.get() as number;
    if (version === this.seenVersion && this.scannedTo >= 0) {
      // Nobody else has committed: every event up to head is ours, hence cached. Moving the mark
      // keeps the scan after another connection's commit as short as that commit.
      this.scannedTo = head;
      return;
    }
    this.seenVersion = version;
    const from = this.scannedTo >= 0 ? this.scannedTo : (this.countersUpto.get() as number);
    for (const r of this.lastByUser.iterate(from, head) as Iterable<{ app_id: string; user_id: string; last: number }>) {
      const key = subjectKey(r.app_id, r.user_id);
      if (!(r.last <= (this.subjects.get(key) ?? 0))) this.subjects.set(key, r.last);
    }
    this.scannedTo = head;
  }

  /** Inserts fresh events (no duplicates among them), assigning seq and subject_seq in input order. */
  insertFresh(inputs: readonly AppendInput[]): AppendResult[] {
    const n = inputs.length;
    const seqs = new Float64Array(n);
    const subjectSeqs = new Float64Array(n);
    this.insertFreshInto(inputs, seqs, subjectSeqs);
    const out = new Array<AppendResult>(n);
    for (let k = 0; k < n; k++) out[k] = { id: inputs[k]!.id, seq: seqs[k]!, subject_seq: subjectSeqs[k] || null, duplicate: false };
    return out;
  }

  /**
   * The writer's hot path: like insertFresh, but fills flat arrays instead of allocating a result
   * object per event (the caller already knows the ids). `subjectSeqs[k]` is 0 for an event without a user.
   */
  insertFreshInto(inputs: readonly AppendInput[], seqs: Float64Array, subjectSeqs: Float64Array): void {
    this.assignSeqs(inputs, seqs, subjectSeqs);
    this.insertRows(inputs, seqs, subjectSeqs);
  }

  private assignSeqs(inputs: readonly AppendInput[], seqs: Float64Array, subjectSeqs: Float64Array): void {
    // Most batches hold one app: count it without a map.
    const firstApp = inputs[0]?.app_id;
    let perApp: Map<string, number> | undefined;
    let firstCount = 0;
    const perSubject = new Map<string, Map<string, number>>();
    for (const i of inputs) {
      if (i.app_id === firstApp) firstCount++;
      else (perApp ??= new Map()).set(i.app_id, (perApp.get(i.app_id) ?? 0) + 1);
      if (i.user_id !== undefined) {
        let users = perSubject.get(i.app_id);
        if (!users) perSubject.set(i.app_id, (users = new Map()));
        users.set(i.user_id, (users.get(i.user_id) ?? 0) + 1);
      }
    }
    const nextSeq = new Map<string, number>();
    if (firstApp !== undefined) {
      nextSeq.set(firstApp, (this.bumpApp.get(firstApp, firstCount) as number) - firstCount + 1);
      if (perApp) for (const [app, n] of perApp) nextSeq.set(app, (this.bumpApp.get(app, n) as number) - n + 1);
    }
    if (this.cacheSubjects) this.syncSubjects();
    // From here on the per-user counts become "next subject_seq" values.
    const counters: unknown[] = [];
    for (const [app, users] of perSubject) {
      for (const [user, n] of users) {
        if (this.cacheSubjects) {
          // Not in the cache: no event of this user after the folded position, so its row is exact.
          const key = subjectKey(app, user);
          const last = this.subjects.get(key) ?? ((this.readCounter.get(app, user) as number | undefined) ?? 0);
          this.subjects.set(key, last + n);
          users.set(user, last + 1);
        } else {
          const last = (this.readSubject.get(app, user, app, user) as number | undefined) ?? 0;
          counters.push(app, user, last + n);
          users.set(user, last + 1);
        }
      }
    }
    if (counters.length > 0) this.runChunked(this.writeSubjects, counters, 3);
    for (let k = 0; k < inputs.length; k++) {
      const i = inputs[k]!;
      const seq = nextSeq.get(i.app_id)!;
      nextSeq.set(i.app_id, seq + 1);
      seqs[k] = seq;
      if (i.user_id === undefined) subjectSeqs[k] = 0;
      else {
        const users = perSubject.get(i.app_id)!;
        const s = users.get(i.user_id)!;
        users.set(i.user_id, s + 1);
        subjectSeqs[k] = s;
      }
    }
  }

  /** Multi-row INSERTs: binding and stepping one statement per row costs more than the row itself. */
  private insertRows(inputs: readonly AppendInput[], seqs: Float64Array, subjectSeqs: Float64Array): void {
    const values: unknown[] = [];
    for (let k = 0; k < inputs.length; k++) {
      const i = inputs[k]!;
      values.push(i.app_id, seqs[k], i.id, i.type, i.user_id ?? null, subjectSeqs[k] || null, i.timestamp, i.payloadJson, i.contextJson);
    }
    this.runChunked(this.inserts, values, 9);
  }

  /** Runs `values` (`width` per row) through the largest multi-row statements that fit. */
  private runChunked(statements: [number, Database.Statement][], values: unknown[], width: number): void {
    let at = 0;
    for (const [rows, stmt] of statements) {
      const size = rows * width;
      for (; values.length - at >= size; at += size) stmt.run(at === 0 && size === values.length ? values : values.slice(at, at + size));
    }
  }
}

function subjectKey(app: string, user: string): string {
  return `${app}\u0000${user}`;
}
