/** Runs the real `authbus` CLI as a child process, the way a user's shell does. */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterEach } from "vitest";
import { until } from "../helpers.js";

export const ROOT = path.resolve(__dirname, "../..");
export const MAIN = path.join(ROOT, "src/cli/main.ts");

/** The caller's environment without AUTHBUS_* (a developer's own settings must not leak into tests). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHBUS_")) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Waits until stdout (or stderr) matches; fails early with the output if the process exits first. */
  waitFor(re: RegExp, stream?: "stdout" | "stderr", timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

const running: RunningCli[] = [];
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
});

/** Starts `authbus <args>` (or, with `command`, any command line through bash) and returns at once. */
export function startCli(args: string[], env: Record<string, string> = {}, o: { shell?: string; cwd?: string } = {}): RunningCli {
  const child = o.shell
    ? spawn("bash", ["-c", o.shell], { cwd: o.cwd ?? ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true })
    : spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: o.cwd ?? ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const r: RunningCli = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(re, stream = "stdout", timeoutMs = 30_000) {
      const text = () => (stream === "stdout" ? out : err);
      await until(() => re.test(text()) || child.exitCode !== null, timeoutMs, `${re} in the output of ${o.shell ?? args.join(" ")}`).catch((e: Error) => {
        throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
      });
      const m = re.exec(text());
      if (!m) throw new Error(`${o.shell ?? args.join(" ")} exited (${child.exitCode}) before printing ${re}\nstdout: ${out}\nstderr: ${err}`);
      return m;
    },
  };
  running.push(r);
  return r;
}

/** Runs `authbus <args>` to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  const r = startCli(args, env);
  const timer = setTimeout(() => r.child.kill("SIGKILL"), timeoutMs);
  const code = await r.exited;
  clearTimeout(timer);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** Exit code non-zero and exactly one line on stderr starting with `error:`. */
export function expectOneLineError(r: CliResult): string {
  if (r.code === 0) throw new Error(`expected a failure, got exit 0\nstdout: ${r.stdout}`);
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  if (lines.length !== 1 || !lines[0]!.startsWith("error: ")) throw new Error(`expected one "error: ..." line on stderr, got:\n${r.stderr}`);
  return lines[0]!;
}
