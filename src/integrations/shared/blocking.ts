/**
 * Runs a blocking type's hooks for an integration. A deny (or a hook that failed closed) stops the
 * library operation; an Authbus malfunction outside the hooks (a bug, a closed bus) is reported
 * and lets the operation go on unchanged, because an Authbus failure must never break sign-in.
 */
import { HookDeniedError } from "../../index.js";
import type { Authbus, BlockingEventType, ContextInput, PayloadOf } from "../../index.js";
import type { EventSink } from "./event-sink.js";

export type HookOutcome<T extends BlockingEventType> =
  | { outcome: "skipped" }
  | { outcome: "allowed"; payload: PayloadOf<T> }
  | { outcome: "denied"; error: HookDeniedError };

/** True when at least one hook (enforced or shadow) is registered for `type`. */
export function hasHooks(bus: Authbus, type: BlockingEventType): boolean {
  try {
    return bus.hooks.list(type).length > 0;
  } catch {
    return true;
  }
}

export async function runHooks<T extends BlockingEventType>(
  bus: Authbus,
  sink: EventSink,
  type: T,
  payload: PayloadOf<T>,
  context: ContextInput,
): Promise<HookOutcome<T>> {
  if (!hasHooks(bus, type)) return { outcome: "skipped" };
  try {
    return { outcome: "allowed", payload: await bus.before(type, payload, context) };
  } catch (error) {
    if (error instanceof HookDeniedError) return { outcome: "denied", error };
    sink.report(error, { operation: "hook", type });
    return { outcome: "skipped" };
  }
}
