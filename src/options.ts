/**
 * createAuthbus() options: validated once, at the edge, from one TypeBox schema (unknown keys refused).
 * Function-valued options are checked for being functions here; their signatures live in the TS types.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { InvalidOptionsError } from "./core/errors.js";
import type { AnyEnvelope } from "./core/envelope.js";
import type { NextAuthEventName } from "./core/formats/nextauth.js";
import type { HandlerErrorInfo } from "./consumers/handler-consumer.js";
import { HooksOptionSchema, type HooksOption } from "./hooks/hook-spec.js";

const Fn = Type.Function([], Type.Unknown());
const nextAuthEvents = ["signIn", "signOut", "createUser", "updateUser", "linkAccount", "session", "error"] as const;

export const AuthbusOptionsSchema = Type.Object(
  {
    database: Type.Optional(Type.String({ minLength: 1, description: "sqlite:./authbus.db (default), sqlite:<path>, a file path, or postgres://user@host:5432/db." })),
    postgres: Type.Optional(
      Type.Object(
        {
          schema: Type.Optional(Type.String({ pattern: "^[a-z_][a-z0-9_]{0,62}$", description: "Schema holding Authbus's tables. Default: authbus." })),
          poolSize: Type.Optional(Type.Integer({ minimum: 2, maximum: 200, description: "Connections in the pool. Default: 10." })),
          reconnectTimeoutMs: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 3_600_000, description: "How long work waits for PostgreSQL to come back (a restart, a failover) before failing with store_failed. Default: 30000." }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    app: Type.Optional(Type.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,62}$", description: "The app (tenant) this bus records for. Default: default." })),
    language: Type.Optional(Type.String({ minLength: 1, description: "Fallback for context.language. Default: en." })),
    sqlite: Type.Optional(
      Type.Object(
        {
          synchronous: Type.Optional(Type.Union([Type.Literal("FULL"), Type.Literal("NORMAL"), Type.Literal("EXTRA")])),
          writerThread: Type.Optional(Type.Boolean({ description: "Commit on a worker thread so fsyncs never block the event loop. Default: true." })),
        },
        { additionalProperties: false },
      ),
    ),
    events: Type.Optional(Type.Object(Object.fromEntries(nextAuthEvents.map((n) => [n, Type.Optional(Fn)])), { additionalProperties: false })),
    eventsShape: Type.Optional(Type.Union([Type.Literal("v4"), Type.Literal("v3")], { description: "Message shapes for `events` handlers. Default: v4." })),
    handlers: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1, maxLength: 200 }),
        Type.Object({ filter: Type.String(), handle: Fn }, { additionalProperties: false }),
      ),
    ),
    handlerRetry: Type.Optional(
      Type.Object(
        { baseMs: Type.Optional(Type.Integer({ minimum: 1 })), maxMs: Type.Optional(Type.Integer({ minimum: 1 })) },
        { additionalProperties: false },
      ),
    ),
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 5, description: "How often handlers look for events written by other processes. Default: 250." })),
    onError: Type.Optional(Fn),
    now: Type.Optional(Fn),
    hooks: Type.Optional(HooksOptionSchema),
    hookTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000, description: "Default time limit of one hook. Default: 5000." })),
    hookChainBudgetMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000, description: "Time limit of a whole hook chain. Default: 10000." })),
    delivery: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: "Run the delivery engine in this process. Default: true." })),
          maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: "Deliveries in flight at once per subscription. Default: 32." })),
          leaseMs: Type.Optional(Type.Integer({ minimum: 100, description: "How long a worker holds claimed deliveries without renewing them; a dead worker's claims are taken over after it. Default: 15000." })),
          connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "Webhook connect timeout. Default: 10000." })),
          timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "Webhook total timeout. Default: 15000." })),
        },
        { additionalProperties: false },
      ),
    ),
    nats: Type.Optional(
      Type.Object(
        {
          url: Type.String({ minLength: 1, description: "NATS server URL(s), comma-separated: nats://127.0.0.1:4222. Enables `nats` subscriptions (JetStream)." }),
          timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000, description: "How long a publish waits for the JetStream PubAck. Default: 5000." })),
        },
        { additionalProperties: false },
      ),
    ),
    allowPrivateNetworks: Type.Optional(
      Type.Boolean({ description: "Lift the SSRF guard: let HTTP hooks (and webhooks) reach loopback, private and link-local addresses, and use plain http. Development and tests only." }),
    ),
  },
  { additionalProperties: false },
);

type Data = Omit<Static<typeof AuthbusOptionsSchema>, "events" | "handlers" | "onError" | "now" | "hooks">;

export type NextAuthEventHandlers = Partial<Record<NextAuthEventName, (message: any) => unknown>>;

export interface AuthbusOptions extends Data {
  /** NextAuth-style handlers; each is a durable consumer named `nextauth:<event>`. */
  events?: NextAuthEventHandlers;
  /** Durable in-process handlers by name: `{ "audit-log": { filter: "user.**", handle } }`. */
  handlers?: Record<string, { filter: string; handle: (event: AnyEnvelope) => unknown }>;
  /** Called when a handler throws (it is retried) or a background read fails. Default: console.error. */
  onError?: (error: unknown, info: HandlerErrorInfo) => void;
  /** Clock in milliseconds (tests). Default: Date.now. */
  now?: () => number;
  /** Blocking hooks by type, in the order they run: functions, `{ handler, ... }` or `{ url, secret, ... }`. */
  hooks?: HooksOption;
}

const check = TypeCompiler.Compile(AuthbusOptionsSchema);

export function validateOptions(options: unknown): AuthbusOptions {
  if (options === undefined) return {};
  if (check.Check(options)) return options as AuthbusOptions;
  const issues = [...check.Errors(options)].slice(0, 20).map((e) => ({ pointer: e.path, message: e.message }));
  throw new InvalidOptionsError(issues);
}

export type DatabaseLocation = { kind: "sqlite"; filename: string } | { kind: "postgres"; connectionString: string };

export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith("sqlite:")) return { kind: "sqlite", filename: url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "") || "./authbus.db" };
  if (url.startsWith("file:")) return { kind: "sqlite", filename: url.slice("file:".length) };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", connectionString: url };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new InvalidOptionsError([{ pointer: "/database", message: `unsupported database URL ${url}` }]);
  return { kind: "sqlite", filename: url };
}

/** A database URL fit to print or log: a password in it is masked (postgres://user:***@host/db). */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.href;
  } catch {
    return url;
  }
}
