/**
 * Issue 5 benchmark: ingest throughput over HTTP against the library's own emit, in one run.
 * The server is a real `authbus serve` child process on loopback (so its CPU is its own), driven
 * by undici with keep-alive: one event per request, and batches of 100 per request (one
 * group-commit call each). The library baseline is emit() in this process on its own database.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { createAuthbus } from "../src/index.js";
import { fmt, summarize, tempDir } from "./lib.js";

const KEY = "bench-admin-key-0123456789abcdef";
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/server/main.ts");

const payload = (i: number) => ({
  user: { id: `user-${i % 1000}`, standard_attributes: { email: `user-${i % 1000}@example.com`, email_verified: true, name: "Ada Lovelace" } },
  session: { id: `sess-${i}`, type: "idp", amr: ["pwd"] },
});
const context = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (bench)", preferred_languages: ["en"] };

export interface ServerRow {
  name: string;
  concurrency: number;
  events: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function startServer(): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const db = path.join(tempDir("authbus-bench-server-"), "server.db");
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, AUTHBUS_PORT: "0", AUTHBUS_HOST: "127.0.0.1", AUTHBUS_DATABASE_URL: `sqlite:${db}`, AUTHBUS_ADMIN_KEY: KEY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // The request log is part of what a real server pays for; read it so the pipe never blocks.
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
      if (out.length > 1e6) out = "";
    });
    child.once("exit", (code) => reject(new Error(`authbus serve exited with ${code}`)));
  });
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function drive(name: string, concurrency: number, durationMs: number, perCall: number, call: (i: number) => Promise<void>): Promise<ServerRow> {
  const latencies: number[] = [];
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - start < durationMs) {
        const i = n;
        n += perCall;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const events = latencies.length * perCall;
  return { name, concurrency, events, perSecond: (events / elapsed) * 1000, ...summarize(latencies) };
}

async function httpRows(durationMs: number): Promise<ServerRow[]> {
  const server = await startServer();
  const pool = new Pool(server.url, { connections: 64, pipelining: 1 });
  const post = async (body: unknown) => {
    const res = await pool.request({ path: "/v1/events", method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    await res.body.dump();
    if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}`);
  };
  try {
    const rows: ServerRow[] = [];
    // Warm-up: connections, JIT, the writer thread.
    await drive("warm-up", 16, Math.min(500, durationMs), 1, (i) => post({ type: "user.authenticated", payload: payload(i), context }));
    for (const c of [1, 64]) rows.push(await drive("HTTP POST /v1/events, one event per request", c, durationMs, 1, (i) => post({ type: "user.authenticated", payload: payload(i), context })));
    for (const c of [1, 8]) {
      rows.push(
        await drive("HTTP POST /v1/events, batch of 100 per request", c, durationMs, 100, (i) =>
          post({ events: Array.from({ length: 100 }, (_, j) => ({ type: "user.authenticated", payload: payload(i + j), context })) }),
        ),
      );
    }
    return rows;
  } finally {
    await pool.close();
    await server.stop();
  }
}

async function libraryRows(durationMs: number): Promise<ServerRow[]> {
  const bus = createAuthbus({ database: `sqlite:${path.join(tempDir("authbus-bench-lib-"), "lib.db")}`, delivery: { enabled: false } });
  try {
    const rows: ServerRow[] = [];
    // The same concurrencies as the HTTP rows, so each HTTP row has its reference from this run.
    await drive("warm-up", 16, Math.min(500, durationMs), 1, async (i) => void (await bus.emit("user.authenticated", payload(i), context)));
    for (const c of [1, 8, 64]) rows.push(await drive("library emit() in process (reference)", c, durationMs, 1, async (i) => void (await bus.emit("user.authenticated", payload(i), context))));
    return rows;
  } finally {
    await bus.close();
  }
}

export async function runServerBenchmark(durationMs = Number(process.env.BENCH_MS ?? 3000)): Promise<{ rows: ServerRow[]; markdown: string }> {
  const library = await libraryRows(durationMs);
  const http = await httpRows(durationMs);
  const rows = [...library, ...http];
  const reference = (concurrency: number) => library.find((r) => r.concurrency === concurrency) ?? library[library.length - 1]!;
  const best = library.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const lines = [
    "Server: `authbus serve` in a child process on loopback (SQLite, `synchronous=FULL`, JSON request logs on), driven with undici keep-alive connections " +
      "(one event per request, and batches of 100 events per request). Latency is per request (a batch request carries 100 events; for emit() it is one event). " +
      "The reference is the library's own emit() in this process on its own database, measured in the same run at the same numbers of concurrent callers; " +
      "the last column divides each row's events/s by emit() at the same concurrency.",
    "",
    "| Path | Concurrent callers | Events | Events/s | p50 latency (ms) | p99 latency (ms) | Reference emit() events/s | Reference emit() p50 / p99 (ms) | × emit() events/s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const ref = reference(r.concurrency);
      return `| ${r.name} | ${r.concurrency} | ${fmt(r.events)} | ${fmt(r.perSecond)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(ref.perSecond)} | ${fmt(ref.p50, 3)} / ${fmt(ref.p99, 3)} | ${fmt(r.perSecond / ref.perSecond, 2)} |`;
    }),
    "",
    `Best library emit() in this run: ${fmt(best.perSecond)} events/s at ${best.concurrency} concurrent emitters (p50 ${fmt(best.p50, 3)} ms, p99 ${fmt(best.p99, 3)} ms).`,
  ];
  return { rows, markdown: lines.join("\n") };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdown } = await runServerBenchmark();
  console.log(markdown);
}
