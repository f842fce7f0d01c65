/**
 * `oidc.jwt.pre_create` for Better Auth's `jwt` plugin: a `definePayload` that runs the hooks on
 * the payload the plugin would sign. The plugin adds `iat`, `exp`, `iss`, `aud` and `sub` after it;
 * the hooks cannot add or change those (reserved claims).
 */
import type { Authbus } from "../../index.js";
import { runHooks } from "../shared/blocking.js";
import { createEventSink, type EventSinkOptions } from "../shared/event-sink.js";
import { currentRequestContext } from "../shared/request-context.js";
import { jsonSafe } from "../shared/shapes.js";
import { deniedError } from "./db-hooks.js";
import { baUser } from "./shapes.js";

type AnyRecord = Record<string, unknown>;
export type JwtSession = { user: AnyRecord & { id: string }; session: AnyRecord };

/** `jwt({ jwt: { definePayload: authbusJwtPayload(bus) } })`; pass your own `definePayload` to build on it. */
export function authbusJwtPayload(bus: Authbus, definePayload?: (session: JwtSession) => AnyRecord | Promise<AnyRecord>, options: EventSinkOptions = {}) {
  const sink = createEventSink(bus, options);
  return async (session: JwtSession): Promise<AnyRecord> => {
    const base = definePayload ? await definePayload(session) : session.user;
    const userId = String(session.user.id);
    const payload = { ...(jsonSafe(base) as AnyRecord), sub: userId };
    const context = { triggered_by: "user" as const, ...currentRequestContext(), user_id: userId };
    const outcome = await runHooks(bus, sink, "oidc.jwt.pre_create", { user: baUser(session.user), jwt: { payload } }, context);
    if (outcome.outcome === "denied") throw deniedError(outcome.error);
    return outcome.outcome === "allowed" ? (outcome.payload.jwt.payload as AnyRecord) : base;
  };
}
