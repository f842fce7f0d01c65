import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createAuthbus } from "../src/index.js";
import { tempDbPath, until } from "./helpers.js";

const FIXTURE = path.resolve(__dirname, "fixtures/emit-burst.ts");

/** Runs the burst child until it has acknowledged `atLeast` events, then SIGKILLs it. Returns the acknowledged ids. */
function burstThenKill(dbPath: string, handlerLog: string, atLeast: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dbPath, handlerLog], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let killed = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (!killed && out.split("\n").length > atLeast) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (c) => (err += c));
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") return reject(new Error(`child exited with ${code}: ${err}`));
      // Only complete lines: a torn last line was not a whole acknowledgement.
      const lines = out.split("\n").slice(0, -1);
      resolve(lines.filter((l) => l.startsWith("ack ")).map((l) => l.slice(4)));
    });
  });
}

describe("crash safety (SIGKILL)", () => {
  it("loses none of the events whose emit had resolved; after restart handlers receive every one of them", async () => {
    const dbPath = tempDbPath();
    const handlerLog = `${dbPath}.handled`;
    fs.writeFileSync(handlerLog, "");
    const acked = await burstThenKill(dbPath, handlerLog, 3000);
    expect(acked.length).toBeGreaterThanOrEqual(3000);

    const handledBeforeCrash = new Set(fs.readFileSync(handlerLog, "utf8").split("\n").filter(Boolean));
    const handledAfter = new Set<string>();
    const bus = createAuthbus({ database: `sqlite:${dbPath}` });
    bus.on("**", (e) => void handledAfter.add(e.id), { name: "crash-audit" });

    // Every acknowledged event is in the log...
    const recorded = new Set<string>();
    for (let after = 0; ; ) {
      const page = await bus.query({ after_seq: after, limit: 1000 });
      if (page.length === 0) break;
      for (const e of page) recorded.add(e.id);
      after = page[page.length - 1]!.seq;
    }
    const lost = acked.filter((id) => !recorded.has(id));
    expect(lost).toEqual([]);
    // ...and reaches the handler at least once, before or after the crash.
    const missing = () => acked.filter((id) => !handledBeforeCrash.has(id) && !handledAfter.has(id));
    await until(() => missing().length === 0, 20_000, "handler to catch up after restart");
    expect(missing()).toEqual([]);
    console.log(`crash test: acked=${acked.length} recorded=${recorded.size} handled before=${handledBeforeCrash.size} after=${handledAfter.size}`);
    // The restarted handler resumed from its cursor rather than from the start.
    expect(handledBeforeCrash.size).toBeGreaterThan(0);
    expect(handledAfter.size).toBeGreaterThan(0);
    expect(handledAfter.size).toBeLessThan(recorded.size);
    await bus.close();
  });
});
