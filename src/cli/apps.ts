/** `authbus apps create`: a new app (tenant), directly on the database. */
import { Command } from "commander";
import { databaseOption, withRuntime } from "./options.js";
import type { Io } from "./output.js";

export function appsCommand(io: Io): Command {
  const apps = new Command("apps").description("manage apps (tenants) directly on the database");
  apps.addCommand(
    databaseOption(new Command("create").description("create an app; every event, subscription, hook and key belongs to one").argument("<app_id>", "1 to 63 of a-z, 0-9, _ and -"))
      .addHelpText("after", "\nExamples:\n  authbus apps create acme\n  authbus keys create --app acme --scope admin    # then give it a key")
      .action(async (appId: string, o: { database: string }) => {
        const app = await withRuntime(o.database, (rt) => rt.apps.create(appId));
        io.out(`Created app ${app.id}`);
      }),
  );
  return apps;
}
