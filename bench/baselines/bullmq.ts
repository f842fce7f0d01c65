/**
 * Baseline (b): the same signed delivery with retries built on BullMQ. One job per event (id +
 * body), a Worker with `concurrency` whose processor signs and POSTs and throws on non-2xx
 * (attempts 8, exponential backoff). Enqueue is timed apart from processing.
 */
import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { createPoster, signedHeaders, type DeliveryJob } from "./http.js";

export interface QueueRun {
  /** Jobs added per second (addBulk in chunks of 1,000). */
  enqueuePerSecond: number;
  /** Starts the workers; resolves once they are running. Processing is timed by the caller (receiver). */
  process(): Promise<void>;
  /** Stops the workers and removes everything the run created. */
  cleanup(): Promise<void>;
}

export async function bullmqBaseline(o: { url: string; jobs: DeliveryJob[]; secret: string; userAgent: string; concurrency: number }): Promise<QueueRun> {
  const connection = { host: "127.0.0.1", port: 6379, maxRetriesPerRequest: null };
  const name = "deliveries";
  const prefix = `authbus-bench-${randomUUID()}`;
  const queue = new Queue<DeliveryJob>(name, { connection, prefix });
  const t0 = performance.now();
  for (let i = 0; i < o.jobs.length; i += 1000) {
    await queue.addBulk(
      o.jobs.slice(i, i + 1000).map((data) => ({
        name: "deliver",
        data,
        opts: { attempts: 8, backoff: { type: "exponential", delay: 5000 }, removeOnComplete: true, removeOnFail: false },
      })),
    );
  }
  const enqueuePerSecond = (o.jobs.length / (performance.now() - t0)) * 1000;
  const poster = createPoster(o.url, o.concurrency);
  let worker: Worker<DeliveryJob> | undefined;
  return {
    enqueuePerSecond,
    async process() {
      worker = new Worker<DeliveryJob>(name, (job) => poster.post(signedHeaders(o.secret, o.userAgent, job.data), job.data.body), {
        connection,
        prefix,
        concurrency: o.concurrency,
      });
      await worker.waitUntilReady();
    },
    async cleanup() {
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await poster.close();
    },
  };
}
