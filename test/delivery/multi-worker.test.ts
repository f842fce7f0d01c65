import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { until } from "../helpers.js";
import { dropSchema, PG_URL, uniqueSchema } from "../stores/pg-helpers.js";
import { startReceiver } from "./receiver.js";

// Several worker processes share one PostgreSQL schema's deliveries through claims (issue 6).
const WORKER = path.resolve(__dirname, "pg-worker.ts");
const LEASE_MS = 3000;
const children = new Set<ChildProcess>();
const schemas: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

function worker(schema: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, PG_URL, schema, String(LEASE_MS)], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once("exit", r));
}

afterEach(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all([...children].map(exited));
  for (const f of cleanups.splice(0)) await f();
});
afterAll(async () => {
  for (const s of schemas.splice(0)) await dropSchema(s);
});

async function setUp(ordering: "none" | "subject", reply: Parameters<typeof startReceiver>[0], retry: number[]) {
  const schema = uniqueSchema("authbus_mw");
  schemas.push(schema);
  const receiver = await startReceiver(reply);
  const admin: Authbus = createAuthbus({ database: PG_URL, postgres: { schema }, allowPrivateNetworks: true, delivery: { enabled: false } });
  cleanups.push(async () => {
    await admin.close();
    await receiver.close();
  });
  const sub = await admin.subscriptions.create({ name: `mw-${ordering}`, filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, ordering, retry_schedule: retry });
  return { schema, receiver, admin, sub };
}

async function emit(admin: Authbus, n: number, users: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, n - i) }, (_, j) => admin.emit("user.authenticated", { user: { id: `user-${(i + j) % users}` }, session: { id: `s-${i + j}` } })));
  }
}

const unique = (ids: string[]) => new Set(ids).size;

/** The pids of the processes holding claims, sampled during the load: the work is shared, not done by one leader. */
async function sampleClaimers(schema: string): Promise<Set<number>> {
  const claimers = new Set<number>();
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await db.query<{ owner: string }>(`SELECT DISTINCT claimed_by AS owner FROM "${schema}".deliveries WHERE claimed_by IS NOT NULL`);
      for (const r of rows) claimers.add(Number(r.owner.split(":")[1]));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  cleanups.push(async () => {
    sampling = false;
    await sampler.catch(() => undefined);
    await db.end();
  });
  return claimers;
}

describe("several delivery workers on PostgreSQL", () => {
  it("3 workers deliver 20,000 events, every one, while one is SIGKILLed and restarted", async () => {
    const N = 20_000;
    const { schema, receiver, admin } = await setUp("none", async () => {
      await new Promise((r) => setTimeout(r, 2)); // some latency, so the kill lands on requests in flight
      return { status: 204 };
    }, [0, 1, 1, 1, 1, 1]);
    const workers = [worker(schema), worker(schema), worker(schema)];
    const t0 = Date.now();
    const claimers = await sampleClaimers(schema);
    const emitting = emit(admin, N, 500);
    await until(() => unique(receiver.ids()) >= 5000, 40_000, "5,000 deliveries");
    const victim = workers[0]!;
    victim.kill("SIGKILL");
    await exited(victim);
    const atKill = unique(receiver.ids());
    workers[0] = worker(schema);
    await emitting;
    await until(() => claimers.has(workers[0]!.pid!), 30_000, "the restarted worker to claim deliveries");
    await until(() => unique(receiver.ids()) === N, 40_000, "every event delivered");
    const ids = receiver.ids();
    console.log(`multi-worker: unique=${unique(ids)} (at kill ${atKill}), requests=${ids.length}, duplicates=${ids.length - unique(ids)}, ${Date.now() - t0} ms`);
    expect(unique(ids)).toBe(N);
    expect(atKill).toBeLessThan(N);
    for (const w of [victim, ...workers]) expect(claimers.has(w.pid!), `worker ${w.pid} claimed deliveries`).toBe(true);
    // The attempts are recorded: nothing is left pending.
    await until(async () => (await admin.deliveries.query({ state: "pending", limit: 1 })).data.length === 0, 10_000, "no pending deliveries");
  }, 60_000);

  it("subject ordering holds across 3 workers: each user's events arrive in seq order, users in parallel", async () => {
    let n = 0;
    const { schema, receiver, admin } = await setUp("subject", async () => {
      await new Promise((r) => setTimeout(r, 1));
      // Some failures, so retries (and their claims) take part.
      return ++n % 17 === 0 ? { status: 503 } : { status: 200 };
    }, [0, 0, 0, 0, 0, 0]);
    const workers = [worker(schema), worker(schema), worker(schema)];
    const claimers = await sampleClaimers(schema);
    const N = 1500;
    await emit(admin, N, 20);
    await until(() => unique(receiver.ids()) === N, 40_000, "every event delivered");
    const bySubject = new Map<string, number[]>();
    for (const r of receiver.received) {
      const e = JSON.parse(r.body) as { seq: number; context: { user_id: string } };
      bySubject.set(e.context.user_id, [...(bySubject.get(e.context.user_id) ?? []), e.seq]);
    }
    expect(bySubject.size).toBe(20);
    for (const [user, seqs] of bySubject) {
      // A retry repeats its seq; nothing ever goes backwards.
      const backwards = seqs.findIndex((s, i) => i > 0 && s < seqs[i - 1]!);
      expect(backwards, `${user}: ${seqs.slice(Math.max(0, backwards - 3), backwards + 2).join(",")}`).toBe(-1);
    }
    // Users interleave: the arrival order is not grouped by user.
    const users = receiver.received.map((r) => (JSON.parse(r.body) as { context: { user_id: string } }).context.user_id);
    expect(users.slice(0, 40).some((u, i) => i > 0 && u !== users[i - 1])).toBe(true);
    expect(workers.filter((w) => claimers.has(w.pid!)).length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
