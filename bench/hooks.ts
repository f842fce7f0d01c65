/**
 * Issue 3 benchmark: what blocking hooks cost.
 * (a) `bus.before` with one in-process allow hook against calling the same function directly:
 *     the engine's overhead (validation, envelope, deadline, answer check, ledger record).
 * (b) `bus.before` with one HTTP hook on loopback against a bare undici request to the same
 *     server: the overhead of signing, the SSRF-guarded agent, strict parsing and the ledger.
 * Sequential calls, one at a time, so the numbers are latencies, not throughput.
 */
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { createAuthbus, type HookEvent } from "../src/index.js";
import { fmt, summarize, tempDir } from "./lib.js";

const payload = {
  user: { id: "user-1", standard_attributes: { email: "ada@example.com", email_verified: true, name: "Ada Lovelace" }, custom_attributes: { plan: "free" } },
  identities: [{ id: "identity-1", type: "login_id", claims: { email: "ada@example.com" } }],
};
const context = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (bench)", preferred_languages: ["en"] };

interface Row {
  name: string;
  n: number;
  p50: number;
  p99: number;
}

async function measure(name: string, n: number, warmup: number, fn: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < warmup; i++) await fn();
  const us: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    us[i] = (performance.now() - t) * 1000;
  }
  return { name, n, ...summarize(us) };
}

async function inProcess(n: number): Promise<[Row, Row]> {
  const hook = (_e: HookEvent<"user.pre_create">) => ({ is_allowed: true });
  const bus = createAuthbus({ database: `sqlite:${path.join(tempDir("authbus-bench-hooks-"), "bus.db")}` });
  bus.hooks.add("user.pre_create", hook);
  const event = { id: "x", seq: 0 as const, type: "user.pre_create" as const, payload, context: { app_id: "default", timestamp: 0, triggered_by: "user" as const, preferred_languages: [], language: "en" } };
  const direct = await measure("hook function called directly (await)", n, n / 5, async () => hook(event));
  const viaBus = await measure("bus.before, one in-process allow hook", n, n / 5, () => bus.before("user.pre_create", payload, context));
  await bus.close();
  return [direct, viaBus];
}

async function overHttp(n: number): Promise<[Row, Row]> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"is_allowed":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const body = JSON.stringify({ id: "x", seq: 0, type: "user.pre_create", payload, context });
  const bare = await measure("bare undici POST to the same server", n, n / 10, async () => {
    const r = await request(url, { dispatcher: agent, method: "POST", headers: { "content-type": "application/json" }, body });
    await r.body.json();
  });
  const bus = createAuthbus({ database: `sqlite:${path.join(tempDir("authbus-bench-hooks-"), "bus.db")}`, allowPrivateNetworks: true });
  bus.hooks.add("user.pre_create", { url });
  const viaBus = await measure("bus.before, one HTTP hook on loopback", n, n / 10, () => bus.before("user.pre_create", payload, context));
  await bus.close();
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return [bare, viaBus];
}

export async function runHooksBenchmark(options: { inProcessCalls?: number; httpCalls?: number } = {}): Promise<{ markdown: string }> {
  const [direct, local] = await inProcess(options.inProcessCalls ?? 50_000);
  const [bare, remote] = await overHttp(options.httpCalls ?? 3_000);
  const row = (r: Row, base?: Row) =>
    `| ${r.name} | ${fmt(r.n)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${base ? `+${fmt(r.p50 - base.p50, 1)} / +${fmt(r.p99 - base.p99, 1)}` : "baseline"} |`;
  const markdown = [
    "| Call | Calls | p50 (µs) | p99 (µs) | Added p50 / p99 (µs) |",
    "| --- | ---: | ---: | ---: | ---: |",
    row(direct),
    row(local, direct),
    row(bare),
    row(remote, bare),
  ].join("\n");
  return { markdown };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdown } = await runHooksBenchmark();
  console.log(markdown);
}
