/**
 * The loopback webhook receiver of the delivery benchmark, in a child process so it never shares
 * an event loop with the sender being measured. It answers 204 at once and counts unique
 * `webhook-id`s; the parent drives it over IPC. Times are wall-clock milliseconds with
 * sub-millisecond resolution, `performance.timeOrigin + performance.now()`, comparable across
 * processes on the same host.
 */
import http from "node:http";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";

export const wallNow = (): number => performance.timeOrigin + performance.now();

type ToChild = { cmd: "reset"; target: number; record: boolean } | { cmd: "arrivals" } | { cmd: "count" };
type FromChild =
  | { kind: "listening"; port: number }
  | { kind: "reached"; at: number; firstAt: number }
  | { kind: "arrivals"; ids: string[]; at: number[] }
  | { kind: "count"; unique: number; requests: number };

if (process.argv[2] === "--child") {
  let seen = new Set<string>();
  let arrivals: [string, number][] = [];
  let requests = 0;
  let target = Infinity;
  let record = false;
  let firstAt = 0;
  const server = http.createServer((req, res) => {
    const id = req.headers["webhook-id"];
    // Answer once the body is in (as a real receiver would), then count.
    req.on("data", () => undefined);
    req.on("end", () => {
      res.writeHead(204);
      res.end();
      const at = wallNow();
      requests++;
      if (typeof id !== "string" || seen.has(id)) return;
      seen.add(id);
      if (seen.size === 1) firstAt = at;
      if (record) arrivals.push([id, at]);
      if (seen.size === target) process.send!({ kind: "reached", at, firstAt } satisfies FromChild);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send!({ kind: "listening", port: (server.address() as AddressInfo).port } satisfies FromChild));
  process.on("message", (m: ToChild) => {
    if (m.cmd === "reset") {
      seen = new Set();
      arrivals = [];
      requests = 0;
      target = m.target;
      record = m.record;
    } else if (m.cmd === "arrivals") {
      process.send!({ kind: "arrivals", ids: arrivals.map((a) => a[0]), at: arrivals.map((a) => a[1]) } satisfies FromChild);
    } else if (m.cmd === "count") {
      process.send!({ kind: "count", unique: seen.size, requests } satisfies FromChild);
    }
  });
  process.on("disconnect", () => process.exit(0));
}

export interface ReceiverHandle {
  url: string;
  /** Starts a new phase: forget every id; `reached()` resolves when `target` unique ids have arrived. */
  reset(target: number, opts?: { record?: boolean }): Promise<void>;
  /** Wall-clock time of the arrival of the target-th unique id, and of the first one. */
  reached(): Promise<{ at: number; firstAt: number }>;
  /** Arrival times per webhook-id (phases reset with `record: true`). */
  arrivals(): Promise<Map<string, number>>;
  count(): Promise<{ unique: number; requests: number }>;
  close(): Promise<void>;
}

export async function startReceiverProcess(): Promise<ReceiverHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--child"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiters = new Map<FromChild["kind"], (m: FromChild) => void>();
  let reached: Promise<{ at: number; firstAt: number }> = Promise.resolve({ at: 0, firstAt: 0 });
  child.on("message", (m: FromChild) => {
    const w = waiters.get(m.kind);
    waiters.delete(m.kind);
    w?.(m);
  });
  const next = <K extends FromChild["kind"]>(kind: K) => new Promise<Extract<FromChild, { kind: K }>>((resolve) => waiters.set(kind, resolve as (m: FromChild) => void));
  const { port } = await next("listening");
  const ask = async <K extends FromChild["kind"]>(cmd: ToChild, kind: K) => {
    const p = next(kind);
    child.send(cmd);
    return p;
  };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    async reset(target, opts = {}) {
      reached = next("reached").then((m) => ({ at: m.at, firstAt: m.firstAt }));
      child.send({ cmd: "reset", target, record: opts.record === true } satisfies ToChild);
      await ask({ cmd: "count" }, "count"); // IPC is ordered: the reset has been applied
    },
    reached: () => reached,
    async arrivals() {
      const m = await ask({ cmd: "arrivals" }, "arrivals");
      return new Map(m.ids.map((id, i) => [id, m.at[i]!]));
    },
    count: () => ask({ cmd: "count" }, "count").then((m) => ({ unique: m.unique, requests: m.requests })),
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}
