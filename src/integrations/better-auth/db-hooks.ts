/**
 * Better Auth database hooks: `user.create.before` runs `user.pre_create` (deny = the write never
 * happens), `user.update.before` on `/update-user` runs `user.profile.pre_update`; the `after`
 * hooks note what one request wrote, or record it directly when it stands alone (sign-out,
 * unlink, delete). After hooks never throw: Better Auth would fail the request after the write.
 */
import { APIError } from "better-auth/api";
import type { HookDeniedError } from "../../index.js";
import { runHooks } from "../shared/blocking.js";
import { applyUserMutations } from "../shared/shapes.js";
import { TERMINATIONS, type BaContext, type BaRuntime } from "./runtime.js";
import { baIdentity, baSession, baUser, routeIdentity } from "./shapes.js";

type AnyRecord = Record<string, unknown>;
type Ctx = BaContext | null | undefined;

export function deniedError(error: HookDeniedError): APIError {
  // The hook's title and reason are meant for the end user (SPEC §3); the ledger keeps the rest.
  const message = [error.title, error.reason].filter(Boolean).join(": ") || "Denied by a hook";
  return new APIError("FORBIDDEN", { code: "hook_denied", message });
}


function safe<A extends unknown[]>(rt: BaRuntime, type: string, fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      rt.sink.report(error, { operation: "emit", type });
    }
  };
}

async function findUser(ctx: Ctx, id: string): Promise<AnyRecord | null> {
  return ctx?.context.internalAdapter ? ctx.context.internalAdapter.findUserById(id) : null;
}

export function databaseHooks(rt: BaRuntime) {
  return {
    user: {
      create: {
        before: async (user: AnyRecord, ctx: Ctx) => {
          const before = baUser(user, "pending");
          const identity = routeIdentity(ctx?.path, ctx?.params, ctx?.body);
          const outcome = await runHooks(rt.bus, rt.sink, "user.pre_create", { user: before, identities: identity ? [identity] : [] }, rt.context(ctx));
          if (outcome.outcome === "denied") throw deniedError(outcome.error);
          if (outcome.outcome === "allowed") return { data: applyUserMutations(user, before, outcome.payload.user, "boolean") };
          return undefined;
        },
        after: safe(rt, "user.created", async (user: AnyRecord, ctx: Ctx) => {
          const id = String(user.id);
          rt.created.set(id, { user: baUser(user), identities: [], context: rt.context(ctx, id) });
        }),
      },
      update: {
        before: async (changes: AnyRecord, ctx: Ctx) => {
          const current = ctx?.context.session?.user;
          if (ctx?.path !== "/update-user" || !current) return undefined;
          const id = String(current.id);
          const before = baUser({ ...current, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) }, id);
          const outcome = await runHooks(rt.bus, rt.sink, "user.profile.pre_update", { user: before }, rt.context(ctx, id));
          // Deny by throwing: a `false` would make /update-user answer success and change nothing.
          if (outcome.outcome === "denied") throw deniedError(outcome.error);
          if (outcome.outcome === "allowed") return { data: applyUserMutations(changes, before, outcome.payload.user, "boolean") };
          return undefined;
        },
        after: safe(rt, "user.profile.updated", async (user: AnyRecord, ctx: Ctx) => {
          await rt.sink.record("user.profile.updated", { user: baUser(user) }, rt.context(ctx, String(user.id)));
        }),
      },
      delete: {
        after: safe(rt, "user.deleted", async (user: AnyRecord, ctx: Ctx) => {
          await rt.sink.record("user.deleted", { user: baUser(user) }, rt.context(ctx, String(user.id)));
        }),
      },
    },
    account: {
      create: {
        after: safe(rt, "identity.oauth.connected", async (account: AnyRecord, ctx: Ctx) => {
          const userId = String(account.userId);
          const pending = rt.created.get(userId);
          if (pending) {
            pending.identities.push(baIdentity(account, { email: pending.user.standard_attributes.email }));
            return;
          }
          if (account.providerId === "credential") return; // set-password: not an OAuth connection
          const user = await findUser(ctx, userId);
          await rt.sink.record("identity.oauth.connected", { user: baUser(user, userId), identity: baIdentity(account, user) }, rt.context(ctx, userId));
        }),
      },
      delete: {
        after: safe(rt, "identity.oauth.disconnected", async (account: AnyRecord, ctx: Ctx) => {
          if (account.providerId === "credential" || ctx?.path === "/delete-user") return;
          const userId = String(account.userId);
          const user = await findUser(ctx, userId);
          await rt.sink.record("identity.oauth.disconnected", { user: baUser(user, userId), identity: baIdentity(account, user) }, rt.context(ctx, userId));
        }),
      },
    },
    session: {
      create: {
        after: safe(rt, "user.authenticated", async (session: AnyRecord) => {
          rt.sessionsCreated.set(String(session.id), true);
        }),
      },
      delete: {
        after: safe(rt, "user.signed_out", async (session: AnyRecord, ctx: Ctx) => {
          const userId = String(session.userId);
          if (ctx?.path === "/sign-out") {
            const user = await findUser(ctx, userId);
            await rt.sink.record("user.signed_out", { user: baUser(user, userId), sessions: [baSession(session)] }, rt.context(ctx, userId));
            return;
          }
          const type = ctx?.path ? TERMINATIONS[ctx.path] : undefined;
          if (!type) return; // expiry clean-up, password change, deletion: not a sign-out
          const key = `${userId}|${ctx?.path}`;
          const batch = rt.terminated.get(key) ?? { type, sessions: [] };
          batch.sessions.push(session);
          rt.terminated.set(key, batch);
        }),
      },
    },
  };
}
