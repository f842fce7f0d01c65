/** The `authbus` command tree. Built by a function (not at import time) so tests and the docs check can inspect it. */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { appsCommand } from "./apps.js";
import { emitCommand } from "./emit.js";
import { keysCommand } from "./keys.js";
import { listenCommand } from "./listen.js";
import { migrateCommand } from "./migrate.js";
import { replayCommand } from "./replay.js";
import { serveCommand } from "./serve.js";
import { subscriptionsCommand } from "./subscriptions.js";
import { tailCommand } from "./tail.js";
import { oneLine, type Io } from "./output.js";

function version(): string {
  try {
    // src/cli/ and dist/cli/ are both two levels below package.json.
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function createProgram(io: Io): Command {
  const program = new Command("authbus")
    .description("Durable, typed authentication events: the server and the tools to drive it.")
    .version(version(), "-V, --version")
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => io.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Usage errors (and commander's "did you mean" hint) are one line, like every other error.
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .addHelpText(
      "after",
      `
Commands that talk to a server take --url (AUTHBUS_URL, default http://127.0.0.1:8790) and --key
(AUTHBUS_KEY). serve, migrate, apps and keys work on the database (--database,
AUTHBUS_DATABASE_URL, default sqlite:./authbus.db). Every command has --help.
Reference: docs/reference/cli.md`,
    );
  for (const cmd of [
    serveCommand(io),
    migrateCommand(io),
    appsCommand(io),
    keysCommand(io),
    emitCommand(io),
    tailCommand(io),
    listenCommand(io),
    replayCommand(io),
    subscriptionsCommand(io),
  ]) {
    program.addCommand(cmd);
  }
  // Subcommands inherit the output settings so that their usage errors are one line too.
  const inherit = (c: Command) => {
    for (const sub of c.commands) {
      sub.configureOutput(program.configureOutput()).showHelpAfterError(false);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}
