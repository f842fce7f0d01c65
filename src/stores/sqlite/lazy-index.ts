import type Database from "better-sqlite3";

/**
 * The lazy secondary indexes of `events`: by user (`user_events`) and by type (`type_events`).
 * Maintained on the commit path, each would dirty index pages in every group-commit transaction
 * (a by-user index takes random inserts). Instead the writer copies (app_id, key, seq) of newly
 * recorded events in chunks of thousands, sorted by key, so each index page is written once per chunk. Readers
 * combine an index with a scan of the unindexed tail (`events.pos > upto_pos`, a rowid range) in
 * one statement, hence one snapshot: nothing is missed or read twice.
 */
const INDEXES = [
  {
    name: "user_events",
    copy: "INSERT OR IGNORE INTO user_events (app_id, user_id, seq) SELECT app_id, user_id, seq FROM events WHERE pos > ? AND pos <= ? AND user_id IS NOT NULL ORDER BY app_id, user_id, seq",
  },
  {
    name: "type_events",
    copy: "INSERT OR IGNORE INTO type_events (app_id, type, seq) SELECT app_id, type, seq FROM events WHERE pos > ? AND pos <= ? ORDER BY app_id, type, seq",
  },
  {
    // Not an index, but folded the same way: the group-commit writer does not write subject_counters
    // (it keeps them in memory, see statements.ts); a counter row is exact only for events up to upto_pos.
    name: "subject_counters",
    copy: "INSERT INTO subject_counters (app_id, user_id, last_seq) SELECT app_id, user_id, max(subject_seq) FROM events WHERE pos > ? AND pos <= ? AND user_id IS NOT NULL GROUP BY app_id, user_id ORDER BY app_id, user_id ON CONFLICT (app_id, user_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
  },
] as const;

export type LazyIndexName = (typeof INDEXES)[number]["name"];

/** SQL for the first position a query must read from `events` itself rather than from the index. */
export const unindexedFrom = (name: LazyIndexName) => `(SELECT upto_pos FROM index_state WHERE name = '${name}')`;

export class LazyIndexer {
  private readonly lowest: Database.Statement;
  private readonly head: Database.Statement;
  private readonly indexes: { state: Database.Statement; copy: Database.Statement; advance: Database.Statement }[];

  constructor(private readonly db: Database.Database) {
    const names = INDEXES.map((i) => `'${i.name}'`).join(", ");
    this.lowest = db.prepare(`SELECT min(upto_pos) FROM index_state WHERE name IN (${names})`).pluck();
    this.head = db.prepare("SELECT coalesce(max(pos), 0) FROM events").pluck();
    this.indexes = INDEXES.map((i) => ({
      state: db.prepare(`SELECT upto_pos FROM index_state WHERE name = '${i.name}'`).pluck(),
      copy: db.prepare(i.copy),
      advance: db.prepare(`UPDATE index_state SET upto_pos = ? WHERE name = '${i.name}'`),
    }));
  }

  /** Events recorded but not yet in every index (or in `only`). */
  backlog(only?: LazyIndexName): number {
    const upto = only === undefined ? this.lowest : this.indexes[INDEXES.findIndex((i) => i.name === only)]!.state;
    return (this.head.get() as number) - (upto.get() as number);
  }

  /** Brings each index (or `only`) up to `max` positions further, in one transaction; returns the most positions any index covered. */
  run(max: number, only?: LazyIndexName): number {
    const tx = this.db.transaction(() => {
      const head = this.head.get() as number;
      let covered = 0;
      for (const [k, i] of this.indexes.entries()) {
        if (only !== undefined && INDEXES[k]!.name !== only) continue;
        const from = i.state.get() as number;
        const to = Math.min(head, from + max);
        if (to <= from) continue;
        i.copy.run(from, to);
        i.advance.run(to);
        covered = Math.max(covered, to - from);
      }
      return covered;
    });
    return tx.immediate();
  }
}
