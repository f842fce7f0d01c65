/** `authbus serve`: the server, configured from AUTHBUS_* variables with the flags laid over them. */
import { Command } from "commander";
import { parsePort } from "./options.js";
import type { Io } from "./output.js";

interface ServeFlags {
  port?: number;
  host?: string;
  database?: string;
  allowPrivateNetworks?: boolean;
}

export function serveCommand(io: Io): Command {
  return new Command("serve")
    .description("run the server: HTTP API, webhook delivery and dashboard; migrates the database on start")
    .option("--port <port>", "port to listen on; 0 picks a free one (env: AUTHBUS_PORT, default: 8790)", parsePort)
    .option("--host <host>", "interface to listen on (env: AUTHBUS_HOST, default: 0.0.0.0)")
    .option("--database <url>", "database URL: sqlite:<file> or postgres://... (env: AUTHBUS_DATABASE_URL, default: sqlite:./authbus.db)")
    .option("--allow-private-networks", "let webhooks and hooks reach loopback and private addresses: local development and tests only (env: AUTHBUS_ALLOW_PRIVATE_NETWORKS=1)")
    .addHelpText(
      "after",
      `
Also read from the environment:
  AUTHBUS_APP_ID        the app the admin key below is for (default: default)
  AUTHBUS_ADMIN_KEY     make exactly this value (16+ characters) an admin key of that app
  AUTHBUS_METRICS_KEY   require it as a bearer token on GET /metrics
  AUTHBUS_NATS_URL      NATS server(s) for "nats" subscriptions (JetStream), e.g. nats://127.0.0.1:4222
  AUTHBUS_LOG_LEVEL     debug, info, warn, error or silent (default: info)

On first start, when the app has no admin key and AUTHBUS_ADMIN_KEY is not set, an admin key is
created and printed once. SIGTERM or SIGINT shut down gracefully.

Examples:
  authbus serve
  authbus serve --port 9000 --database sqlite:/var/lib/authbus/authbus.db
  authbus serve --host 127.0.0.1 --allow-private-networks    # local development`,
    )
    .action(async (flags: ServeFlags) => {
      const { serve, serveOptionsFromEnv } = await import("../server/serve.js");
      // A flag replaces its variable outright: a bad AUTHBUS_PORT must not fail a serve given --port.
      const env = { ...process.env };
      if (flags.port !== undefined) delete env.AUTHBUS_PORT;
      const options = serveOptionsFromEnv(env);
      if (flags.port !== undefined) options.port = flags.port;
      if (flags.host !== undefined) options.host = flags.host;
      if (flags.database !== undefined) options.database = flags.database;
      if (flags.allowPrivateNetworks) options.allowPrivateNetworks = true;
      await serve(options);
      if (options.allowPrivateNetworks) {
        io.err("Private networks are allowed: webhooks and hooks may reach loopback and private addresses. Use this for local development only.");
      }
      // serve() exits the process itself on SIGTERM/SIGINT, after a graceful shutdown; until then
      // this command is not finished, so main must not exit.
      await new Promise<never>(() => undefined);
    });
}
