/** Options several commands share, declared once so their names, env vars and help read the same everywhere. */
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_URL } from "./client.js";

export const DEFAULT_DATABASE_URL = "sqlite:./authbus.db";

/** `--url` / `--key` for the commands that talk to a running server. */
export function serverOptions(cmd: Command, { url = true }: { url?: boolean } = {}): Command {
  if (url) cmd.addOption(new Option("--url <url>", "the Authbus server").env("AUTHBUS_URL").default(DEFAULT_URL));
  return cmd.addOption(new Option("--key <key>", "API key (abk_...) of the app").env("AUTHBUS_KEY"));
}

/** `--database` for the commands that work on the database directly, without a server. */
export function databaseOption(cmd: Command): Command {
  return cmd.addOption(new Option("--database <url>", "database URL: sqlite:<file> or postgres://...").env("AUTHBUS_DATABASE_URL").default(DEFAULT_DATABASE_URL));
}

export function appOption(cmd: Command, description = "the app (tenant)"): Command {
  return cmd.addOption(new Option("--app <app_id>", description).env("AUTHBUS_APP_ID").default("default"));
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** Repeatable `--filter a --filter b`, each possibly comma-separated. */
export function collectPatterns(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((p) => p.trim()).filter(Boolean)];
}

/** The runtime over a database, without the delivery workers: these commands change rows and exit. */
export async function withRuntime<T>(database: string, fn: (runtime: import("../runtime.js").Runtime) => Promise<T>): Promise<T> {
  // Imported here so that --help and the server commands never load the store and its driver.
  const { createRuntime } = await import("../runtime.js");
  const runtime = createRuntime({ database, delivery: { enabled: false } });
  try {
    await runtime.ping();
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
