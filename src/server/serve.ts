/**
 * `authbus serve`: migrate, bootstrap the first admin key, serve the HTTP API, run the delivery
 * workers, and shut down gracefully on SIGTERM/SIGINT: stop accepting, end streams, let requests
 * and in-flight deliveries finish (their outcomes are recorded; the rest stays pending in the
 * database for the next start), then close the store. Nothing acknowledged is lost.
 */
import { createRuntime, type Runtime, type RuntimeOptions } from "../runtime.js";
import { createServer, type AuthbusServer } from "./server.js";
import { createLogger, type Logger } from "./logger.js";
import { redactDatabaseUrl } from "../options.js";

export const DEFAULT_PORT = 8790;
export const DEFAULT_DATABASE = "sqlite:./authbus.db";

export interface ServeOptions {
  /** Default 8790; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Default sqlite:./authbus.db. */
  database?: string;
  /** NATS server URL(s) for `nats` subscriptions (AUTHBUS_NATS_URL). Without it they are refused. */
  natsUrl?: string;
  /** Lift the SSRF guard (local development and tests only). */
  allowPrivateNetworks?: boolean;
  /** The app AUTHBUS_ADMIN_KEY (or the generated first key) is for. Default `default`. */
  appId?: string;
  /** Make exactly this value an admin key of `appId`. */
  adminKey?: string;
  metricsKey?: string;
  logger?: Logger;
  /** Default info. */
  logLevel?: string;
  /** Install SIGTERM/SIGINT handlers that shut down and exit. Default true. */
  handleSignals?: boolean;
  /** Where the one-time bootstrap key and the URL are printed. Default process.stdout. */
  stdout?: NodeJS.WritableStream;
  /** Delivery and store tuning, as for createAuthbus. */
  runtime?: Omit<RuntimeOptions, "database" | "allowPrivateNetworks">;
}

export interface RunningServer {
  url: string;
  port: number;
  runtime: Runtime;
  server: AuthbusServer;
  /** Present when no admin key existed and one was created (printed once on stdout). */
  bootstrapKey?: string;
  /** Graceful shutdown (idempotent). */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: options.logLevel });
  const appId = options.appId ?? "default";
  const runtime = createRuntime({
    ...options.runtime,
    ...(options.natsUrl ? { nats: { ...options.runtime?.nats, url: options.natsUrl } } : {}),
    database: options.database ?? DEFAULT_DATABASE,
    allowPrivateNetworks: options.allowPrivateNetworks === true,
    onError: (err, info) => logger.error({ err, handler: info.handler, attempt: info.attempt, retry_in_ms: info.retryInMs }, "background failure"),
  });
  let server: AuthbusServer | undefined;
  try {
    // Listening before the schema is migrated would answer requests with store errors (PostgreSQL opens in the background).
    await runtime.ready();
    await runtime.apps.ensure(appId);
    let bootstrapKey: string | undefined;
    if (options.adminKey !== undefined) {
      await runtime.keys.ensure(appId, "admin", options.adminKey, "AUTHBUS_ADMIN_KEY");
    } else if ((await runtime.keys.countActive(appId, "admin")) === 0) {
      bootstrapKey = (await runtime.keys.create(appId, "admin", "bootstrap")).key;
    }
    server = createServer(runtime, { logger, metricsKey: options.metricsKey });
    const { url, port } = await server.listen(options.port ?? DEFAULT_PORT, options.host);
    logger.info({ url, port, app: appId, database: redactDatabaseUrl(options.database ?? DEFAULT_DATABASE), allow_private_networks: options.allowPrivateNetworks === true, ...(options.natsUrl ? { nats_url: redactDatabaseUrl(options.natsUrl) } : {}) }, "authbus listening");
    const out = options.stdout ?? process.stdout;
    out.write(`Authbus is listening on ${url}\n`);
    if (bootstrapKey) out.write(`Admin key for app "${appId}" (shown only this once; keep it): ${bootstrapKey}\n`);

    const srv = server;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        logger.info("shutting down: no new requests; in-flight requests and deliveries finish");
        await srv.close();
        await runtime.close();
        logger.info("stopped");
      })());
    if (options.handleSignals !== false) {
      const onSignal = (signal: NodeJS.Signals) => {
        if (closing) {
          logger.warn({ signal }, "second signal: exiting now");
          process.exit(1);
        }
        logger.info({ signal }, "signal received");
        close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    }
    return { url, port, runtime, server: srv, ...(bootstrapKey ? { bootstrapKey } : {}), close };
  } catch (e) {
    await server?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw e;
  }
}

/** ServeOptions from AUTHBUS_* variables; the CLI lays its flags over these. */
export function serveOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ServeOptions {
  const o: ServeOptions = {};
  if (env.AUTHBUS_PORT) {
    const port = Number(env.AUTHBUS_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`AUTHBUS_PORT must be a port number, not ${JSON.stringify(env.AUTHBUS_PORT)}`);
    o.port = port;
  }
  if (env.AUTHBUS_HOST) o.host = env.AUTHBUS_HOST;
  if (env.AUTHBUS_DATABASE_URL) o.database = env.AUTHBUS_DATABASE_URL;
  if (env.AUTHBUS_NATS_URL) o.natsUrl = env.AUTHBUS_NATS_URL;
  if (env.AUTHBUS_ALLOW_PRIVATE_NETWORKS) o.allowPrivateNetworks = ["1", "true", "yes"].includes(env.AUTHBUS_ALLOW_PRIVATE_NETWORKS.toLowerCase());
  if (env.AUTHBUS_APP_ID) o.appId = env.AUTHBUS_APP_ID;
  if (env.AUTHBUS_ADMIN_KEY) o.adminKey = env.AUTHBUS_ADMIN_KEY;
  if (env.AUTHBUS_METRICS_KEY) o.metricsKey = env.AUTHBUS_METRICS_KEY;
  if (env.AUTHBUS_LOG_LEVEL) o.logLevel = env.AUTHBUS_LOG_LEVEL;
  return o;
}
