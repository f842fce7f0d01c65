/** What only the PostgreSQL store has: fromPg checks, migrations shared by processes, LISTEN/NOTIFY. */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createPostgresStore, fromPg, PG_MIGRATIONS, type PostgresStore } from "../../src/stores/postgres/index.js";
import { event, rejection, until } from "../../src/testing/conformance/fixture.js";
import { dropSchema, freshPgStore, PG_URL, uniqueSchema } from "./pg-helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connect(url = PG_URL): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

function open(schema: string, extra: Partial<Parameters<typeof createPostgresStore>[0]> = {}): PostgresStore {
  const store = createPostgresStore({ connectionString: PG_URL, schema, ...extra });
  cleanups.push(() => store.close());
  return store;
}

describe("PostgreSQL store", () => {
  it("fromPg refuses a client outside a transaction, in a failed one, or on another database, and writes nothing", async () => {
    const f = await freshPgStore();
    cleanups.push(f.cleanup);
    const { store } = f;
    const idle = await connect();
    expect((await rejection(store.appendInTransaction(fromPg(idle), event()))).message).toMatch(/no open transaction/);
    const failed = await connect();
    await failed.query("BEGIN");
    await failed.query("SELECT 1/0").catch(() => undefined);
    expect((await rejection(store.appendInTransaction(fromPg(failed), event()))).message).toMatch(/already failed/);
    const elsewhere = await connect(PG_URL.replace(/\/test$/, "/postgres"));
    await elsewhere.query("BEGIN");
    const err = await rejection(store.appendInTransaction(fromPg(elsewhere), event()));
    expect(err.code).toBe("transaction_required");
    expect(err.message).toMatch(/not to the bus's database test/);
    expect(() => fromPg(null as never)).toThrow(TypeError);
    expect(await store.headSeq("app1")).toBe(0);
  });

  it("processes starting together migrate once, under the advisory lock; a newer schema is refused", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const stores = Array.from({ length: 4 }, () => open(schema, { poolSize: 2 }));
    await Promise.all(stores.map((s) => s.ready()));
    const c = await connect();
    const { rows } = await c.query(`SELECT version FROM "${schema}".authbus_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    await stores[0]!.append([event()]);
    expect(await stores[3]!.headSeq("app1")).toBe(1);

    await c.query(`INSERT INTO "${schema}".authbus_migrations VALUES (999, 'from the future', 0)`);
    const newer = open(schema);
    const err = await rejection(newer.ready());
    expect(err.code).toBe("store_failed");
    expect(err.message).toMatch(/version 999, newer than this Authbus knows/);
    expect((await rejection(newer.headSeq("app1"))).code).toBe("store_failed");
  });

  it("wakes readers in other processes within milliseconds (LISTEN/NOTIFY), for group commits and for callers' transactions", async () => {
    const f = await freshPgStore();
    cleanups.push(f.cleanup);
    const writer = f.store;
    const reader = open(f.schema);
    await writer.append([event()]);
    const seen: [string, number, number][] = [];
    reader.onAppended((app, seq) => void seen.push([app, seq, Date.now()]));
    // On connecting, the listener announces the heads it may have missed.
    await until(() => seen.some(([, s]) => s === 1), 5_000, "catch-up after LISTEN");

    const t0 = Date.now();
    const [r] = await writer.append([event()]);
    await until(() => seen.some(([, s]) => s === r!.seq), 2_000, "notification of another process's append");
    expect(seen.find(([, s]) => s === r!.seq)![2] - t0).toBeLessThan(500);

    const tx = await connect();
    await tx.query("BEGIN");
    const inTx = await writer.appendInTransaction(fromPg(tx), event({ app: "app2" }));
    await new Promise((res) => setTimeout(res, 100));
    expect(seen.some(([a]) => a === "app2")).toBe(false); // not before the commit
    await tx.query("COMMIT");
    await until(() => seen.some(([a, s]) => a === "app2" && s === inTx.seq), 2_000, "notification of a committed outbox append");
  });

  it("the LISTEN connection comes back after it is killed and catches up on what it missed", async () => {
    const f = await freshPgStore();
    cleanups.push(f.cleanup);
    const errors: Error[] = [];
    const reader = open(f.schema, { onError: (e) => void errors.push(e) });
    const seen: number[] = [];
    reader.onAppended((_app, seq) => void seen.push(seq));
    await f.store.append([event()]);
    await until(() => seen.includes(1), 5_000, "first notification");
    const admin = await connect();
    const kill = () => admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`authbus-listen:${f.schema}`.slice(0, 63)]);
    expect((await kill()).rowCount).toBe(1);
    await f.store.append([event(), event()]);
    await until(() => seen.includes(3), 10_000, "catch-up after reconnecting");
    expect(errors.length).toBeGreaterThan(0);
  });

  it("close() commits what was queued, then refuses new work", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const store = createPostgresStore({ connectionString: PG_URL, schema });
    const pending = store.append([event(), event()]);
    await store.close();
    expect((await pending).map((r) => r.seq)).toEqual([1, 2]);
    expect((await rejection(store.append([event()]))).code).toBe("store_failed");
    expect((await rejection(store.headSeq("app1"))).code).toBe("store_failed");
    const again = open(schema);
    expect(await again.headSeq("app1")).toBe(2);
  });
});
