/** `authbus emit`: record one event through the server's ingest API. */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { createClient } from "./client.js";
import { serverOptions } from "./options.js";
import { CliError, type Io } from "./output.js";

/** A JSON value from the command line: inline, or `@path` to read a file (payloads are often too long to quote). */
export function jsonArgument(flag: string, value: string): unknown {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (e) {
      throw new CliError(`${flag}: cannot read ${value.slice(1)}: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`${flag} is not valid JSON: ${(e as Error).message}`);
  }
}

export function emitCommand(io: Io): Command {
  return serverOptions(
    new Command("emit")
      .description("record an event; answered once it is durable")
      .argument("<type>", "a non-blocking catalog type, e.g. user.created")
      .requiredOption("--payload <json>", "the payload as JSON, or @file.json")
      .option("--context <json>", "context fields (ip_address, user_agent, ...) as JSON, or @file.json")
      .option("--id <uuid>", "the event id; the same id again records nothing new (safe retries)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  authbus emit user.created --payload '{"user": {"id": "usr_1"}, "identities": []}'
  authbus emit user.authenticated --payload @event.json --context '{"ip_address": "203.0.113.7"}'`,
    )
    .action(async (type: string, o: { url: string; key?: string; payload: string; context?: string; id?: string }) => {
      const body: Record<string, unknown> = { type, payload: jsonArgument("--payload", o.payload) };
      if (o.context !== undefined) body.context = jsonArgument("--context", o.context);
      if (o.id !== undefined) body.id = o.id;
      const r = await createClient(o).call<{ id: string; seq: number }>("POST", "/v1/events", body);
      io.out(`Recorded ${type} ${r.id} (seq ${r.seq})`);
    });
}
