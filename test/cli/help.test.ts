/** Every command answers --help, and docs/reference/cli.md documents every command, flag and variable the CLI has. */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../src/cli/program.js";
import type { Io } from "../../src/cli/output.js";
import { ROOT, runCli } from "./helpers.js";

const silent: Io = { out: () => undefined, err: () => undefined, write: () => undefined, tty: false };

function commands(c: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return c.commands.flatMap((sub) => [{ path: [...prefix, sub.name()], cmd: sub }, ...commands(sub, [...prefix, sub.name()])]);
}

const ALL = commands(createProgram(silent));
const LEAVES = ALL.filter((c) => c.cmd.commands.length === 0);

describe("authbus --help", () => {
  it("names the commands of SPEC §6", () => {
    expect(LEAVES.map((c) => c.path.join(" ")).sort()).toEqual(
      ["apps create", "emit", "keys create", "keys list", "keys revoke", "listen", "migrate", "replay", "serve", "subscriptions create", "subscriptions delete", "subscriptions list", "tail"].sort(),
    );
  });

  it("every command and group prints its usage on stdout and exits 0", async () => {
    const targets = [[], ...ALL.map((c) => c.path)];
    // Two at a time: each is a Node process compiling TypeScript.
    for (let i = 0; i < targets.length; i += 2) {
      await Promise.all(
        targets.slice(i, i + 2).map(async (p) => {
          const r = await runCli([...p, "--help"]);
          expect(r.code, p.join(" ")).toBe(0);
          expect(r.stderr, p.join(" ")).toBe("");
          expect(r.stdout, p.join(" ")).toMatch(new RegExp(`^Usage: authbus${p.length ? ` ${p.join(" ")}` : ""} `));
        }),
      );
    }
    const version = await runCli(["--version"]);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  });
});

describe("docs/reference/cli.md", () => {
  const doc = readFileSync(path.join(ROOT, "docs/reference/cli.md"), "utf8");
  const sections = new Map(doc.split(/^## /m).slice(1).map((s) => [s.slice(0, s.indexOf("\n")).trim(), s] as const));

  it.each(LEAVES.map((c) => [c.path.join(" "), c.cmd] as const))("documents authbus %s with each of its flags and variables", (name, cmd) => {
    const section = sections.get(`authbus ${name}`);
    expect(section, `a "## authbus ${name}" section`).toBeDefined();
    for (const option of cmd.options) {
      expect(section, `${option.long} of authbus ${name}`).toContain(`\`${option.flags.replace(/^-\w, /, "")}\``);
      if (option.envVar) expect(section, `${option.envVar} of authbus ${name}`).toContain(`\`${option.envVar}\``);
    }
  });
});
