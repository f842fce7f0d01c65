/**
 * What the CLI prints. Results go to stdout (so `$(authbus keys create ...)` captures just the
 * key); notes and errors go to stderr. An error is always exactly one line: scripts and CI logs
 * grep for it, and a stack trace is never useful to someone running a command.
 */
import { AuthbusError } from "../core/errors.js";

/** An expected failure: its message is the one line the user sees. */
export class CliError extends Error {
  override readonly name = "CliError";
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal: progress bars and colours are drawn only then. */
  readonly tty: boolean;
  /** Raw write to stdout, for redrawing a progress bar in place. */
  write(text: string): void;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  get tty() {
    return process.stdout.isTTY === true;
  },
  write: (text) => void process.stdout.write(text),
};

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** The one line an error becomes. Library errors keep their stable code so it can be looked up in docs/reference/errors.md. */
export function errorLine(e: unknown): string {
  if (e instanceof CliError) return `error: ${oneLine(e.message)}`;
  if (e instanceof AuthbusError) return `error: ${oneLine(e.message)} (${e.code})`;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return `error: ${oneLine(e.message)}${code && !e.message.includes(code) ? ` (${code})` : ""}`;
  }
  return `error: ${oneLine(String(e))}`;
}

/** Left-aligned columns, headers first; empty cells show as `-`. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string[] {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? "").padEnd(widths[i]!))).join("  "));
}

export { redactDatabaseUrl as redactUrl } from "../options.js";

/** `[#########...........]  12/40` sized for a terminal line. */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}
