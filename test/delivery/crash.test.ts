import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAuthbus } from "../../src/index.js";
import { tempDbPath, until } from "../helpers.js";
import { startReceiver } from "./receiver.js";

const FIXTURE = path.resolve(__dirname, "../fixtures/deliver-burst.ts");
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

function run(dbPath: string, count: number): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dbPath, String(count)], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return child;
}

describe("delivery crash safety (SIGKILL)", () => {
  it("a process killed in the middle of delivering 5,000 events delivers every one of them after restart", async () => {
    const receiver = await startReceiver(async () => {
      await new Promise((r) => setTimeout(r, 5)); // a receiver with some latency, so the kill lands mid-flight
      return { status: 200 };
    });
    const dbPath = tempDbPath();
    // The subscription exists before the events are recorded.
    const admin = createAuthbus({ database: `sqlite:${dbPath}`, allowPrivateNetworks: true, delivery: { enabled: false } });
    await admin.subscriptions.create({ name: "crash", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0, 1, 1, 1, 1, 1] });
    await admin.close();

    const first = run(dbPath, 5000);
    let recorded = false;
    first.stdout!.on("data", (c: Buffer) => (recorded ||= c.toString().includes("recorded")));
    // Kill only once all 5,000 are acknowledged, in the middle of delivering them.
    await until(() => recorded && receiver.received.length >= 1500, 60_000, "recording and deliveries to start");
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const beforeRestart = new Set(receiver.ids()).size;
    expect(beforeRestart).toBeLessThan(5000);

    const second = run(dbPath, 0);
    await until(() => new Set(receiver.ids()).size === 5000, 120_000, "every event delivered after restart");
    second.kill("SIGKILL");
    const ids = receiver.ids();
    const unique = new Set(ids).size;
    const duplicates = ids.length - unique;
    console.log(`delivery crash test: delivered before kill=${beforeRestart}, unique=${unique}, duplicates=${duplicates}`);
    expect(unique).toBe(5000);
    await receiver.close();
  });
});
