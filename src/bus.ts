/**
 * createAuthbus(): the one place that wires the core (catalog, validation, formats) to a store
 * and to the durable in-process handlers.
 */
import { v7 as uuidv7 } from "uuid";
import { BlockingEventTypeError, BusClosedError, DuplicateHandlerError, InvalidEventIdError, InvalidQueryError } from "./core/errors.js";
import { isBlockingType, type BlockingEventType, type EventType, type NonBlockingEventType, type PayloadOf } from "./core/catalog/catalog.js";
import { subjectOf, type AnyEnvelope, type ContextInputT, type EmitReceipt, type Envelope, type EventContext } from "./core/envelope.js";
import { compilePattern, compilePatterns, type TypesMatching } from "./core/pattern.js";
import { validateEmit } from "./core/validate.js";
import { NEXTAUTH_EVENTS, toNextAuthMessage, type NextAuthEventName } from "./core/formats/nextauth.js";
import type { AppendInput, EventStore, TransactionHandle } from "./core/ports/store.js";
import { HandlerConsumer } from "./consumers/handler-consumer.js";
import { createSqliteStore } from "./stores/sqlite/sqlite-store.js";
import { parseDatabaseUrl, validateOptions, type AuthbusOptions } from "./options.js";
import { createHookService, type DecisionsApi, type HooksApi } from "./hooks/hook-service.js";
import { runGuarded, type GuardOperation, type GuardOptions } from "./hooks/guard.js";
import { DeliveryEngine } from "./delivery/engine.js";
import { createSubscriptionsApi, type DeliveriesApi, type SubscriptionsApi } from "./delivery/subscriptions-api.js";
import { createWebhookSender, readAuthbusVersion } from "./destinations/webhook/webhook-sender.js";
import { webhookUserAgent } from "./core/delivery/webhook-request.js";
import { classifyAddress, ipLiteralOf } from "./net/ssrf-guard.js";
import { SsrfRefusedError } from "./core/errors.js";

export interface EmitOptions {
  /** Write inside the caller's open transaction (outbox): `fromBetterSqlite3(db)`. */
  tx?: TransactionHandle;
  /** Caller-chosen event id (a UUID) for idempotent retries: the same id records one event. */
  id?: string;
  /** Resolve only after every matching in-process handler has made its first attempt (NextAuth's blocking behaviour). */
  await?: boolean;
}

export interface QueryFilter<P extends string = string> {
  /** A type or pattern (`user.*`, `authentication.**`), or several. */
  type?: P | readonly P[];
  user_id?: string;
  after_seq?: number;
  /** Inclusive lower bound: UNIX seconds, RFC 3339 string or Date. */
  since?: number | string | Date;
  /** Exclusive upper bound: UNIX seconds, RFC 3339 string or Date. */
  until?: number | string | Date;
  /** 1..1000, default 100. */
  limit?: number;
}

export type EnvelopeOf<T> = T extends EventType ? Envelope<T> : never;
export type Handler<P extends string> = (event: EnvelopeOf<TypesMatching<P>>) => unknown;

export interface OnOptions {
  /** The consumer name its cursor is stored under. Default: the pattern (`#2`, `#3`... for repeats). Keep it stable across restarts. */
  name?: string;
}

export interface Authbus {
  readonly app: string;
  emit<T extends NonBlockingEventType>(type: T, payload: PayloadOf<T>, context?: ContextInputT, options?: EmitOptions): Promise<EmitReceipt>;
  on<P extends string>(pattern: P, handler: Handler<P>, options?: OnOptions): () => Promise<void>;
  /** The audit log in ascending seq order; typed by the pattern(s) given. */
  query<P extends string = "**">(filter?: QueryFilter<P>): Promise<EnvelopeOf<TypesMatching<P>>[]>;
  getEvent(id: string): Promise<AnyEnvelope | undefined>;
  /**
   * Runs the blocking hooks of `type` in registration order. Resolves with the payload after every
   * mutation; rejects with HookDeniedError when a hook denies or fails closed.
   */
  before<T extends BlockingEventType>(type: T, payload: PayloadOf<T>, context?: ContextInputT): Promise<PayloadOf<T>>;
  /**
   * Hooks, then `operation(final, { emit })`, then the `then` event; resolves with the operation's
   * result. A deny or a throw records nothing. With `tx`, call `emit()` inside your transaction.
   */
  guard<T extends BlockingEventType, Then extends NonBlockingEventType, R>(
    type: T,
    payload: PayloadOf<T>,
    context: ContextInputT | undefined,
    operation: GuardOperation<T, Then, R>,
    options: GuardOptions<T, Then, R>,
  ): Promise<Awaited<R>>;
  /** Register, remove and list blocking hooks at run time. */
  readonly hooks: HooksApi;
  /** The decision ledger: every hook evaluation with each hook's answer. */
  readonly decisions: DecisionsApi;
  /** Subscriptions (event streams): webhooks that receive the events their filter matches. */
  readonly subscriptions: SubscriptionsApi;
  /** The delivery log: every delivery and attempt. */
  readonly deliveries: DeliveriesApi;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAuthbus(options?: AuthbusOptions): Authbus {
  const o = validateOptions(options);
  const app = o.app ?? "default";
  const language = o.language ?? "en";
  const now = o.now ?? Date.now;
  const onError = o.onError ?? defaultOnError;
  const location = parseDatabaseUrl(o.database ?? "sqlite:./authbus.db");
  const sqlite = createSqliteStore({ filename: location.filename, synchronous: o.sqlite?.synchronous ?? "FULL", writerThread: o.sqlite?.writerThread });
  const store: EventStore = sqlite;
  let hookService: ReturnType<typeof createHookService>;
  try {
    hookService = createHookService({
      app,
      hooks: o.hooks,
      hookTimeoutMs: o.hookTimeoutMs ?? 5000,
      hookChainBudgetMs: o.hookChainBudgetMs ?? 10_000,
      allowPrivateNetworks: o.allowPrivateNetworks === true,
      now,
      makeContext: (payload, context, timestamp) => fullContext(context, subjectOf(payload, context ?? {}), timestamp),
      decisions: sqlite.decisions,
      onLedgerError: (error, lost) => {
        if (o.onError) o.onError(error, { handler: "hooks:ledger", attempt: 1, retryInMs: 0 });
        else console.error(`authbus: the decision ledger could not record ${lost} evaluation(s): ${error instanceof Error ? error.message : String(error)}`);
      },
    });
  } catch (e) {
    // A bad hook in the options: release the store we just opened (its writer thread would keep the process alive).
    void store.close();
    throw e;
  }

  const sender = createWebhookSender({
    allowPrivateNetworks: o.allowPrivateNetworks === true,
    connectTimeoutMs: o.delivery?.connectTimeoutMs,
    totalTimeoutMs: o.delivery?.timeoutMs,
  });
  const userAgent = webhookUserAgent(readAuthbusVersion());
  const engine = new DeliveryEngine({
    events: store,
    deliveries: sqlite.deliveries,
    send: (url, req) => sender.send(url, req),
    userAgent,
    now,
    maxInFlight: o.delivery?.maxInFlight ?? 32,
    leaseMs: o.delivery?.leaseMs ?? 15_000,
    onError: (error, where) => onError(error, { handler: `delivery:${where}`, attempt: 0, retryInMs: 0 }),
  });
  if (o.delivery?.enabled !== false) engine.start();
  const delivery = createSubscriptionsApi({
    app,
    events: store,
    deliveries: sqlite.deliveries,
    engine,
    send: (url, req) => sender.send(url, req),
    userAgent,
    now,
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
  let closed = false;

  store.onAppended((appId) => {
    engine.wake();
    if (appId !== app) return;
    for (const c of consumers.values()) c.consumer.wake();
  });

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
      onError,
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

  for (const [event, fn] of Object.entries(o.events ?? {})) {
    if (!fn) continue;
    const key = event as NextAuthEventName;
    const shape = o.eventsShape ?? "v4";
    register(`nextauth:${key}`, NEXTAUTH_EVENTS[key], (e) => fn(toNextAuthMessage(key, e, shape)));
  }
  for (const [name, h] of Object.entries(o.handlers ?? {})) register(name, h.filter, h.handle as (e: Envelope) => unknown);

  function fullContext(context: ContextInputT | undefined, userId: string | undefined, timestamp: number): EventContext {
    const full: EventContext = {
      app_id: app,
      ...context,
      timestamp,
      triggered_by: context?.triggered_by ?? "user",
      preferred_languages: context?.preferred_languages ?? [],
      language: context?.language ?? language,
      ...(userId !== undefined ? { user_id: userId } : {}),
    };
    full.app_id = app;
    return full;
  }


  /** Validates and serialises; throws typed errors. */
  function prepare(type: string, payload: unknown, context: ContextInputT | undefined, opts: EmitOptions): AppendInput {
    if (closed) throw new BusClosedError();
    if (isBlockingType(type)) throw new BlockingEventTypeError(type);
    const { payloadJson } = validateEmit(type, payload, context);
    if (opts.id !== undefined && (typeof opts.id !== "string" || !UUID.test(opts.id))) throw new InvalidEventIdError(opts.id);
    const userId = subjectOf(payload, context ?? {});
    const timestamp = Math.floor(now() / 1000);
    const full = fullContext(context, userId, timestamp);
    return {
      id: opts.id?.toLowerCase() ?? uuidv7(),
      callerId: opts.id !== undefined,
      app_id: app,
      type,
      user_id: userId,
      timestamp,
      payloadJson,
      contextJson: JSON.stringify(full),
    };
  }

  /**
   * With `tx`, the event is written before emit returns and any failure is thrown synchronously,
   * so it aborts the caller's transaction (better-sqlite3 transactions cannot await).
   */
  function emit(type: string, payload: unknown, context?: ContextInputT, opts: EmitOptions = {}): Promise<EmitReceipt> {
    if (opts.tx) {
      if (opts.await) throw new TypeError("emit: `await` cannot be combined with `tx` (the event is not visible until your transaction commits)");
      const input = prepare(type, payload, context, opts);
      const r = store.appendInTransaction(opts.tx, input);
      return Promise.resolve(r).then((x) => ({ id: x.id, seq: x.seq }));
    }
    let input: AppendInput;
    try {
      input = prepare(type, payload, context, opts);
    } catch (e) {
      return Promise.reject(e);
    }
    return append(input, opts.await === true, type);
  }

  async function append(input: AppendInput, awaitHandlers: boolean, type: string): Promise<EmitReceipt> {
    if (registering.size > 0) await Promise.all(registering);
    const [r] = await store.append([input]);
    if (awaitHandlers) {
      await Promise.all([...consumers.values()].filter((c) => c.matches(type)).map((c) => c.consumer.waitFor(r!.seq)));
    }
    return { id: r!.id, seq: r!.seq };
  }

  return {
    app,
    emit: emit as Authbus["emit"],
    before: hookService.before,
    guard(type, payload, context, operation, options) {
      return runGuarded({ before: hookService.before, emit: emit as never }, type, payload, context, operation, options);
    },
    hooks: hookService.hooks,
    decisions: hookService.decisions,
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
    async close() {
      if (closed) return;
      closed = true;
      await hookService.close();
      await engine.stop();
      await sender.close();
      await Promise.allSettled(registering);
      await Promise.all([...consumers.values()].map((c) => c.consumer.stop()));
      consumers.clear();
      await store.close();
    },
  };
}

export function toUnixSeconds(value: number | string | Date | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidQueryError(`${field} must be UNIX seconds, an RFC 3339 string or a Date`);
    return Math.floor(value);
  }
  const ms = value instanceof Date ? value.getTime() : /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidQueryError(`${field} must be UNIX seconds, an RFC 3339 string or a Date`);
  return Math.floor(ms / 1000);
}

function defaultOnError(error: unknown, info: { handler: string; attempt: number; retryInMs: number }): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`authbus: handler ${info.handler} failed (attempt ${info.attempt}, retry in ${info.retryInMs} ms): ${message}`);
}
