/**
 * The shared runtime: one store (and its writer thread), one webhook sender and one delivery
 * engine for every app on a database. `forApp(id)` gives each app its facade; createAuthbus() is
 * a runtime with a single app, and the server is a runtime with as many apps as keys name.
 */
import { BusClosedError } from "./core/errors.js";
import type { HandlerErrorInfo } from "./consumers/handler-consumer.js";
import { createSqliteStore } from "./stores/sqlite/sqlite-store.js";
import { createPostgresStore } from "./stores/postgres/pg-store.js";
import type { EventStore } from "./core/ports/store.js";
import type { DecisionStore } from "./core/ports/decisions.js";
import type { TenancyStore } from "./core/ports/tenancy.js";

/** What the runtime needs from a store, whichever database it is on. */
type RuntimeStore = EventStore & { readonly deliveries: DeliveryStore; readonly decisions: DecisionStore; readonly tenancy: TenancyStore; ping(): Promise<void>; ready?(): Promise<void> };
import { parseDatabaseUrl, validateOptions, type AuthbusOptions } from "./options.js";
import { DeliveryEngine } from "./delivery/engine.js";
import { createWebhookSender } from "./destinations/webhook/webhook-sender.js";
import { readAuthbusVersion } from "./version.js";
import { createNatsPublisher } from "./destinations/nats/nats-publisher.js";
import { webhookUserAgent } from "./core/delivery/webhook-request.js";
import { createAppBus, type AppBus, type AppOptions, type InternalAppBus } from "./app-bus.js";
import { createTenancy, type AppsApi, type KeysApi } from "./tenancy/tenancy.js";
import type { DeliveryStore, Subscription, SubscriptionHealth } from "./core/ports/deliveries.js";

/** createAuthbus() options without the per-app ones. */
export type RuntimeOptions = Omit<AuthbusOptions, "app" | "events" | "eventsShape" | "handlers" | "hooks">;

/** What the server's metrics listen to. Observers must not throw. */
export interface RuntimeObserver {
  recorded?(app: string, count: number): void;
  delivered?(info: { subscription_id: string; state: string; latency_ms: number; status_code: number | null }): void;
  decided?(app: string, type: string, decision: "allow" | "deny"): void;
}

export interface Runtime {
  /** The facade of one app (created on first use, then the same object). */
  forApp(app: string, options?: AppOptions): AppBus;
  readonly apps: AppsApi;
  readonly keys: KeysApi;
  /** Every subscription of every app with its health (metrics). */
  subscriptionHealth(): Promise<{ subscription: Subscription; health: SubscriptionHealth }[]>;
  observe(observer: RuntimeObserver): () => void;
  /** Throws StoreError when the database cannot be read (readiness). */
  ping(): Promise<void>;
  /** Resolves once the store is open and migrated (PostgreSQL connects and migrates in the background). */
  ready(): Promise<void>;
  readonly closed: boolean;
  /**
   * Closes every app, then stops the delivery engine, which lets in-flight attempts finish and
   * records their results (undelivered work stays pending in the database), then the store.
   */
  close(): Promise<void>;
}

export function createRuntime(options?: RuntimeOptions): Runtime {
  return openRuntime(validateOptions(options));
}

/** For callers that validated the options already (createAuthbus validates its whole options once). */
export function openRuntime(o: AuthbusOptions): Runtime {
  const now = o.now ?? Date.now;
  const onError = o.onError ?? defaultOnError;
  const location = parseDatabaseUrl(o.database ?? "sqlite:./authbus.db");
  const sqlite: RuntimeStore =
    location.kind === "postgres"
      ? createPostgresStore({
          connectionString: location.connectionString,
          schema: o.postgres?.schema,
          poolSize: o.postgres?.poolSize,
          reconnectTimeoutMs: o.postgres?.reconnectTimeoutMs,
          onError: (e) => onError(e, { handler: "store", attempt: 0, retryInMs: 0 }),
        })
      : createSqliteStore({ filename: location.filename, synchronous: o.sqlite?.synchronous ?? "FULL", writerThread: o.sqlite?.writerThread });
  const observers = new Set<RuntimeObserver>();
  const notify = (f: (x: RuntimeObserver) => void) => {
    for (const x of observers) {
      try {
        f(x);
      } catch {
        // metrics must never break delivery or emit
      }
    }
  };

  const sender = createWebhookSender({
    allowPrivateNetworks: o.allowPrivateNetworks === true,
    connectTimeoutMs: o.delivery?.connectTimeoutMs,
    totalTimeoutMs: o.delivery?.timeoutMs,
  });
  const userAgent = webhookUserAgent(readAuthbusVersion());
  // One connection per runtime, dialled on the first nats delivery.
  const nats = o.nats ? createNatsPublisher({ url: o.nats.url, timeoutMs: o.nats.timeoutMs, onError: (e) => onError(e, { handler: "delivery:nats", attempt: 0, retryInMs: 0 }) }) : undefined;
  const deliveries: DeliveryStore = sqlite.deliveries;
  const engine = new DeliveryEngine({
    publishNats: nats && ((m) => nats.publish(m)),
    events: sqlite,
    deliveries,
    send: (url, req) => sender.send(url, req),
    userAgent,
    now,
    maxInFlight: o.delivery?.maxInFlight ?? 32,
    leaseMs: o.delivery?.leaseMs ?? 15_000,
    onError: (error, where) => onError(error, { handler: `delivery:${where}`, attempt: 0, retryInMs: 0 }),
    onDelivered: (info) => notify((x) => x.delivered?.(info)),
  });
  if (o.delivery?.enabled !== false) engine.start();
  const tenancy = createTenancy(sqlite.tenancy, now);

  const facades = new Map<string, InternalAppBus>();
  let closed = false;
  sqlite.onAppended((appId, seq) => {
    engine.wake();
    facades.get(appId)?.wake(seq);
  });

  return {
    forApp(app, appOptions) {
      if (closed) throw new BusClosedError();
      const existing = facades.get(app);
      if (existing) {
        if (appOptions !== undefined) throw new TypeError(`forApp(${JSON.stringify(app)}): the app is already open; per-app options can only be given when it is opened`);
        return existing;
      }
      const bus = createAppBus(
        app,
        {
          store: sqlite,
          deliveries,
          decisions: sqlite.decisions,
          tenancy: sqlite.tenancy,
          engine,
          send: (url, req) => sender.send(url, req),
          userAgent,
          now,
          shared: o,
          onError,
          onRecorded: (a, n) => notify((x) => x.recorded?.(a, n)),
          onDecision: (a, t, dcs) => notify((x) => x.decided?.(a, t, dcs)),
          onClosed: () => {
            if (facades.get(app) === bus) facades.delete(app);
          },
        },
        appOptions,
      );
      facades.set(app, bus);
      return bus;
    },
    apps: tenancy.apps,
    keys: tenancy.keys,
    async subscriptionHealth() {
      const subs = await deliveries.allSubscriptions();
      const t = now();
      const out: { subscription: Subscription; health: SubscriptionHealth }[] = [];
      for (const s of subs) {
        const health = await deliveries.health(s.app_id, s.id, t);
        if (health) out.push({ subscription: s, health });
      }
      return out;
    },
    observe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    ping: () => sqlite.ping(),
    ready: async () => sqlite.ready?.(),
    get closed() {
      return closed;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...facades.values()].map((f) => f.shutdown()));
      await engine.stop();
      await sender.close();
      await nats?.close();
      observers.clear();
      await sqlite.close();
    },
  };
}

function defaultOnError(error: unknown, info: HandlerErrorInfo): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`authbus: handler ${info.handler} failed (attempt ${info.attempt}, retry in ${info.retryInMs} ms): ${message}`);
}
