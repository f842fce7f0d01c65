import { describe, expect, it } from "vitest";
import { createAuthbus } from "../src/index.js";
import { tempDbPath, user } from "./helpers.js";

describe("seq under concurrency", () => {
  it("10,000 events emitted concurrently by many async callers get unique, strictly increasing seqs", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    const callers = 200;
    const perCaller = 50;
    const receipts: { id: string; seq: number; at: number }[] = [];
    let order = 0;
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < perCaller; i++) {
          const r = await bus.emit("user.authenticated", { user: user(`u${c % 37}`), session: { id: `s${c}-${i}` } });
          receipts.push({ ...r, at: order++ });
        }
      }),
    );
    expect(receipts).toHaveLength(10_000);
    const seqs = receipts.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(10_000);
    expect(new Set(receipts.map((r) => r.id)).size).toBe(10_000);
    expect(Math.min(...seqs)).toBe(1);
    expect(Math.max(...seqs)).toBe(10_000);
    // Paging the log by after_seq returns every event once, in strictly increasing seq order.
    const paged: number[] = [];
    let after = 0;
    for (;;) {
      const page = await bus.query({ after_seq: after, limit: 1000 });
      if (page.length === 0) break;
      paged.push(...page.map((e) => e.seq));
      after = page[page.length - 1]!.seq;
    }
    expect(paged).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    // Per user: subject_seq is 1..n in seq order.
    const all = await Promise.all(Array.from({ length: 10 }, (_, p) => bus.query({ after_seq: p * 1000, limit: 1000 })));
    const perUser = new Map<string, number[]>();
    for (const e of all.flat()) perUser.set(e.context.user_id!, [...(perUser.get(e.context.user_id!) ?? []), e.subject_seq!]);
    for (const list of perUser.values()) expect(list).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
    await bus.close();
  });
});
