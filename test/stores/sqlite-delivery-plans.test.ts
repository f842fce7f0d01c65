import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { migrate } from "../../src/stores/sqlite/migrations.js";
import { CLAIM_SQL } from "../../src/stores/sqlite/delivery-ops.js";
import { BACKLOG_SQL, PENDING_PAGE_SQL } from "../../src/stores/sqlite/delivery-store.js";
import { tempDbPath } from "../helpers.js";

// A subscription keeps every delivery it ever made (the delivery log). The reads a worker repeats all
// the time must go through the partial indexes of what is still pending or claimed: walking the
// subscription's whole history made each claim cost as much as everything delivered before it.
const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function plan(sql: string, params: unknown): string[] {
  const db = new Database(tempDbPath());
  opened.push(db);
  migrate(db);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as { detail: string }[]).map((r) => r.detail);
}

const named = { sub: "s", app: "a", now: 1, owner: "o", limit: 10, until: 2 };

describe("SQLite delivery reads use the pending and claimed indexes", () => {
  for (const ordering of ["none", "seq", "subject"] as const) {
    it(`claims with ordering ${ordering}`, () => {
      const steps = plan(CLAIM_SQL[ordering], named);
      expect(steps.join("\n"), ordering).not.toMatch(/deliveries_by_subscription|SCAN deliveries/);
      expect(steps.some((d) => /USING (COVERING )?INDEX deliveries_pending(_by_seq)? \(subscription_id=\?\)/.test(d)), steps.join("\n")).toBe(true);
      // Others' live claims are looked up among claimed rows only, never through a backlog.
      if (ordering !== "none") expect(steps.filter((d) => /SEARCH c /.test(d)).every((d) => d.includes("deliveries_claimed")), steps.join("\n")).toBe(true);
    });
  }

  it("pages pending deliveries and counts the backlog", () => {
    for (const [sql, params] of [
      [PENDING_PAGE_SQL, ["s", 0, "a", 10]],
      [BACKLOG_SQL, ["s", "a"]],
    ] as const) {
      const steps = plan(sql, params);
      expect(steps.join("\n")).not.toMatch(/deliveries_by_subscription|SCAN deliveries/);
      expect(steps.join("\n")).toMatch(/USING (COVERING )?INDEX deliveries_pending(_by_seq)? \(subscription_id=\?/);
    }
  });
});
