import { uuidv7 } from "../../core/ids.js";
import type { AppendInput } from "../../core/ports/store.js";
import type { ConformanceFixture, MakeStore } from "../store-conformance.js";

/** Runs `fn` on a fresh store and always cleans up, so a failing test leaves no database behind. */
export async function withStore<T>(makeStore: MakeStore, fn: (f: ConformanceFixture) => Promise<T>): Promise<T> {
  const f = await makeStore();
  try {
    return await fn(f);
  } finally {
    await f.cleanup();
  }
}

export const T0 = 1_700_000_000;

export interface EventSpec {
  app?: string;
  type?: string;
  user?: string;
  /** A caller-chosen id (idempotent); generated otherwise. */
  id?: string;
  ts?: number;
  payload?: unknown;
}

/** An AppendInput the way the bus prepares one: validated, serialised, no seq yet. */
export function event(spec: EventSpec = {}): AppendInput {
  const app = spec.app ?? "app1";
  const type = spec.type ?? "user.profile.updated";
  const ts = spec.ts ?? T0;
  const payload = spec.payload ?? (spec.user !== undefined ? { user: { id: spec.user } } : {});
  const context: Record<string, unknown> = { app_id: app, timestamp: ts, triggered_by: "user", preferred_languages: [], language: "en" };
  if (spec.user !== undefined) context.user_id = spec.user;
  return {
    id: spec.id ?? uuidv7(),
    callerId: spec.id !== undefined,
    app_id: app,
    type,
    user_id: spec.user,
    timestamp: ts,
    payloadJson: JSON.stringify(payload),
    contextJson: JSON.stringify(context),
  };
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The rejection of `p` (fails when it resolves). */
export async function rejection(p: Promise<unknown> | unknown): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a rejection, but it resolved");
}
