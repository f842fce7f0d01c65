import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createAuthbus, fromPg } from "../../src/index.js";
import { until, user } from "../helpers.js";
import { startReceiver } from "../delivery/receiver.js";
import { dropSchema, PG_URL, uniqueSchema } from "./pg-helpers.js";

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

function pgBus(extra: Record<string, unknown> = {}) {
  const schema = uniqueSchema("authbus_rt");
  schemas.push(schema);
  return { schema, bus: createAuthbus({ database: PG_URL, postgres: { schema }, allowPrivateNetworks: true, ...extra }) };
}

describe("createAuthbus on PostgreSQL", () => {
  it("emits, queries, runs durable handlers and delivers webhooks like on SQLite", async () => {
    const { bus } = pgBus();
    const receiver = await startReceiver();
    const handled: number[] = [];
    bus.on("user.**", (e) => void handled.push(e.seq), { name: "pg-handler" });
    const sub = await bus.subscriptions.create({ name: "pg", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } });
    const a = await bus.emit("user.created", { user: user("u1"), identities: [] });
    const b = await bus.emit("user.profile.updated", { user: user("u1") });
    expect([a.seq, b.seq]).toEqual([1, 2]);
    const events = await bus.query({ user_id: "u1" });
    expect(events.map((e) => [e.type, e.subject_seq])).toEqual([["user.created", 1], ["user.profile.updated", 2]]);
    await until(() => handled.length === 2, 10_000, "handler");
    await until(() => receiver.received.length === 2, 10_000, "webhooks");
    expect(receiver.ids().sort()).toEqual([a.id, b.id].sort());
    await until(async () => (await bus.subscriptions.health(sub.id)).backlog === 0, 10_000, "backlog drained");
    await bus.close();
    await receiver.close();
  });

  it("writes the event inside the caller's pg transaction: rollback records nothing, commit records one", async () => {
    const { schema, bus } = pgBus({ delivery: { enabled: false } });
    await bus.query(); // migrated
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE TABLE "${schema}".app_users (id text primary key)`);
    for (const commit of [false, true]) {
      await client.query("BEGIN");
      await client.query(`INSERT INTO "${schema}".app_users VALUES ($1)`, [commit ? "kept" : "dropped"]);
      await bus.emit("user.created", { user: user(commit ? "kept" : "dropped"), identities: [] }, {}, { tx: fromPg(client) });
      await client.query(commit ? "COMMIT" : "ROLLBACK");
    }
    const events = await bus.query({ type: "user.created" });
    expect(events.map((e) => e.payload.user.id)).toEqual(["kept"]);
    expect(events[0]!.seq).toBe(1);
    await client.end();
    await bus.close();
  });
});
