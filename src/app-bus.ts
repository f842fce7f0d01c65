/**
 * One app's view of a runtime: the `Authbus` facade (emit, query, handlers, hooks, subscriptions)
 * scoped to a single app id. Everything that is shared between apps (store, writer, webhook
 * sender, delivery engine) comes in through `AppBusDeps`; nothing here opens a resource that
 * outlives `close()`.
 */
import { uuidv7 } from "./core/ids.js";
import { AuthbusError, BatchItemError, BlockingEventTypeError, BusClosedError, DuplicateHandlerError, InvalidEventIdError, InvalidQueryError, SsrfRefusedError } from "./core/errors.js";
import { isBlockingType } from "./core/catalog/catalog.js";
import { subjectOf, type AnyEnvelope, type ContextInputT, type EmitReceipt, type Envelope, type EventContext } from "./core/envelope.js";
import { compilePattern, compilePatterns } from "./core/pattern.js";
import { validateEmit } from "./core/validate.js";
import { NEXTAUTH_EVENTS, toNextAuthMessage, type NextAuthEventName } from "./core/formats/nextauth.js";
import type { AppendInput, AppendResult, EventStore } from "./core/ports/store.js";
import type { DecisionStore } from "./core/ports/decisions.js";
import type { DeliveryStore } from "./core/ports/deliveries.js";
import type { TenancyStore } from "./core/ports/tenancy.js";
import { HandlerConsumer, type HandlerErrorInfo } from "./consumers/handler-consumer.js";
import type { AuthbusOptions } from "./options.js";
import { createHookService, type HookService } from "./hooks/hook-service.js";
import { runGuarded } from "./hooks/guard.js";
import type { DeliveryEngine } from "./delivery/engine.js";
import type { WebhookSend } from "./core/ports/destinations.js";
import { createSubscriptionsApi } from "./delivery/subscriptions-api.js";
import { classifyAddress, ipLiteralOf } from "./net/ssrf-guard.js";
import { createStoredHooksApi, type StoredHooksApi } from "./hooks/stored-hooks.js";
import { toUnixSeconds, type Authbus, type EmitOptions, type QueryFilter } from "./bus.js";

/** One event of a batch: what `POST /v1/events` takes. */
export interface BatchItem {
  type: string;
  payload: unknown;
  context?: ContextInputT;
  /** Caller-chosen UUID for idempotent retries. */
  id?: string;
}

/** The facade plus what the server needs beyond the library API. */
export interface AppBus extends Authbus {
  /** Records every item in one group-commit call: all of them or none (a failing item fails the batch). */
  emitMany(items: readonly BatchItem[]): Promise<EmitReceipt[]>;
  /** HTTP hooks kept in the database (the server's `/v1/hooks`), loaded into this app's chain. */
  readonly storedHooks: StoredHooksApi;
  /** Called when this process records events of this app (SSE streams wake on it). */
  onAppended(listener: (seq: number) => void): () => void;
  headSeq(): Promise<number>;
}

/** Per-app options: only createAuthbus() passes them (the server's apps have none). */
export type AppOptions = Pick<AuthbusOptions, "events" | "eventsShape" | "handlers" | "hooks">;

export interface AppBusDeps {
  store: EventStore;
  deliveries: DeliveryStore;
  decisions: DecisionStore;
  tenancy: TenancyStore;
  engine: DeliveryEngine;
  send: WebhookSend;
  userAgent: string;
  now: () => number;
  /** The runtime's validated shared options (retry policy, hook limits, SSRF switch...). */
  shared: AuthbusOptions;
  onError: (error: unknown, info: HandlerErrorInfo) => void;
  onRecorded?: (app: string, count: number) => void;
  onDecision?: (app: string, type: string, decision: "allow" | "deny") => void;
  /** The facade closed itself (the runtime forgets it). */
  onClosed: () => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The facade plus the runtime's handles on it (`close` may be replaced by createAuthbus; `shutdown` may not). */
export type InternalAppBus = AppBus & { wake(seq: number): void; shutdown(): Promise<void> };

export function createAppBus(app: string, d: AppBusDeps, appOptions: AppOptions = {}): InternalAppBus {
  const o = d.shared;
  const language = o.language ?? "en";
  const store = d.store;
  const hookService: HookService = createHookService({
    app,
    hooks: appOptions.hooks,
    hookTimeoutMs: o.hookTimeoutMs ?? 5000,
    hookChainBudgetMs: o.hookChainBudgetMs ?? 10_000,
    allowPrivateNetworks: o.allowPrivateNetworks === true,
    now: d.now,
    makeContext: (payload, context, timestamp) => fullContext(context, subjectOf(payload, context ?? {}), timestamp),
    decisions: d.decisions,
    onLedgerError: (error, lost) => {
      if (o.onError) o.onError(error, { handler: "hooks:ledger", attempt: 1, retryInMs: 0 });
      else console.error(`authbus: the decision ledger could not record ${lost} evaluation(s): ${error instanceof Error ? error.message : String(error)}`);
    },
    onDecision: d.onDecision && ((type, decision) => d.onDecision!(app, type, decision)),
  });
  const stored = createStoredHooksApi({ app, tenancy: d.tenancy, hooks: hookService.hooks, now: d.now, onError: (e) => d.onError(e, { handler: "hooks:stored", attempt: 0, retryInMs: 0 }) });

  const delivery = createSubscriptionsApi({
    app,
    events: store,
    deliveries: d.deliveries,
    engine: d.engine,
    send: d.send,
    userAgent: d.userAgent,
    now: d.now,
    natsConfigured: o.nats !== undefined,
    checkDestination(url) {
      // Names are checked after DNS, at connect time; a literal address can be refused right away.
      const ip = ipLiteralOf(new URL(url).hostname);
      if (ip === undefined || o.allowPrivateNetworks === true) return;
      const verdict = classifyAddress(ip);
      if (!verdict.allowed) throw new SsrfRefusedError(verdict.address, verdict.range);
    },
  });

  const consumers = new Map<string, { consumer: HandlerConsumer; matches: (type: string) => boolean }>();
  const registering = new Set<Promise<void>>();
  const nameCounts = new Map<string, number>();
  const appendListeners = new Set<(seq: number) => void>();
  let closed = false;

  function register(name: string, pattern: string, handle: (e: Envelope) => unknown): () => Promise<void> {
    if (closed) throw new BusClosedError();
    const matches = compilePattern(pattern);
    if (consumers.has(name)) throw new DuplicateHandlerError(name);
    const consumer = new HandlerConsumer({
      store,
      app,
      name,
      pattern,
      handle,
      retry: { baseMs: o.handlerRetry?.baseMs ?? 500, maxMs: o.handlerRetry?.maxMs ?? 60_000 },
      pollIntervalMs: o.pollIntervalMs ?? 250,
      batchSize: 256,
      onError: d.onError,
    });
    consumers.set(name, { consumer, matches });
    const ready = store.openCursor(app, name).then((cursor) => {
      if (!closed) consumer.start(cursor);
    });
    registering.add(ready);
    ready.finally(() => registering.delete(ready)).catch(() => undefined);
    return async () => {
      if (consumers.get(name)?.consumer !== consumer) return;
      consumers.delete(name);
      await ready.catch(() => undefined);
      await consumer.stop();
    };
  }

  for (const [event, fn] of Object.entries(appOptions.events ?? {})) {
    if (!fn) continue;
    const key = event as NextAuthEventName;
    const shape = appOptions.eventsShape ?? "v4";
    register(`nextauth:${key}`, NEXTAUTH_EVENTS[key], (e) => fn(toNextAuthMessage(key, e, shape)));
  }
  for (const [name, h] of Object.entries(appOptions.handlers ?? {})) register(name, h.filter, h.handle as (e: Envelope) => unknown);

  function fullContext(context: ContextInputT | undefined, userId: string | undefined, timestamp: number): EventContext {
    const full: EventContext = {
      app_id: app,
      ...context,
      timestamp,
      triggered_by: context?.triggered_by ?? "user",
      preferred_languages: context?.preferred_languages ?? [],
      language: context?.language ?? language,
    };
    if (userId !== undefined) full.user_id = userId;
    full.app_id = app;
    return full;
  }

  /** Validates and serialises; throws typed errors. */
  function prepare(type: string, payload: unknown, context: ContextInputT | undefined, id: string | undefined): AppendInput {
    if (closed) throw new BusClosedError();
    if (isBlockingType(type)) throw new BlockingEventTypeError(type);
    const { payloadJson } = validateEmit(type, payload, context);
    if (id !== undefined && (typeof id !== "string" || !UUID.test(id))) throw new InvalidEventIdError(id);
    const userId = subjectOf(payload, context ?? {});
    const timestamp = Math.floor(d.now() / 1000);
    return {
      id: id?.toLowerCase() ?? uuidv7(),
      callerId: id !== undefined,
      app_id: app,
      type,
      user_id: userId,
      timestamp,
      payloadJson,
      contextJson: JSON.stringify(fullContext(context, userId, timestamp)),
    };
  }

  /**
   * With `tx`, the event is written before emit returns and any failure is thrown synchronously,
   * so it aborts the caller's transaction (better-sqlite3 transactions cannot await).
   */
  function emit(type: string, payload: unknown, context?: ContextInputT, opts: EmitOptions = {}): Promise<EmitReceipt> {
    if (opts.tx) {
      if (opts.await) throw new TypeError("emit: `await` cannot be combined with `tx` (the event is not visible until your transaction commits)");
      const input = prepare(type, payload, context, opts.id);
      const r = store.appendInTransaction(opts.tx, input);
      return Promise.resolve(r).then((x) => {
        if (!x.duplicate) d.onRecorded?.(app, 1);
        return { id: x.id, seq: x.seq };
      });
    }
    let input: AppendInput;
    try {
      input = prepare(type, payload, context, opts.id);
    } catch (e) {
      return Promise.reject(e);
    }
    if (opts.await === true || registering.size > 0) return append([input], opts.await === true).then((r) => r[0]!);
    // The common case without append's async frame and arrays: one emit per authentication request.
    return store.append([input]).then(receiptOfOne);
  }

  function receiptOfOne(results: AppendResult[]): EmitReceipt {
    const r = results[0]!;
    if (!r.duplicate) d.onRecorded?.(app, 1);
    return { id: r.id, seq: r.seq };
  }

  async function append(inputs: AppendInput[], awaitHandlers: boolean): Promise<EmitReceipt[]> {
    if (registering.size > 0) await Promise.all(registering);
    const results = await store.append(inputs);
    const fresh = results.reduce((n, r) => n + (r.duplicate ? 0 : 1), 0);
    if (fresh > 0) d.onRecorded?.(app, fresh);
    if (awaitHandlers) {
      const r = results[0]!;
      const type = inputs[0]!.type;
      await Promise.all([...consumers.values()].filter((c) => c.matches(type)).map((c) => c.consumer.waitFor(r.seq)));
    }
    return results.map((r) => ({ id: r.id, seq: r.seq }));
  }

  async function shutdown(): Promise<void> {
    if (closed) return;
    closed = true;
    d.onClosed();
    stored.stop();
    await hookService.close();
    await Promise.allSettled(registering);
    await Promise.all([...consumers.values()].map((c) => c.consumer.stop()));
    consumers.clear();
    appendListeners.clear();
  }

  const bus: InternalAppBus = {
    app,
    emit: emit as Authbus["emit"],
    async emitMany(items) {
      const inputs = items.map((item, i) => {
        try {
          return prepare(item.type, item.payload, item.context, item.id);
        } catch (e) {
          throw e instanceof AuthbusError && !(e instanceof BusClosedError) ? new BatchItemError(i, e) : e;
        }
      });
      return inputs.length === 0 ? [] : append(inputs, false);
    },
    before: async (type, payload, context) => {
      await stored.loaded;
      return hookService.before(type, payload, context);
    },
    guard(type, payload, context, operation, options) {
      return runGuarded({ before: bus.before, emit: emit as never }, type, payload, context, operation, options);
    },
    hooks: hookService.hooks,
    decisions: hookService.decisions,
    storedHooks: stored,
    subscriptions: delivery.subscriptions,
    deliveries: delivery.deliveries,
    on(pattern, handler, onOptions) {
      let name = onOptions?.name;
      if (name === undefined) {
        const n = (nameCounts.get(pattern) ?? 0) + 1;
        nameCounts.set(pattern, n);
        name = n === 1 ? pattern : `${pattern}#${n}`;
      }
      return register(name, pattern, handler as (e: Envelope) => unknown);
    },
    async query(filter: QueryFilter = {}) {
      if (closed) throw new BusClosedError();
      const types = filter.type === undefined ? undefined : typeof filter.type === "string" ? [filter.type] : [...filter.type];
      if (types) compilePatterns(types);
      const limit = filter.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
      if (filter.after_seq !== undefined && (!Number.isInteger(filter.after_seq) || filter.after_seq < 0)) throw new InvalidQueryError("after_seq must be a non-negative integer");
      return (await store.query({
        app_id: app,
        types,
        user_id: filter.user_id,
        after_seq: filter.after_seq,
        since: toUnixSeconds(filter.since, "since"),
        until: toUnixSeconds(filter.until, "until"),
        limit,
      })) as never[];
    },
    async getEvent(id) {
      if (closed) throw new BusClosedError();
      return (await store.getEvent(app, id)) as AnyEnvelope | undefined;
    },
    headSeq: () => store.headSeq(app),
    onAppended(listener) {
      appendListeners.add(listener);
      return () => appendListeners.delete(listener);
    },
    wake(seq) {
      for (const c of consumers.values()) c.consumer.wake();
      for (const l of appendListeners) l(seq);
    },
    shutdown,
    /** Stops this app's handlers and hooks; the shared runtime stays open. */
    close: shutdown,
  };
  return bus;
}
