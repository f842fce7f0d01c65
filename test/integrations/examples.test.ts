/** The integration examples run their own end-to-end self-test over real HTTP (README: examples/). */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");

describe("examples", () => {
  for (const example of ["authjs-express", "better-auth"]) {
    it(`${example} passes its self-test`, async () => {
      const { stdout } = await run(tsx, [`examples/${example}/server.ts`, "--self-test"], { cwd: root, timeout: 60_000, env: { ...process.env, NODE_ENV: "production" } });
      expect(stdout).toContain("self-test passed");
    });
  }
});
