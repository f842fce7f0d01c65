/**
 * createAuthbus(): the one place that wires the core (catalog, validation, formats) to a store
 * and to the durable in-process handlers.
 */
import { v7 as uuidv7 } from "uuid";
import { BlockingEventTypeError, BusClosedError, DuplicateHandlerError, InvalidEventIdError, InvalidQueryError } from "./core/errors.js";
import { isBlockingType, type EventType, type NonBlockingEventType, type PayloadOf } from "./core/catalog/catalog.js";
import { subjectOf, type AnyEnvelope, type ContextInputT, type EmitReceipt, type Envelope, type EventContext } from "./core/envelope.js";
import { compilePattern, compilePatterns, type TypesMatching } from "./core/pattern.js";
import { validateEmit } from "./core/validate.js";
import { NEXTAUTH_EVENTS, toNextAuthMessage, type NextAuthEventName } from "./core/formats/nextauth.js";
import type { AppendInput, EventStore, TransactionHandle } from "./core/ports/store.js";
import { HandlerConsumer } from "./consumers/handler-consumer.js";
import { createSqliteStore } from "./stores/sqlite/sqlite-store.js";
import { parseDatabaseUrl, validateOptions, type AuthbusOptions } from "./options.js";

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
  const store: EventStore = createSqliteStore({ filename: location.filename, synchronous: o.sqlite?.synchronous ?? "FULL" });

  const consumers = new Map<string, { consumer: HandlerConsumer; matches: (type: string) => boolean }>();
  const registering = new Set<Promise<void>>();
  const nameCounts = new Map<string, number>();
  let closed = false;

  store.onAppended((appId) => {
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

  /** Validates and serialises; throws typed errors. */
  function prepare(type: string, payload: unknown, context: ContextInputT | undefined, opts: EmitOptions): AppendInput {
    if (closed) throw new BusClosedError();
    if (isBlockingType(type)) throw new BlockingEventTypeError(type);
    const { payloadJson } = validateEmit(type, payload, context);
    if (opts.id !== undefined && (typeof opts.id !== "string" || !UUID.test(opts.id))) throw new InvalidEventIdError(opts.id);
    const userId = subjectOf(payload, context ?? {});
    const timestamp = Math.floor(now() / 1000);
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
