/**
 * Issue 4 benchmark: webhook delivery. Deliveries/s from recorded events to a loopback receiver
 * (a child process answering 204) against (a) a raw undici loop posting the same bodies, (b) the
 * same signed delivery with retries on BullMQ and (c) on pg-boss; emit-to-receipt latency at
 * 1,000 events/s; and a large pending backlog (RSS and throughput). All in one run, as ratios.
 */
import fs from "node:fs";
import path from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createAuthbus, type Authbus } from "../src/index.js";
import type { Envelope } from "../src/core/envelope.js";
import { buildWebhookRequest, webhookUserAgent } from "../src/core/delivery/webhook-request.js";
import { readAuthbusVersion } from "../src/version.js";
import { fmt, settle, summarize, tempDir } from "./lib.js";
import { startReceiverProcess, wallNow, type ReceiverHandle } from "./receiver-process.js";
import type { QueueRun } from "./baselines/bullmq.js";
import type { DeliveryJob } from "./baselines/http.js";

const IN_FLIGHT = 64;
const payload = (i: number) => ({
  user: { id: `user-${i % 1000}`, standard_attributes: { email: `user-${i % 1000}@example.com`, email_verified: true, name: "Ada Lovelace" } },
  session: { id: `sess-${i}`, type: "idp", amr: ["pwd"] },
});
const context = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (bench)", preferred_languages: ["en"] };
const open = (file: string, delivering: boolean, synchronous?: "NORMAL") =>
  createAuthbus({ database: `sqlite:${file}`, allowPrivateNetworks: true, delivery: delivering ? { maxInFlight: IN_FLIGHT } : { enabled: false }, ...(synchronous ? { sqlite: { synchronous } } : {}) });

const timeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref())]);

/** Peak RSS and peak V8 heap in use (MB), sampled every 100 ms. */
function rssSampler() {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  sample();
  const t = setInterval(sample, 100);
  return { stop: () => (clearInterval(t), sample(), { rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 }) };
}

/** Records `n` events for a new, paused subscription with delivery off; stops early at `maxMs`. */
async function record(file: string, url: string, n: number, o: { concurrency?: number; maxMs?: number; synchronous?: "NORMAL" } = {}) {
  const bus = open(file, false, o.synchronous);
  const sub = await bus.subscriptions.create({ name: "bench", filter: ["user.**"], destination: { type: "webhook", url }, retry_schedule: [0, 5, 300] });
  await bus.subscriptions.pause(sub.id);
  let next = 0;
  const start = performance.now();
  const deadline = start + (o.maxMs ?? Infinity);
  await Promise.all(
    Array.from({ length: o.concurrency ?? 256 }, async () => {
      while (next < n && performance.now() < deadline) await bus.emit("user.authenticated", payload(next++), context);
    }),
  );
  const perSecond = (next / (performance.now() - start)) * 1000;
  return { bus, sub, events: next, perSecond };
}

async function envelopesOf(bus: Authbus): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for (let after = 0; ; ) {
    const page = (await bus.query({ after_seq: after, limit: 1000 })) as Envelope[];
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.seq;
  }
}

/** A throughput round's input: `n` events recorded for a paused subscription, and the same deliveries pre-signed for the baselines. */
async function recordRound(file: string, url: string, n: number, userAgent: string) {
  const rec = await record(file, url, n);
  const envelopes = await envelopesOf(rec.bus);
  await rec.bus.close();
  const requests = envelopes.map((e) => {
    const r = buildWebhookRequest(e, { id: rec.sub.id, format: "native", secrets: [rec.sub.secret] }, { nowSeconds: Math.floor(Date.now() / 1000), userAgent });
    if (!r.ok) throw new Error(r.skip);
    return { body: r.body, headers: r.headers };
  });
  return { sub: rec.sub, envelopes, requests };
}

/** Baseline (a), timed like the others (settled machine, receiver's last unique id); also its CPU per request. */
async function timeRaw(receiver: ReceiverHandle, requests: { body: string; headers: Record<string, string> }[]): Promise<{ perSecond: number; cpuUs: number }> {
  const { rawUndici } = await import("./baselines/raw-undici.js");
  await settle();
  await receiver.reset(requests.length);
  const t = wallNow();
  const cpu = process.cpuUsage();
  await rawUndici(receiver.url, requests, IN_FLIGHT);
  const perSecond = (requests.length / ((await receiver.reached()).at - t)) * 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond, cpuUs: (used.user + used.system) / requests.length };
}

interface Delivered {
  fanoutPerSecond: number;
  deliveredPerSecond: number;
  fanoutRssMb: number;
  deliveryRssMb: number;
  deliveryHeapMb: number;
  /** CPU time of the delivering process (all its threads) from resume() to stop, per delivery. */
  cpuUsPerDelivery: number;
}

type FromDeliverer = { kind: "fanned"; fanoutPerSecond: number; rssMb: number } | { kind: "resumed"; at: number } | { kind: "stopped"; rssMb: number; heapMb: number; cpuUs: number };

/**
 * Delivers in a fresh child process, so its RSS is the delivering process's alone: the paused
 * subscription is fanned out into `pending` deliveries first (timed: the analogue of enqueueing),
 * then resumed; the delivery figure is the time from resume() until the receiver has seen
 * `window` unique webhook-ids. `BENCH_CPU_PROF=dir` profiles the child (node --cpu-prof).
 */
async function deliver(file: string, subId: string, pending: number, window: number, receiver: ReceiverHandle): Promise<Delivered> {
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : [];
  const child = fork(fileURLToPath(import.meta.url), ["--deliver-child", file, subId, String(pending)], { execArgv: ["--import", "tsx", ...prof] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = <K extends FromDeliverer["kind"]>(kind: K) =>
    timeout(
      new Promise<Extract<FromDeliverer, { kind: K }>>((resolve, reject) => {
        child.once("message", (m: FromDeliverer) => (m.kind === kind ? resolve(m as Extract<FromDeliverer, { kind: K }>) : reject(new Error(`unexpected ${m.kind}`))));
        child.once("exit", (code) => reject(new Error(`delivering process exited (${code}) before ${kind}`)));
      }),
      600_000,
      kind,
    );
  try {
    const fanned = await next("fanned");
    await settle();
    await receiver.reset(window);
    const resumed = next("resumed");
    child.send("resume");
    const t1 = (await resumed).at;
    const { at } = await timeout(receiver.reached(), 600_000, `${window} deliveries`);
    const stopped = next("stopped");
    child.send("stop");
    const { rssMb, heapMb, cpuUs } = await stopped;
    return { fanoutPerSecond: fanned.fanoutPerSecond, deliveredPerSecond: (window / (at - t1)) * 1000, fanoutRssMb: fanned.rssMb, deliveryRssMb: rssMb, deliveryHeapMb: heapMb, cpuUsPerDelivery: cpuUs / window };
  } finally {
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null) child.kill();
    await exited;
  }
}

async function deliverChild(file: string, subId: string, pending: number): Promise<void> {
  const send = (m: FromDeliverer) => process.send!(m);
  let rss = rssSampler();
  let cpu = process.cpuUsage();
  const t0 = performance.now();
  const bus = open(file, true);
  while ((await bus.subscriptions.health(subId)).backlog < pending) await new Promise((r) => setTimeout(r, 100));
  send({ kind: "fanned", fanoutPerSecond: (pending / (performance.now() - t0)) * 1000, rssMb: rss.stop().rssMb });
  // BENCH_DELIVERY_PROF=dir: a CPU profile of the main thread from resume() to stop only (no start-up, no fan-out).
  const profDir = process.env.BENCH_DELIVERY_PROF;
  const inspector = profDir ? new (await import("node:inspector")).Session() : undefined;
  const post = (method: string) => new Promise<unknown>((resolve, reject) => inspector!.post(method, (e, r) => (e ? reject(e) : resolve(r))));
  process.on("message", async (m: string) => {
    if (m === "resume") {
      if (inspector) (inspector.connect(), await post("Profiler.enable"), await post("Profiler.start"));
      rss = rssSampler();
      cpu = process.cpuUsage();
      const at = wallNow();
      await bus.subscriptions.resume(subId);
      send({ kind: "resumed", at });
    } else if (m === "stop") {
      const peak = rss.stop();
      const used = process.cpuUsage(cpu);
      if (inspector) {
        const { profile } = (await post("Profiler.stop")) as { profile: unknown };
        fs.writeFileSync(path.join(profDir!, `delivery-${process.pid}.cpuprofile`), JSON.stringify(profile));
      }
      await bus.close();
      send({ kind: "stopped", ...peak, cpuUs: used.user + used.system });
      process.disconnect();
    }
  });
}

async function timeQueue(receiver: ReceiverHandle, n: number, make: () => Promise<QueueRun>): Promise<{ enqueuePerSecond: number; perSecond: number }> {
  const run = await make();
  try {
    await settle();
    await receiver.reset(n);
    const t = wallNow();
    await run.process();
    const { at } = await timeout(receiver.reached(), 600_000, "queue deliveries");
    return { enqueuePerSecond: run.enqueuePerSecond, perSecond: (n / (at - t)) * 1000 };
  } finally {
    await run.cleanup();
  }
}

/** Emits at `rate`/s for `n` events (after `warmup` more, not counted); latency = receiver arrival − emit call. */
async function latency(dir: string, receiver: ReceiverHandle, n: number, warmup: number, rate = 1000) {
  const bus = open(path.join(dir, "latency.db"), true);
  try {
    await bus.subscriptions.create({ name: "live", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 5, 300] });
    await receiver.reset(warmup + n, { record: true });
    const emitAt: number[] = [];
    const ids: string[] = [];
    const emitMs: number[] = [];
    const pending: Promise<void>[] = [];
    const start = performance.now();
    let sent = 0;
    while (sent < warmup + n) {
      const due = Math.min(warmup + n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const i = sent;
        const t = performance.now();
        emitAt[i] = performance.timeOrigin + t;
        pending.push(bus.emit("user.authenticated", payload(i), context).then((r) => void ((ids[i] = r.id), i >= warmup && emitMs.push(performance.now() - t))));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const achieved = ((warmup + n) / (performance.now() - start)) * 1000;
    await Promise.all(pending);
    await timeout(receiver.reached(), 120_000, "latency deliveries");
    const arrivals = await receiver.arrivals();
    const lat = ids.slice(warmup).map((id, k) => arrivals.get(id)! - emitAt[warmup + k]!);
    return { achieved, n, ...summarize(lat), emit: summarize(emitMs) };
  } finally {
    await bus.close();
  }
}

const PG_URL = process.env.AUTHBUS_BENCH_POSTGRES_URL ?? `postgres://${process.env.PGUSER ?? "postgres"}@127.0.0.1:5432/test`;

/**
 * Issue 6: the same subscription delivered by 1 and by 3 worker processes on PostgreSQL (claims).
 * `n` events are recorded first for a paused subscription; the workers start and fan out; then it is resumed.
 * Deliveries/s is timed from the receiver's first unique id to its n-th, so process start-up is
 * not counted.
 */
async function pgWorkers(receiver: ReceiverHandle, n: number, workers: number): Promise<number> {
  const schema = `authbus_bench_dw_${process.pid}_${workers}_${Date.now() % 100_000}`;
  const admin = createAuthbus({ database: PG_URL, postgres: { schema }, allowPrivateNetworks: true, delivery: { enabled: false } });
  const children: ChildProcess[] = [];
  try {
    const sub = await admin.subscriptions.create({ name: "bench", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 5, 300] });
    await admin.subscriptions.pause(sub.id);
    let next = 0;
    await Promise.all(Array.from({ length: 256 }, async () => {
      while (next < n) await admin.emit("user.authenticated", payload(next++), context);
    }));
    await receiver.reset(n);
    // Every worker up (and the paused subscription fanned out) before the work is released, so no start-up competes with the timed part.
    const ready: Promise<unknown>[] = [];
    for (let i = 0; i < workers; i++) {
      const c = fork(fileURLToPath(import.meta.url), ["--pg-worker", schema], { execArgv: ["--import", "tsx"] });
      children.push(c);
      ready.push(timeout(new Promise((r) => c.once("message", r)), 120_000, "a PostgreSQL worker to start"));
    }
    await Promise.all(ready);
    while ((await admin.subscriptions.health(sub.id)).backlog < n) await new Promise((r) => setTimeout(r, 100));
    await settle();
    await admin.subscriptions.resume(sub.id);
    const { at, firstAt } = await timeout(receiver.reached(), 600_000, `${n} deliveries by ${workers} PostgreSQL workers`);
    return (n / (at - firstAt)) * 1000;
  } finally {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : (c.once("exit", () => resolve()), c.kill("SIGTERM"))))));
    await admin.close();
    const pg = (await import("pg")).default;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => c.end());
  }
}

async function pgWorkerChild(schema: string): Promise<void> {
  const bus = createAuthbus({ database: PG_URL, postgres: { schema }, allowPrivateNetworks: true, delivery: { maxInFlight: IN_FLIGHT } });
  process.once("SIGTERM", () => void bus.close().then(() => process.exit(0)));
  await bus.subscriptions.list();
  process.send!("ready");
}

export async function runDeliveryBenchmark(opts: { quick?: boolean } = {}): Promise<{ markdown: string }> {
  const quick = opts.quick ?? process.env.BENCH_QUICK === "1";
  // Loaded here, not at the top: the delivering child process (same file) must not carry them.
  const { bullmqBaseline } = await import("./baselines/bullmq.js");
  const { pgBossBaseline } = await import("./baselines/pg-boss.js");
  const N = quick ? 5_000 : 20_000;
  const BACKLOG = quick ? 100_000 : 1_000_000;
  const WINDOW = quick ? 10_000 : 20_000;
  const ROUNDS = quick ? 1 : 3;
  const log = (s: string) => console.error(`[delivery] ${s}`);
  const dir = tempDir("authbus-bench-delivery-");
  const receiver = await startReceiverProcess();
  const userAgent = webhookUserAgent(readAuthbusVersion());
  try {
    // Interleaved rounds, best of each: a 2-core machine's noise hits one sender at a time.
    const runs = { ours: [] as Delivered[], raw: [] as number[], bull: [] as { enqueuePerSecond: number; perSecond: number }[], boss: [] as { enqueuePerSecond: number; perSecond: number }[] };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: recording ${fmt(N)} events`);
      const file = path.join(dir, `throughput-${round}.db`);
      const rec = await recordRound(file, receiver.url, N, userAgent);
      const { envelopes, requests } = rec;
      const jobs: DeliveryJob[] = envelopes.map((e, i) => ({ id: e.id, body: requests[i]!.body }));
      log("authbus");
      runs.ours.push(await deliver(file, rec.sub.id, N, N, receiver));
      log("raw undici");
      runs.raw.push((await timeRaw(receiver, requests)).perSecond);
      log("bullmq");
      runs.bull.push(await timeQueue(receiver, N, () => bullmqBaseline({ url: receiver.url, jobs, secret: rec.sub.secret, userAgent, concurrency: IN_FLIGHT })));
      log("pg-boss");
      runs.boss.push(await timeQueue(receiver, N, () => pgBossBaseline({ url: receiver.url, jobs, secret: rec.sub.secret, userAgent, loops: 2, batchSize: 32 })));
    }
    const best = <T>(xs: T[], by: (x: T) => number) => xs.reduce((a, b) => (by(b) > by(a) ? b : a));
    const ours = best(runs.ours, (r) => r.deliveredPerSecond);
    const raw = Math.max(...runs.raw);
    const bull = best(runs.bull, (r) => r.perSecond);
    const boss = best(runs.boss, (r) => r.perSecond);
    const all = [runs.ours.map((r) => r.deliveredPerSecond), runs.raw, runs.bull.map((r) => r.perSecond), runs.boss.map((r) => r.perSecond)].map((xs) => xs.map((x) => fmt(x)).join(" / "));

    log("latency at 1,000 events/s");
    const lat = await latency(dir, receiver, quick ? 2_000 : 5_000, 1_000);

    log(`recording the backlog (${fmt(BACKLOG)} events, at most 180 s)`);
    const big = await record(path.join(dir, "backlog.db"), receiver.url, BACKLOG, { concurrency: 1024, maxMs: 180_000, synchronous: "NORMAL" });
    await big.bus.close();
    log(`recorded ${fmt(big.events)} events at ${fmt(big.perSecond)}/s; fan-out and ${fmt(WINDOW)} deliveries`);
    const backlog = await deliver(path.join(dir, "backlog.db"), big.sub.id, big.events, WINDOW, receiver);

    const PG_N = quick ? 5_000 : 20_000;
    log(`PostgreSQL: ${fmt(PG_N)} deliveries by 1 worker process, then by 3`);
    const pg1 = await pgWorkers(receiver, PG_N, 1);
    const pg3 = await pgWorkers(receiver, PG_N, 3);

    const ok = (met: boolean) => (met ? "yes" : "**no**");
    const e2e = (prepPerSecond: number, perSecond: number) => 1 / (1 / prepPerSecond + 1 / perSecond);
    const ourE2e = e2e(ours.fanoutPerSecond, ours.deliveredPerSecond);
    const rows: [string, string, number, number, string][] = [
      ["Authbus (SQLite, signed, retries, attempt log)", `fan-out ${fmt(ours.fanoutPerSecond)}/s`, ours.deliveredPerSecond, ourE2e, "—"],
      ["(a) raw undici loop, pre-signed bodies", "—", raw, raw, "≥ 0.6"],
      ["(b) BullMQ worker, signs + undici, attempts 8", `enqueue ${fmt(bull.enqueuePerSecond)}/s`, bull.perSecond, e2e(bull.enqueuePerSecond, bull.perSecond), "≥ 3"],
      ["(c) pg-boss 10, 2 fetch loops × batch 32, signs + undici", `enqueue ${fmt(boss.enqueuePerSecond)}/s`, boss.perSecond, e2e(boss.enqueuePerSecond, boss.perSecond), "≥ 5"],
    ];
    const targets: [string, string, boolean][] = [
      ["Authbus ÷ raw undici ≥ 0.6", fmt(ours.deliveredPerSecond / raw, 2), ours.deliveredPerSecond / raw >= 0.6],
      ["Authbus ÷ BullMQ ≥ 3", fmt(ours.deliveredPerSecond / bull.perSecond, 2), ours.deliveredPerSecond / bull.perSecond >= 3],
      ["Authbus ÷ pg-boss ≥ 5", fmt(ours.deliveredPerSecond / boss.perSecond, 2), ours.deliveredPerSecond / boss.perSecond >= 5],
      ["emit-to-receipt p50 ≤ 5 ms at 1,000 events/s", `${fmt(lat.p50, 2)} ms`, lat.p50 <= 5],
      ["emit-to-receipt p99 ≤ 25 ms at 1,000 events/s", `${fmt(lat.p99, 2)} ms`, lat.p99 <= 25],
      [`RSS ≤ 300 MB delivering from a ${fmt(big.events)}-delivery backlog`, `${fmt(Math.max(backlog.fanoutRssMb, backlog.deliveryRssMb))} MB`, Math.max(backlog.fanoutRssMb, backlog.deliveryRssMb) <= 300],
      ["PostgreSQL: 3 worker processes ≥ 2 × 1 (issue 6)", fmt(pg3 / pg1, 2), pg3 / pg1 >= 2],
      ["backlog throughput ≥ 0.5 × empty-queue", fmt(backlog.deliveredPerSecond / ours.deliveredPerSecond, 2), backlog.deliveredPerSecond / ours.deliveredPerSecond >= 0.5],
    ];
    const md = [
      "Method: the receiver is a node:http server in its own process (204 at once, counts unique `webhook-id`s). Authbus delivers in a fresh child process " +
        "(SQLite, `synchronous=FULL`, `maxInFlight: 64`): its paused subscription is first fanned out into pending deliveries (timed separately, the analogue of " +
        "enqueueing), then resumed; deliveries/s is the time from resume() to the receiver's last unique id. The baselines post the same native bodies over an undici " +
        "pool of 64 connections; BullMQ and pg-boss sign every attempt (Standard Webhooks HMAC) and retry on non-2xx, and are timed from worker start, jobs already " +
        "enqueued. Redis runs with its local configuration (here no AOF: BullMQ's jobs are not fsynced); PostgreSQL commits durably. Latency times are wall-clock " +
        "`performance.timeOrigin + performance.now()` in both processes. Before each timed run the bench waits (at most 15 s) until the CPUs are at least 85% idle, " +
        "so no sender inherits the previous one's background work.",
      "",
      `### Throughput: ${fmt(N)} recorded events, ${IN_FLIGHT} in flight, loopback receiver in a child process (best of ${ROUNDS} interleaved round${ROUNDS > 1 ? "s" : ""})`,
      "",
      "| Sender | Making the deliveries | Deliveries/s | Every round | End-to-end/s (make + deliver) | Authbus ÷ this (deliveries/s) | Target |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(([name, prep, ps, e, target], i) => `| ${name} | ${prep} | ${fmt(ps)} | ${all[i]} | ${fmt(e)} | ${fmt(ours.deliveredPerSecond / ps, 2)} | ${target} |`),
      "",
      `### Emit-to-receipt latency at 1,000 events/s (${fmt(lat.n)} events after a 1 s warm-up; emitted at ${fmt(lat.achieved)}/s)`,
      "",
      "| Measure | p50 (ms) | p99 (ms) |",
      "| --- | ---: | ---: |",
      `| emit() call → receiver has the request | ${fmt(lat.p50, 2)} | ${fmt(lat.p99, 2)} |`,
      `| emit() call → emit() resolves (durable) | ${fmt(lat.emit.p50, 2)} | ${fmt(lat.emit.p99, 2)} |`,
      "",
      `### Backlog: ${fmt(big.events)} pending deliveries${big.events < BACKLOG ? ` (**not ${fmt(BACKLOG)}**: recording stopped at its 180 s budget)` : ""}`,
      "",
      "| Measure | Value |",
      "| --- | ---: |",
      `| Events recorded (1,024 concurrent emitters, synchronous=NORMAL) | ${fmt(big.events)} at ${fmt(big.perSecond)}/s |`,
      `| Fan-out into pending deliveries | ${fmt(backlog.fanoutPerSecond)}/s (${fmt(big.events / backlog.fanoutPerSecond, 1)} s), peak RSS ${fmt(backlog.fanoutRssMb)} MB |`,
      `| Deliveries/s over the first ${fmt(WINDOW)} | ${fmt(backlog.deliveredPerSecond)} (empty queue: ${fmt(ours.deliveredPerSecond)}) |`,
      `| Peak RSS while delivering | ${fmt(backlog.deliveryRssMb)} MB (V8 heap in use at most ${fmt(backlog.deliveryHeapMb)} MB) |`,
      "",
      `### PostgreSQL: ${fmt(PG_N)} deliveries shared by worker processes (claims, \`FOR UPDATE SKIP LOCKED\`)`,
      "",
      "Events recorded first for a paused subscription; the workers start and fan it out, then it is resumed (workers see that by polling) and they deliver (each with `maxInFlight: 64`); timed from the receiver's first unique id to the last. Receiver, PostgreSQL and every worker share the machine's cores.",
      "",
      "| Workers | Deliveries/s | ÷ 1 worker |",
      "| --- | ---: | ---: |",
      `| 1 | ${fmt(pg1)} | 1.00 |`,
      `| 3 | ${fmt(pg3)} | ${fmt(pg3 / pg1, 2)} |`,
      "",
      "### Targets",
      "",
      "| Target | Measured | Met |",
      "| --- | ---: | :---: |",
      ...targets.map(([t, v, m]) => `| ${t} | ${v} | ${ok(m)} |`),
    ];
    return { markdown: md.join("\n") };
  } finally {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--pg-worker") {
  await pgWorkerChild(process.argv[3]!);
} else if (process.argv[2] === "--deliver-child") {
  await deliverChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes("--pg-only")) {
  // Just the worker comparison: `npx tsx bench/delivery.ts --pg-only [n]`.
  const receiver = await startReceiverProcess();
  const n = Number(process.argv[process.argv.indexOf("--pg-only") + 1]) || 5_000;
  const one = await pgWorkers(receiver, n, 1);
  const three = await pgWorkers(receiver, n, 3);
  console.log(`PostgreSQL ${fmt(n)} deliveries: 1 worker ${fmt(one)}/s, 3 workers ${fmt(three)}/s (${fmt(three / one, 2)}×)`);
  await receiver.close();
} else if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes("--throughput-only")) {
  // Authbus against the raw undici loop only, alternating: `npx tsx bench/delivery.ts --throughput-only [rounds]`.
  const receiver = await startReceiverProcess();
  const rounds = Number(process.argv[process.argv.indexOf("--throughput-only") + 1]) || 3;
  const dir = tempDir("authbus-bench-delivery-");
  const userAgent = webhookUserAgent(readAuthbusVersion());
  try {
    for (let round = 1; round <= rounds; round++) {
      const file = path.join(dir, `t-${round}.db`);
      const rec = await recordRound(file, receiver.url, 20_000, userAgent);
      const d = await deliver(file, rec.sub.id, 20_000, 20_000, receiver);
      const raw = await timeRaw(receiver, rec.requests);
      console.log(
        `round ${round}: authbus ${fmt(d.deliveredPerSecond)}/s (${fmt(d.cpuUsPerDelivery, 1)} µs CPU each), raw undici ${fmt(raw.perSecond)}/s (${fmt(raw.cpuUs, 1)} µs), ratio ${fmt(d.deliveredPerSecond / raw.perSecond, 2)}`,
      );
    }
  } finally {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdown } = await runDeliveryBenchmark({ quick: process.argv.includes("--quick") || process.env.BENCH_QUICK === "1" });
  console.log(markdown);
}
