/**
 * seq on PostgreSQL: a reader paging by after_seq never misses an event, although PostgreSQL
 * commits transactions in any order. Real connections, real concurrency, no mocks.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createPostgresStore, fromPg, type PostgresStore } from "../../src/stores/postgres/index.js";
import { event } from "../../src/testing/conformance/fixture.js";
import { freshPgStore, PG_URL } from "./pg-helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

/** Pages the log like a consumer: after_seq = the last seq seen. */
async function page(store: PostgresStore, after: number, limit = 50) {
  return store.query({ app_id: "app1", after_seq: after, limit });
}

describe("PostgreSQL seq is visibility order", () => {
  it("a slow transaction holding seq N keeps N+1 invisible until it commits (a sequence-based log would skip N)", async () => {
    const f = await freshPgStore();
    cleanups.push(f.cleanup);
    const { store, schema } = f;
    const slow = await connect();
    await slow.query("BEGIN");
    const first = await store.appendInTransaction(fromPg(slow), event());
    expect(first.seq).toBe(1);
    const fast = store.append([event()]);
    await sleep(100);
    // Not visible yet, and the fast writer has not overtaken: it waits for the slow one's counter.
    expect(await page(store, 0)).toEqual([]);
    expect(await store.headSeq("app1")).toBe(0);
    await slow.query("COMMIT");
    const [second] = await fast;
    expect(second!.seq).toBe(2);
    expect((await page(store, 0)).map((e) => e.seq)).toEqual([1, 2]);

    // The control: the same race on a bigserial column loses the slow writer's row for a reader paging by seq.
    const naive = await connect();
    const other = await connect();
    await naive.query(`CREATE TABLE "${schema}".naive (seq bigserial PRIMARY KEY, v text)`);
    await naive.query("BEGIN");
    await naive.query(`INSERT INTO "${schema}".naive (v) VALUES ('slow')`);
    await other.query(`INSERT INTO "${schema}".naive (v) VALUES ('fast')`);
    const seen = (await other.query(`SELECT seq FROM "${schema}".naive WHERE seq > 0 ORDER BY seq`)).rows.map((r) => Number(r.seq));
    await naive.query("COMMIT");
    const next = (await other.query(`SELECT seq FROM "${schema}".naive WHERE seq > $1 ORDER BY seq`, [Math.max(...seen)])).rows;
    expect(seen).toEqual([2]);
    expect(next).toEqual([]); // seq 1 committed, but behind the reader's cursor: skipped for good
  });

  it("a reader paging by after_seq while 16 writers commit concurrently sees every event exactly once, in order, without gaps", async () => {
    const f = await freshPgStore();
    cleanups.push(f.cleanup);
    const { store, schema } = f;
    const committed = new Set<string>();
    const ROUNDS = 30;

    // 12 writers emit inside their own transactions (fromPg), hold them open a little, and sometimes roll back.
    const txWriter = async (w: number) => {
      const c = await connect();
      for (let i = 0; i < ROUNDS; i++) {
        await c.query("BEGIN");
        const ids: string[] = [];
        for (let k = 0; k <= (w + i) % 3; k++) ids.push((await store.appendInTransaction(fromPg(c), event({ user: `u${(w * 7 + i) % 5}` }))).id);
        await sleep(Math.random() * 3);
        if ((w + i) % 10 === 0) await c.query("ROLLBACK");
        else {
          await c.query("COMMIT");
          for (const id of ids) committed.add(id);
        }
      }
    };
    // 4 writers are other processes' stores (own pools, own group commit), appending concurrently.
    const storeWriter = async () => {
      const other = createPostgresStore({ connectionString: PG_URL, schema, poolSize: 4 });
      cleanups.push(() => other.close());
      for (let i = 0; i < ROUNDS; i++) {
        const rs = await Promise.all(Array.from({ length: 3 }, (_, k) => other.append([event({ user: `u${k}` }), event()])));
        for (const r of rs.flat()) committed.add(r.id);
      }
    };

    let writing = true;
    const seen: { id: string; seq: number }[] = [];
    const reader = (async () => {
      let after = 0;
      for (;;) {
        const done = !writing;
        const rows = await page(store, after);
        // Every page continues exactly where the previous one ended: nothing skipped, nothing repeated.
        expect(rows.map((e) => e.seq)).toEqual(rows.map((_, i) => after + i + 1));
        seen.push(...rows.map((e) => ({ id: e.id, seq: e.seq })));
        if (rows.length > 0) after = rows[rows.length - 1]!.seq;
        else if (done) return;
        else await sleep(Math.random());
      }
    })();
    await Promise.all([...Array.from({ length: 12 }, (_, w) => txWriter(w)), ...Array.from({ length: 4 }, () => storeWriter())]);
    writing = false;
    await reader;

    expect(committed.size).toBeGreaterThan(700);
    expect(seen).toHaveLength(committed.size);
    expect(new Set(seen.map((e) => e.id))).toEqual(committed);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(await store.headSeq("app1")).toBe(seen.length);
    // subject_seq stays 1..n per user in seq order too.
    const perUser = new Map<string, number[]>();
    for (let after = 0; ; ) {
      const rows = await store.query({ app_id: "app1", after_seq: after, limit: 1000 });
      if (rows.length === 0) break;
      for (const e of rows) if (e.context.user_id) perUser.set(e.context.user_id, [...(perUser.get(e.context.user_id) ?? []), e.subject_seq!]);
      after = rows[rows.length - 1]!.seq;
    }
    for (const list of perUser.values()) expect(list).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
  });
});
