/**
 * The state one wrapped configuration shares between its adapter, callbacks, events and
 * credentials wrappers: the sink, the correlation maps, and the request context resolver.
 */
import type { Authbus, ContextInput } from "../../../index.js";
import { createEventSink, type EventSink } from "../event-sink.js";
import { contextFromRequest, currentRequestContext, type RequestContext } from "../request-context.js";
import type { AuthbusUser, toIdentity } from "../shapes.js";
import { ExpiringMap } from "../expiring-map.js";
import type { FamilyAdapter, FamilyConfig, FamilyUser, Flavor, WithAuthbusOptions } from "./types.js";

type Identity = ReturnType<typeof toIdentity>;

/** A `user.pre_create` decision taken in `callbacks.signIn`, applied when the adapter creates the user. */
export interface CreateDecision {
  before: AuthbusUser;
  after: AuthbusUser;
  identities: Identity[];
}

export interface PendingCreation {
  user: AuthbusUser;
  identities: Identity[];
  context: ContextInput;
}

export interface FamilyRuntime {
  bus: Authbus;
  sink: EventSink;
  flavor: Flavor;
  options: WithAuthbusOptions;
  /** The app's adapter, unwrapped (lookups made by Authbus must not record events). */
  raw: FamilyAdapter | undefined;
  strategy: "jwt" | "database";
  decisions: ExpiringMap<string, CreateDecision>;
  created: ExpiringMap<string, PendingCreation>;
  /** Session id per user id between the session's creation and `events.signIn`. */
  sessions: ExpiringMap<string, { id: string; type: string; expires_at?: string }>;
  /** Request context per user id, captured where the library hands over the request (authorize). */
  contexts: ExpiringMap<string, RequestContext>;
  /** What a database session read was about, by the payload `callbacks.session` returned (`events.session` gets only that). */
  sessionReads: WeakMap<object, { user: AuthbusUser; session?: { id: string; type: string; expires_at?: string } }>;
  /** Sessions deleted by the adapter, for `events.signOut` (by session id). */
  deleted: ExpiringMap<string, { user: AuthbusUser; session: { id: string; type: string; expires_at?: string } }>;
  context(userId?: string): ContextInput;
  flushCreated(userId: string): Promise<void>;
}

/** The key a `user.pre_create` decision is found by when the adapter creates that user. */
export function creationKey(user: FamilyUser): string {
  if (typeof user.email === "string" && user.email) return `e:${user.email.toLowerCase()}`;
  return `n:${String(user.name ?? "")}|${String(user.image ?? "")}`;
}

export function createFamilyRuntime(config: FamilyConfig, bus: Authbus, flavor: Flavor, options: WithAuthbusOptions): FamilyRuntime {
  const sink = createEventSink(bus, options);
  const fixed = options.request ? contextFromRequest(options.request) : undefined;
  const contexts = new ExpiringMap<string, RequestContext>(60_000);
  const context = (userId?: string): ContextInput => {
    const request = fixed ?? currentRequestContext() ?? (userId ? contexts.get(userId) : undefined) ?? {};
    return { triggered_by: "user", ...request, ...(userId ? { user_id: userId } : {}) };
  };
  const flush = (pending: PendingCreation) => sink.record("user.created", { user: pending.user, identities: pending.identities }, pending.context);
  const created = new ExpiringMap<string, PendingCreation>(options.createdFlushMs ?? 2_000, (_id, pending) => void flush(pending));
  return {
    bus,
    sink,
    flavor,
    options,
    raw: config.adapter,
    strategy: config.session?.strategy ?? (config.adapter ? "database" : "jwt"),
    decisions: new ExpiringMap(5 * 60_000),
    created,
    sessions: new ExpiringMap(60_000),
    contexts,
    sessionReads: new WeakMap(),
    deleted: new ExpiringMap(10_000),
    context,
    async flushCreated(userId) {
      const pending = created.take(userId);
      if (pending) await flush(pending);
    },
  };
}

