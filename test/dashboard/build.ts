/**
 * `dist/dashboard/` for the tests, rebuilt when any source under src/dashboard is newer. Built
 * into a private folder and swapped in, so test processes building at the same time never serve
 * a half-written folder.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SRC = path.join(ROOT, "src/dashboard");
const OUT = path.join(ROOT, "dist/dashboard");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureDashboardBuilt(): void {
  const index = path.join(OUT, "index.html");
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  if (built > newestMtime(SRC)) return;
  const tmp = `${OUT}.tmp-${process.pid}`;
  const old = `${OUT}.old-${process.pid}`;
  execFileSync(process.execPath, [path.join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", path.join(SRC, "vite.config.ts"), "--outDir", tmp, "--emptyOutDir"], { cwd: ROOT, stdio: "pipe" });
  try {
    fs.renameSync(OUT, old);
  } catch {
    // Not built before, or another process is swapping it right now.
  }
  try {
    fs.renameSync(tmp, OUT);
  } catch {
    // Another process put its fresh build in place first: keep that one.
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
}
