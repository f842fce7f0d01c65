import type Database from "better-sqlite3";
import { IdempotencyConflictError } from "../../core/errors.js";
import type { AppendInput, AppendResult } from "../../core/ports/store.js";

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
  private readonly readSubject: Database.Statement;
  private readonly writeSubject: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly dataVersion: Database.Statement;
  /** Last subject_seq per (app, user), valid while no other connection has committed. */
  private readonly subjects = new Map<string, number>();
  private seenVersion = -1;

  /**
   * `cacheSubjects`: only for a connection whose transactions we control (the writer thread), since
   * a rollback we do not see would leave the cache ahead of the table. Call invalidate() after a rollback.
   */
  constructor(db: Database.Database, private readonly cacheSubjects = false) {
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
    this.readSubject = db.prepare("SELECT last_seq FROM subject_counters WHERE app_id = ? AND user_id = ?").pluck();
    this.writeSubject = db.prepare(
      "INSERT INTO subject_counters (app_id, user_id, last_seq) VALUES (?, ?, ?) ON CONFLICT (app_id, user_id) DO UPDATE SET last_seq = excluded.last_seq",
    );
    this.findById = db.prepare("SELECT app_id, seq, subject_seq, type, payload FROM events WHERE id = ?");
    this.bumpApp = db.prepare(
      "INSERT INTO app_counters (app_id, last_seq) VALUES (?, ?) ON CONFLICT (app_id) DO UPDATE SET last_seq = last_seq + excluded.last_seq RETURNING last_seq",
    );
    this.insert = db.prepare(
      "INSERT INTO events (app_id, seq, id, type, user_id, subject_seq, timestamp, payload, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
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
    this.seenVersion = -1;
  }

  /** Inserts fresh events (no duplicates among them), assigning seq and subject_seq in input order. */
  insertFresh(inputs: readonly AppendInput[]): AppendResult[] {
    const nextSeq = new Map<string, number>();
    const perApp = new Map<string, number>();
    const perSubject = new Map<string, { app: string; user: string; n: number }>();
    for (const i of inputs) {
      perApp.set(i.app_id, (perApp.get(i.app_id) ?? 0) + 1);
      if (i.user_id !== undefined) {
        const key = subjectKey(i.app_id, i.user_id);
        const s = perSubject.get(key);
        if (s) s.n++;
        else perSubject.set(key, { app: i.app_id, user: i.user_id, n: 1 });
      }
    }
    for (const [app, n] of perApp) {
      const { last_seq } = this.bumpApp.get(app, n) as { last_seq: number };
      nextSeq.set(app, last_seq - n + 1);
    }
    const nextSubject = new Map<string, number>();
    if (this.cacheSubjects) {
      // data_version moves only when another connection commits; then our cache may be stale.
      const version = this.dataVersion.get() as number;
      if (version !== this.seenVersion) this.subjects.clear();
      this.seenVersion = version;
    }
    for (const [key, s] of perSubject) {
      const last = (this.cacheSubjects ? this.subjects.get(key) : undefined) ?? ((this.readSubject.get(s.app, s.user) as number | undefined) ?? 0);
      nextSubject.set(key, last + 1);
      this.writeSubject.run(s.app, s.user, last + s.n);
      if (this.cacheSubjects) this.subjects.set(key, last + s.n);
    }
    return inputs.map((i) => {
      const seq = nextSeq.get(i.app_id)!;
      nextSeq.set(i.app_id, seq + 1);
      let subjectSeq: number | null = null;
      if (i.user_id !== undefined) {
        const key = subjectKey(i.app_id, i.user_id);
        subjectSeq = nextSubject.get(key)!;
        nextSubject.set(key, subjectSeq + 1);
      }
      this.insert.run(i.app_id, seq, i.id, i.type, i.user_id ?? null, subjectSeq, i.timestamp, i.payloadJson, i.contextJson);
      return { id: i.id, seq, subject_seq: subjectSeq, duplicate: false };
    });
  }
}

function subjectKey(app: string, user: string): string {
  return `${app}\u0000${user}`;
}
