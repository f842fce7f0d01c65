/**
 * `authbus keys create|list|revoke`: API keys, directly on the database (the way to get a first
 * key for a new app, or to revoke one without a working admin key).
 */
import { Command, Option } from "commander";
import { NotFoundError } from "../core/errors.js";
import { appOption, databaseOption, withRuntime } from "./options.js";
import { CliError, table, type Io } from "./output.js";

const SCOPES = ["admin", "ingest", "read"] as const;

export function keysCommand(io: Io): Command {
  const keys = new Command("keys").description("manage API keys directly on the database");

  keys.addCommand(
    databaseOption(appOption(new Command("create").description("create a key and print it (the only time its value is shown)")))
      .addOption(new Option("--scope <scope>", "what the key may do").choices(SCOPES).makeOptionMandatory())
      .option("--name <name>", "a label to recognise the key by in lists")
      .addHelpText(
        "after",
        `
The key alone goes to stdout, so it can be captured; the note about it goes to stderr.

Scopes: admin (everything in its app), ingest (POST /v1/events and /v1/evaluate), read (GET requests).

Examples:
  authbus keys create --app acme --scope admin
  export AUTHBUS_KEY=$(authbus keys create --app acme --scope ingest --name "web app")`,
      )
      .action(async (o: { database: string; app: string; scope: (typeof SCOPES)[number]; name?: string }) => {
        const created = await withRuntime(o.database, async (rt) => {
          try {
            return await rt.keys.create(o.app, o.scope, o.name ?? null);
          } catch (e) {
            if (e instanceof NotFoundError && e.resource === "app") throw new CliError(`app ${o.app} does not exist: create it with authbus apps create ${o.app}`);
            throw e;
          }
        });
        io.out(created.key);
        io.err(`Created ${created.scope} key ${created.id} for app ${created.app_id}. This is the only time the key is shown: keep it.`);
      }),
  );

  keys.addCommand(
    databaseOption(appOption(new Command("list").description("list an app's keys, revoked ones included (never their values)")))
      .addHelpText("after", "\nExamples:\n  authbus keys list --app acme")
      .action(async (o: { database: string; app: string }) => {
        const rows = await withRuntime(o.database, async (rt) => {
          if (!(await rt.apps.get(o.app))) throw new CliError(`app ${o.app} does not exist`);
          const all = [];
          for (let cursor: string | undefined; ; ) {
            const page = await rt.keys.list(o.app, { cursor, limit: 1000 });
            all.push(...page.data);
            if (!page.next_cursor) return all;
            cursor = page.next_cursor;
          }
        });
        for (const line of table(["ID", "SCOPE", "NAME", "PREFIX", "CREATED", "REVOKED"], rows.map((k) => [k.id, k.scope, k.name, `${k.prefix}...`, k.created_at, k.revoked_at]))) io.out(line);
      }),
  );

  keys.addCommand(
    databaseOption(new Command("revoke").description("revoke a key; it stops working on the next request").argument("<id>", "the key's id (key_..., see keys list)"))
      .option("--app <app_id>", "look for the key in this app only (default: every app; key ids are unique)")
      .addHelpText("after", "\nExamples:\n  authbus keys revoke key_0192f5c47a5e7c3e9a3b8d1c2b3a4f5e")
      .action(async (id: string, o: { database: string; app?: string }) => {
        const app = await withRuntime(o.database, async (rt) => {
          const candidates = o.app !== undefined ? [o.app] : (await rt.apps.list()).map((a) => a.id);
          for (const candidate of candidates) {
            try {
              await rt.keys.revoke(candidate, id);
              return candidate;
            } catch (e) {
              if (!(e instanceof NotFoundError)) throw e;
            }
          }
          throw new CliError(`no key ${id}${o.app !== undefined ? ` in app ${o.app}` : ""}`);
        });
        io.out(`Revoked key ${id} of app ${app}`);
      }),
  );
  return keys;
}
