/** `authbus migrate`: bring a database to the current schema without starting a server (serve also does it on start). */
import { Command } from "commander";
import { databaseOption, withRuntime } from "./options.js";
import { redactUrl, type Io } from "./output.js";

export function migrateCommand(io: Io): Command {
  return databaseOption(new Command("migrate").description("create or upgrade the database schema (authbus serve does this on start too)"))
    .addHelpText("after", "\nExamples:\n  authbus migrate\n  authbus migrate --database sqlite:/var/lib/authbus/authbus.db\n  authbus migrate --database postgres://authbus@db.internal:5432/authbus")
    .action(async (o: { database: string }) => {
      // Opening the store applies every pending migration, each in its own transaction.
      await withRuntime(o.database, async () => undefined);
      io.out(`Database ${redactUrl(o.database)} is migrated to the current schema.`);
    });
}
