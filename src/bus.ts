/**
 * createAuthbus(): a runtime (store, writer, sender, delivery engine; see runtime.ts) serving one
 * app, and that app's facade. The facade itself lives in app-bus.ts.
 */
import { InvalidQueryError } from "./core/errors.js";
import type { BlockingEventType, EventType, NonBlockingEventType, PayloadOf } from "./core/catalog/catalog.js";
import type { AnyEnvelope, ContextInputT, EmitReceipt, Envelope } from "./core/envelope.js";
import type { TypesMatching } from "./core/pattern.js";
import type { TransactionHandle } from "./core/ports/store.js";
import { validateOptions, type AuthbusOptions } from "./options.js";
import type { DecisionsApi, HooksApi } from "./hooks/hook-service.js";
import type { GuardOperation, GuardOptions } from "./hooks/guard.js";
import type { DeliveriesApi, SubscriptionsApi } from "./delivery/subscriptions-api.js";
import { openRuntime } from "./runtime.js";
import type { AppBus } from "./app-bus.js";

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

export function createAuthbus(options?: AuthbusOptions): Authbus {
  const o = validateOptions(options);
  const runtime = openRuntime(o);
  let bus: AppBus;
  try {
    bus = runtime.forApp(o.app ?? "default", { events: o.events, eventsShape: o.eventsShape, handlers: o.handlers, hooks: o.hooks });
  } catch (e) {
    // A bad hook or handler in the options: release the store we just opened (its writer thread would keep the process alive).
    void runtime.close();
    throw e;
  }
  // The library's bus owns its runtime: closing it closes the store too.
  return Object.assign(bus, { close: () => runtime.close() });
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
