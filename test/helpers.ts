import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh SQLite file path in its own temp dir, removed after the file's tests. */
export function tempDbPath(name = "authbus.db"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authbus-test-"));
  dirs.push(dir);
  return path.join(dir, name);
}

export function user(id: string, extra: Record<string, unknown> = {}) {
  return { id, standard_attributes: { email: `${id}@example.com` }, ...extra };
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
