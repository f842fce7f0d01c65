import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execSync } from "node:child_process";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(latenciesMs: number[]): { p50: number; p99: number } {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  let fsType = "";
  try {
    fsType = execSync(`df -T ${os.tmpdir()} | tail -1 | awk '{print $2}'`).toString().trim();
  } catch {
    /* informational only */
  }
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}, temp dir on ${fsType || "?"}`;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Waits, up to `maxMs`, until the machine's CPUs are at least `idle` idle over half a second, so a
 * timed run does not inherit the previous one's background work (PostgreSQL autovacuum after a
 * queue's run, a child process exiting, a WAL checkpoint). Called before every sender alike;
 * returns the idle fraction it ended on. Without /proc/stat (not Linux) it returns at once.
 */
export async function settle(maxMs = 15_000, idle = 0.85): Promise<number> {
  const read = () => {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  if (!fs.existsSync("/proc/stat")) return 1;
  const start = Date.now();
  for (;;) {
    const a = read();
    await new Promise((r) => setTimeout(r, 500));
    const b = read();
    const frac = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (frac >= idle || Date.now() - start >= maxMs) return frac;
  }
}
