import type Database from "better-sqlite3";

/**
 * The lazy by-user index. The writer thread copies (app_id, user_id, seq) of newly recorded events
 * into `user_events` in chunks of thousands, so each index page is dirtied once per chunk rather
 * than once per event. Readers combine the index with a scan of the small unindexed tail
 * (`events.pos > upto_pos`), in one statement, hence one snapshot: nothing is missed or doubled.
 */
export class UserIndexer {
  private readonly state: Database.Statement;
  private readonly head: Database.Statement;
  private readonly copy: Database.Statement;
  private readonly advance: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.state = db.prepare("SELECT upto_pos FROM index_state WHERE name = 'user_events'");
    this.head = db.prepare("SELECT coalesce(max(pos), 0) AS pos FROM events");
    this.copy = db.prepare(
      "INSERT OR IGNORE INTO user_events (app_id, user_id, seq) SELECT app_id, user_id, seq FROM events WHERE pos > ? AND pos <= ? AND user_id IS NOT NULL",
    );
    this.advance = db.prepare("UPDATE index_state SET upto_pos = ? WHERE name = 'user_events'");
  }

  /** Events recorded but not yet indexed. */
  backlog(): number {
    return (this.head.get() as { pos: number }).pos - (this.state.get() as { upto_pos: number }).upto_pos;
  }

  /** Indexes up to `max` events in one transaction; returns how many positions it covered. */
  run(max: number): number {
    const tx = this.db.transaction(() => {
      const from = (this.state.get() as { upto_pos: number }).upto_pos;
      const to = Math.min((this.head.get() as { pos: number }).pos, from + max);
      if (to <= from) return 0;
      this.copy.run(from, to);
      this.advance.run(to);
      return to - from;
    });
    return tx.immediate();
  }
}
