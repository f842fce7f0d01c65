/**
 * Baseline (c): the same signed delivery with retries built on pg-boss 10 (PostgreSQL on
 * 127.0.0.1:5432, database `test`, a schema of its own dropped afterwards). `loops` fetch loops
 * of `batchSize` jobs each (loops × batchSize ≈ Authbus's in-flight limit), every job of a batch
 * POSTed concurrently, then one complete() for the successes and one fail() for the failures
 * (retryLimit 7, exponential backoff). pg-boss's own `work()` sleeps up to its polling interval
 * (≥ 0.5 s) between batches, so a hand-written loop that fetches again at once is the fast way.
 */
import { randomUUID } from "node:crypto";
import PgBoss from "pg-boss";
import { createPoster, signedHeaders, type DeliveryJob } from "./http.js";
import type { QueueRun } from "./bullmq.js";

export async function pgBossBaseline(o: { url: string; jobs: DeliveryJob[]; secret: string; userAgent: string; loops: number; batchSize: number }): Promise<QueueRun> {
  const schema = `authbus_bench_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const user = process.env.PGUSER ?? "postgres";
  const boss = new PgBoss({ connectionString: `postgres://${user}@127.0.0.1:5432/test`, schema, supervise: false, schedule: false, max: o.loops + 2 });
  boss.on("error", (e) => console.error("pg-boss:", e.message));
  await boss.start();
  const name = "deliveries";
  await boss.createQueue(name, { name, retryLimit: 7, retryDelay: 5, retryBackoff: true });
  const t0 = performance.now();
  for (let i = 0; i < o.jobs.length; i += 1000) await boss.insert(o.jobs.slice(i, i + 1000).map((data) => ({ name, data })));
  const enqueuePerSecond = (o.jobs.length / (performance.now() - t0)) * 1000;
  const poster = createPoster(o.url, o.loops * o.batchSize);
  let stopping = false;
  let running: Promise<void>[] = [];
  const loop = async () => {
    while (!stopping) {
      const jobs = await boss.fetch<DeliveryJob>(name, { batchSize: o.batchSize });
      if (jobs.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const results = await Promise.allSettled(jobs.map((j) => poster.post(signedHeaders(o.secret, o.userAgent, j.data), j.data.body)));
      const ok = jobs.filter((_, i) => results[i]!.status === "fulfilled").map((j) => j.id);
      const failed = jobs.filter((_, i) => results[i]!.status === "rejected").map((j) => j.id);
      await Promise.all([ok.length ? boss.complete(name, ok) : undefined, failed.length ? boss.fail(name, failed) : undefined]);
    }
  };
  return {
    enqueuePerSecond,
    async process() {
      running = Array.from({ length: o.loops }, () => loop());
    },
    async cleanup() {
      stopping = true;
      await Promise.allSettled(running);
      await boss.getDb().executeSql(`DROP SCHEMA ${schema} CASCADE`, []);
      await boss.stop({ graceful: false, wait: true });
      await poster.close();
    },
  };
}
