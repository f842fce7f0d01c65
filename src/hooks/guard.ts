/**
 * `bus.guard()`: hooks, then the caller's operation, then the non-blocking event, in that order.
 *
 * better-sqlite3 transactions are synchronous and hooks are not, so the hooks cannot run inside
 * the caller's transaction. The order is therefore: run the hooks (async, no transaction open);
 * call the operation with the final payload; the operation opens its own transaction and, with
 * `tx`, calls `emit()` inside it, which writes the event on the caller's connection so the
 * operation and its event commit or roll back together. Without `tx`, the event is recorded
 * after the operation returns (not atomic: a crash in between loses the event).
 */
import { isBlockingType, isEventType, type BlockingEventType, type NonBlockingEventType, type PayloadOf } from "../core/catalog/catalog.js";
import type { ContextInputT, EmitReceipt } from "../core/envelope.js";
import { BlockingEventTypeError, UnknownEventTypeError } from "../core/errors.js";
import type { TransactionHandle } from "../core/ports/store.js";

export interface GuardControl<Then extends NonBlockingEventType> {
  /**
   * With `tx` only: writes the `then` event inside your open transaction, synchronously (a failure
   * throws here and so aborts your transaction). Call it exactly once. Default payload: the final
   * payload of the blocking event.
   */
  emit(payload?: PayloadOf<Then>): Promise<EmitReceipt>;
}

export interface GuardOptions<T extends BlockingEventType, Then extends NonBlockingEventType, R> {
  /** The non-blocking event recorded once the operation succeeded, e.g. `user.created`. */
  then: Then;
  /** The caller's transaction (`fromBetterSqlite3(db)`); the operation must call `emit()` inside it. */
  tx?: TransactionHandle;
  /** Without `tx`: builds the `then` payload from the final payload and the operation's result. Default: the final payload. */
  thenPayload?: (final: PayloadOf<T>, result: Awaited<R>) => PayloadOf<Then>;
}

export type GuardOperation<T extends BlockingEventType, Then extends NonBlockingEventType, R> = (
  final: PayloadOf<T>,
  control: GuardControl<Then>,
) => R | Promise<R>;

export interface GuardDeps {
  before(type: BlockingEventType, payload: unknown, context?: ContextInputT): Promise<unknown>;
  emit(type: NonBlockingEventType, payload: unknown, context?: ContextInputT, options?: { tx?: TransactionHandle }): Promise<EmitReceipt>;
}

export async function runGuarded<T extends BlockingEventType, Then extends NonBlockingEventType, R>(
  deps: GuardDeps,
  type: T,
  payload: PayloadOf<T>,
  context: ContextInputT | undefined,
  operation: GuardOperation<T, Then, R>,
  options: GuardOptions<T, Then, R>,
): Promise<Awaited<R>> {
  if (typeof operation !== "function") throw new TypeError("guard: operation must be a function");
  const then = options?.then as string;
  // Checked before the hooks run: finding out after the operation would leave it done with no event.
  if (typeof then !== "string" || !isEventType(then)) throw new UnknownEventTypeError(String(then));
  if (isBlockingType(then)) throw new BlockingEventTypeError(then);
  const tx = options.tx;
  if (tx && options.thenPayload) throw new TypeError("guard: with tx, pass the event payload to emit() inside your transaction instead of thenPayload");

  const final = (await deps.before(type, payload, context)) as PayloadOf<T>;
  let emitted = false;
  const control: GuardControl<Then> = {
    emit(thenPayload) {
      if (!tx) throw new TypeError("guard: emit() is for use inside your transaction with { tx }; without tx the event is recorded after the operation");
      if (emitted) throw new TypeError(`guard: emit() was already called; one ${then} event per operation`);
      // Synchronous on purpose: inside a better-sqlite3 transaction a thrown error aborts it.
      const receipt = deps.emit(then as Then, thenPayload ?? final, context, { tx });
      emitted = true;
      return receipt;
    },
  };
  const result = await operation(final, control);
  if (tx) {
    if (!emitted) throw new TypeError(`guard: with tx, the operation must call emit() inside its transaction; it returned without doing so and no ${then} event was recorded`);
    return result;
  }
  const thenPayload = options.thenPayload ? options.thenPayload(final, result) : final;
  await deps.emit(then as Then, thenPayload, context);
  return result;
}
