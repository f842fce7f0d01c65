import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll } from "vitest";
import { until } from "../helpers.js";

const MAIN = path.resolve(__dirname, "../../src/server/main.ts");
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill("SIGKILL")));

/** A real `authbus serve` process (serve() configured from AUTHBUS_* variables) on a SQLite file. */
export async function startServeProcess(dbPath: string, adminKey: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      AUTHBUS_PORT: "0",
      AUTHBUS_HOST: "127.0.0.1",
      AUTHBUS_DATABASE_URL: `sqlite:${dbPath}`,
      AUTHBUS_ALLOW_PRIVATE_NETWORKS: "1",
      AUTHBUS_ADMIN_KEY: adminKey,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  await until(() => /listening on (http:\/\/\S+)/.test(out) || child.exitCode !== null, 30_000, "the server to listen");
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`serve did not start: ${err}`);
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(url + p, { method, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { child, url, call, exited, logs: () => out, errors: () => err };
}
