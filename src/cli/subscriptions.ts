/**
 * `authbus subscriptions list|create|delete`. SPEC §6 gives `create` a `--url` that is the
 * webhook's URL, so on `create` the server comes from AUTHBUS_URL or from `--url` placed before
 * the subcommand (`authbus subscriptions --url http://server:8790 create --url https://hook`);
 * the group parses its options positionally for exactly that.
 */
import { Command, Option } from "commander";
import { createClient, type ServerOptions } from "./client.js";
import { collectPatterns, serverOptions } from "./options.js";
import { table, type Io } from "./output.js";

const FORMATS = ["native", "cloudevents", "cloudevents-binary", "auth0"] as const;

interface Subscription {
  id: string;
  name: string;
  filter: string[];
  destination: { type: string; url?: string; subject?: string };
  format: string;
  state: string;
  disabled_reason: string | null;
}

/** A leaf's own --url/--key when typed on its command line, else the group's (typed there, from env, or the default). */
function server(leaf: Command, fields: { url: boolean }): ServerOptions {
  const group = leaf.parent!.opts<{ url: string; key?: string }>();
  const own = leaf.opts<{ url?: string; key?: string }>();
  const pick = (name: "url" | "key") => (leaf.getOptionValueSource(name) === "cli" ? own[name] : group[name]);
  return { url: fields.url ? pick("url")! : group.url, key: pick("key") };
}

export function subscriptionsCommand(io: Io): Command {
  const subs = serverOptions(new Command("subscriptions").description("list, create and delete webhook subscriptions on a server")).enablePositionalOptions();

  subs.addCommand(
    serverOptions(new Command("list").description("every subscription of the key's app"))
      .addHelpText("after", "\nExamples:\n  authbus subscriptions list")
      .action(async (_o: unknown, cmd: Command) => {
        const rows = await createClient(server(cmd, { url: true })).list<Subscription>("/v1/subscriptions");
        const lines = table(
          ["ID", "NAME", "STATE", "FILTER", "FORMAT", "DESTINATION"],
          rows.map((s) => [s.id, s.name, s.state, s.filter.join(","), s.format, s.destination.url ?? (s.destination.subject ? `nats:${s.destination.subject}` : s.destination.type)]),
        );
        for (const line of lines) io.out(line);
      }),
  );

  subs.addCommand(
    serverOptions(new Command("create").description("create a webhook subscription and print its signing secret"), { url: false })
      .requiredOption("--name <name>", "a name to recognise it by")
      .requiredOption("--url <url>", "the webhook URL deliveries are POSTed to (the server comes from AUTHBUS_URL here)")
      .requiredOption("--filter <pattern>", "type pattern(s): user.created, user.* (one segment), authentication.** (any depth); repeat or comma-separate", collectPatterns)
      .addOption(new Option("--format <format>", "how events are rendered").choices(FORMATS).default("native"))
      .addHelpText(
        "after",
        `
Prints the subscription's id on the first line and its signing secret (whsec_...) on the second:
verify deliveries with it (authbus/webhooks verifyWebhook, or any Standard Webhooks library).

Examples:
  authbus subscriptions create --name crm --url https://crm.example.com/hooks --filter 'user.*'
  authbus subscriptions --url http://authbus.internal:8790 create --name audit --url https://audit.example.com/in --filter '**' --format cloudevents`,
      )
      .action(async (o: { name: string; url: string; filter: string[]; format: string }, cmd: Command) => {
        const client = createClient(server(cmd, { url: false }));
        const s = await client.call<Subscription & { secret: string }>("POST", "/v1/subscriptions", {
          name: o.name,
          filter: o.filter,
          destination: { type: "webhook", url: o.url },
          format: o.format,
        });
        io.out(s.id);
        io.out(s.secret);
        io.err(`Created subscription ${s.id} (${s.name}): ${s.filter.join(", ")} -> ${o.url}. Verify deliveries with the secret above.`);
      }),
  );

  subs.addCommand(
    serverOptions(new Command("delete").description("delete a subscription and its delivery log").argument("<id>", "the subscription (sub_...)"))
      .addHelpText("after", "\nExamples:\n  authbus subscriptions delete sub_0192f5c4")
      .action(async (id: string, _o: unknown, cmd: Command) => {
        await createClient(server(cmd, { url: true })).call("DELETE", `/v1/subscriptions/${encodeURIComponent(id)}`);
        io.out(`Deleted subscription ${id}`);
      }),
  );
  return subs;
}
