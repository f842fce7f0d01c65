/**
 * `authbusPlugin(bus)`: a Better Auth plugin whose database hooks and endpoint hook record the
 * catalog events of sign-up, sign-in (and its failures), profile updates, sign-out, session
 * revocation, unlinking and deletion, and run `user.pre_create` / `user.profile.pre_update`.
 */
import { createAuthMiddleware } from "better-auth/api";
import type { BetterAuthPlugin } from "better-auth";
import type { Authbus } from "../../index.js";
import { databaseHooks } from "./db-hooks.js";
import { afterHook } from "./endpoint-hook.js";
import { createBaRuntime, type AuthbusPluginOptions, type BaContext } from "./runtime.js";

export function authbusPlugin(bus: Authbus, options: AuthbusPluginOptions = {}): BetterAuthPlugin & { id: "authbus" } {
  const rt = createBaRuntime(bus, options);
  const after = afterHook(rt);
  return {
    id: "authbus" as const,
    init: () => ({ options: { databaseHooks: databaseHooks(rt) } }),
    hooks: {
      after: [{ matcher: () => true, handler: createAuthMiddleware(async (ctx) => after(ctx as unknown as BaContext)) }],
    },
  } satisfies BetterAuthPlugin;
}
