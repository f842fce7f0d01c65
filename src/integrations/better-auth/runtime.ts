/**
 * State shared by the Better Auth plugin's database hooks and endpoint hook. Database hooks and
 * the endpoint's after hook get different context objects, so one request's writes are
 * correlated by user id: the user and accounts created, the sessions created or deleted.
 */
import type { Authbus, ContextInput } from "../../index.js";
import { createEventSink, type EventSink, type EventSinkOptions } from "../shared/event-sink.js";
import { ExpiringMap } from "../shared/expiring-map.js";
import { contextFromRequest, currentRequestContext } from "../shared/request-context.js";
import type { AuthbusUser, toIdentity } from "../shared/shapes.js";

type AnyRecord = Record<string, unknown>;
type Identity = ReturnType<typeof toIdentity>;

export interface AuthbusPluginOptions extends EventSinkOptions {
  /** Record `user.session.accessed` on every `/get-session` that finds a session. Off by default. */
  sessionAccessed?: boolean;
  /** How long a created user waits for the endpoint to finish before `user.created` is recorded anyway. Default 2000 ms. */
  createdFlushMs?: number;
}

/** The parts of Better Auth's endpoint context the plugin reads (typed loosely: it varies by endpoint). */
export interface BaContext {
  path?: string;
  params?: Record<string, string | undefined>;
  body?: AnyRecord;
  headers?: Headers;
  request?: Request;
  context: {
    session?: { user: AnyRecord; session: AnyRecord } | null;
    newSession?: { user: AnyRecord; session: AnyRecord } | null;
    returned?: unknown;
    internalAdapter: {
      findUserById(id: string): Promise<AnyRecord | null>;
      findUserByEmail(email: string): Promise<{ user: AnyRecord } | null>;
      findAccounts(userId: string): Promise<AnyRecord[]>;
    };
    adapter: { findOne(q: { model: string; where: { field: string; value: unknown }[] }): Promise<AnyRecord | null> };
  };
}

export interface PendingCreation {
  user: AuthbusUser;
  identities: Identity[];
  context: ContextInput;
}

export type TerminationType = "individual" | "all" | "all_except_current";

/** The routes that revoke sessions, and what Authgear calls each. */
export const TERMINATIONS: Readonly<Record<string, TerminationType>> = {
  "/revoke-session": "individual",
  "/revoke-sessions": "all",
  "/revoke-other-sessions": "all_except_current",
};

export interface BaRuntime {
  bus: Authbus;
  sink: EventSink;
  options: AuthbusPluginOptions;
  created: ExpiringMap<string, PendingCreation>;
  /** Sessions created in the current request, by session id (a sign-in is a session creation). */
  sessionsCreated: ExpiringMap<string, true>;
  /** Sessions revoked in the current request, by user id and route. */
  terminated: ExpiringMap<string, { type: TerminationType; sessions: AnyRecord[] }>;
  context(ctx: BaContext | null | undefined, userId?: string): ContextInput;
}

export function createBaRuntime(bus: Authbus, options: AuthbusPluginOptions): BaRuntime {
  const sink = createEventSink(bus, options);
  const flush = (pending: PendingCreation) => sink.record("user.created", { user: pending.user, identities: pending.identities }, pending.context);
  return {
    bus,
    sink,
    options,
    created: new ExpiringMap(options.createdFlushMs ?? 2_000, (_id, pending) => void flush(pending)),
    sessionsCreated: new ExpiringMap(60_000),
    // Normally flushed by the endpoint hook; this only catches a request that never got there.
    terminated: new ExpiringMap(10_000, (key, batch) => {
      const userId = key.slice(0, key.indexOf("|"));
      void sink.record("user.session.terminated", { user: { id: userId }, sessions: batch.sessions.map((s) => ({ id: String(s.id), type: "database" })), termination_type: batch.type }, { user_id: userId });
    }),
    context(ctx, userId) {
      const headers = ctx?.request?.headers ?? ctx?.headers;
      const request = currentRequestContext() ?? (headers ? contextFromRequest({ headers }) : {});
      return { triggered_by: "user", ...request, ...(userId ? { user_id: userId } : {}) };
    },
  };
}
