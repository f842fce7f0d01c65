/**
 * createServer(): the HTTP API on Hono over a runtime. It answers Web `Request`s (`fetch`, for
 * in-process tests) and listens on a port (`listen`) through @hono/node-server. It does not own
 * the runtime: `close()` stops taking requests and ends streams; the caller closes the runtime.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono, type Context } from "hono";
import { createAdaptorServer } from "@hono/node-server";
import { MethodNotAllowedError, NotFoundError, UnauthorizedError } from "../core/errors.js";
import type { Runtime } from "../runtime.js";
import type { Principal } from "../tenancy/tenancy.js";
import type { AppBus } from "../app-bus.js";
import { assertScope, bearerOf, createFailureLimiter, secretsEqual, type AuthFailureLimit } from "./auth.js";
import { problemOf } from "./problem.js";
import { createLogger, requestIdOf, type Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { buildOpenApi } from "./openapi.js";
import { honoPath, validatedBody, validatedQuery, type RouteDef, type ServerEnv } from "./route-table.js";
import { eventByIdRoutes, eventRoutes } from "./routes/events.js";
import { streamRoutes } from "./routes/stream.js";
import { catalogRoutes } from "./routes/catalog.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { hookRoutes } from "./routes/hooks.js";
import { keyRoutes } from "./routes/keys.js";
import { healthRoutes } from "./routes/health.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { renderingRoutes } from "./routes/renderings.js";
import { statsRoutes } from "./routes/stats.js";

/** Request bodies larger than this are refused with 413 (SPEC §6). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  /** Default: JSON logs on stdout at level info. */
  logger?: Logger;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsKey>` (AUTHBUS_METRICS_KEY). */
  metricsKey?: string;
  /** Failed authentications per client address before 429. Default 20 per minute. */
  authFailureLimit?: Partial<AuthFailureLimit>;
  /** How long close() lets in-flight requests finish before cutting connections. Default 10 s. */
  shutdownGraceMs?: number;
  /** Advertised in the OpenAPI document's `servers`. */
  publicUrl?: string;
}

export interface AuthbusServer {
  readonly app: Hono<ServerEnv>;
  /** The route table: what the router serves and the OpenAPI document describes. */
  readonly routes: readonly RouteDef[];
  readonly openapi: Record<string, unknown>;
  readonly logger: Logger;
  fetch(request: Request): Promise<Response>;
  /** Port 0 picks a free port. Default host 0.0.0.0. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

export function createServer(runtime: Runtime, options: ServerOptions = {}): AuthbusServer {
  const logger = options.logger ?? createLogger();
  const limiter = createFailureLimiter({ max: options.authFailureLimit?.max ?? 20, windowMs: options.authFailureLimit?.windowMs ?? 60_000 });
  const metrics = createMetrics(runtime);
  const closing = new AbortController();
  let openapi: Record<string, unknown> | undefined;

  const routes: RouteDef[] = [
    ...eventRoutes,
    ...streamRoutes,
    ...eventByIdRoutes,
    ...renderingRoutes,
    ...catalogRoutes,
    ...subscriptionRoutes,
    ...statsRoutes,
    ...deliveryRoutes,
    ...hookRoutes,
    ...keyRoutes,
    ...healthRoutes({ metrics, openapi: () => openapi, closing: () => closing.signal.aborted }),
    ...dashboardRoutes,
  ];
  openapi = buildOpenApi(routes, { serverUrl: options.publicUrl });
  const matchers = routes.map((r) => ({ route: r, re: new RegExp(`^${r.path.replace(/\{[a-z_]+\}/g, "[^/]+")}/?$`) }));

  const app = new Hono<ServerEnv>();
  app.use("*", async (c, next) => {
    const id = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", id);
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      // Errors of handlers reach here rather than onError when they pass through middleware.
      c.res = errorResponse(err, c);
    }
    c.res.headers.set("x-request-id", id);
    if (closing.signal.aborted) c.res.headers.set("connection", "close");
    const seconds = (performance.now() - started) / 1000;
    const route = c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    metrics.request(c.req.method, route, c.res.status, seconds);
    logger.info({ req_id: id, method: c.req.method, path: c.req.path, route, status: c.res.status, ms: Math.round(seconds * 10_000) / 10, app: c.get("appId") }, "request");
  });

  const clientAddress = (c: Context<ServerEnv>): string => (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? "local";

  async function authenticate(c: Context<ServerEnv>, r: RouteDef): Promise<{ principal: Principal; bus: AppBus } | undefined> {
    if (r.access === "public") return undefined;
    const address = clientAddress(c);
    limiter.check(address);
    const key = bearerOf(c.req.header("authorization"));
    if (r.access === "metrics") {
      if (options.metricsKey !== undefined && (key === undefined || !secretsEqual(key, options.metricsKey))) {
        limiter.fail(address);
        throw new UnauthorizedError("GET /metrics needs Authorization: Bearer <AUTHBUS_METRICS_KEY>");
      }
      return undefined;
    }
    const principal = key === undefined ? undefined : await runtime.keys.authenticate(key);
    if (!principal) {
      limiter.fail(address);
      throw new UnauthorizedError();
    }
    c.set("appId", principal.app_id);
    assertScope(principal, r.access, r.method);
    return { principal, bus: runtime.forApp(principal.app_id) };
  }

  for (const r of routes) {
    app.on(r.method, honoPath(r.path), async (c) => {
      const who = await authenticate(c, r);
      const query = validatedQuery(r, c);
      const body = await validatedBody(r, c.req.raw, MAX_BODY_BYTES);
      return r.handle({
        c,
        runtime,
        // Public routes never read these; typing them as present keeps every other handler simple.
        principal: who?.principal as Principal,
        bus: who?.bus as AppBus,
        params: c.req.param() as Record<string, string>,
        query,
        body,
        closing: closing.signal,
      });
    });
  }

  app.notFound((c) => {
    const allow = matchers.filter((m) => m.re.test(c.req.path)).map((m) => m.route.method);
    if (allow.length > 0) throw new MethodNotAllowedError(c.req.method, [...new Set(allow)]);
    throw new NotFoundError("endpoint", `${c.req.method} ${c.req.path}`);
  });

  function errorResponse(err: unknown, c: Context<ServerEnv>): Response {
    const requestId = c.get("requestId");
    const { problem, headers, expected } = problemOf(err, requestId);
    if (!expected) logger.error({ req_id: requestId, err }, "unexpected error");
    else if (problem.status >= 500) logger.warn({ req_id: requestId, code: problem.code, detail: problem.detail }, "request failed");
    return new Response(JSON.stringify(problem), { status: problem.status, headers });
  }
  app.onError(errorResponse);

  let server: Server | undefined;
  return {
    app,
    routes,
    openapi,
    logger,
    fetch: (request) => Promise.resolve(app.fetch(request)),
    async listen(port, host = "0.0.0.0") {
      if (server) throw new TypeError("the server is already listening");
      const s = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => {
          s.off("error", reject);
          resolve();
        });
      });
      const bound = (s.address() as AddressInfo).port;
      const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
      return { port: bound, url: `http://${shown}:${bound}` };
    },
    async close() {
      closing.abort();
      metrics.close();
      const s = server;
      if (!s) return;
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => s.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
        // Keep-alive connections become idle as their last response ends; close them as they do.
        const sweep = setInterval(() => s.closeIdleConnections(), 50);
        s.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        s.closeIdleConnections();
      });
    },
  };
}
