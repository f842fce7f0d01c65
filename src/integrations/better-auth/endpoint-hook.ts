/**
 * The endpoint `after` hook: by then the request's writes are done, so one event can carry the
 * user, its identities and the session. It also sees failures: Better Auth runs after hooks when
 * the endpoint threw, with the APIError in `ctx.context.returned`.
 */
import { isAPIError } from "better-auth/api";
import { TERMINATIONS, type BaContext, type BaRuntime } from "./runtime.js";
import { baIdentity, baSession, baUser, routeIdentity } from "./shapes.js";

type AnyRecord = Record<string, unknown>;


/** Better Auth answers the same error for an unknown login id and a wrong password; the plugin looks the user up to tell them apart. */
const CREDENTIAL_FAILURES: Record<string, { code: string; field: "email" | "username" }> = {
  "/sign-in/email": { code: "INVALID_EMAIL_OR_PASSWORD", field: "email" },
  "/sign-in/username": { code: "INVALID_USERNAME_OR_PASSWORD", field: "username" },
};

async function signedIn(rt: BaRuntime, ctx: BaContext, created: { user: AnyRecord; session: AnyRecord }) {
  const userId = String(created.user.id);
  const pending = rt.created.take(userId);
  // The route tells which provider; the account row gives the identity's id and subject.
  let identity = routeIdentity(ctx.path, ctx.params, ctx.body as AnyRecord | undefined);
  if (identity) {
    const accounts = await ctx.context.internalAdapter.findAccounts(userId);
    const account = accounts.find((a) => a.providerId === identity?.provider);
    if (account) identity = baIdentity(account, created.user);
  }
  if (pending) await rt.sink.record("user.created", { user: pending.user, identities: pending.identities }, pending.context);
  const payload = { user: baUser(created.user), session: baSession(created.session), ...(identity ? { identity } : {}), is_new_user: pending !== undefined };
  await rt.sink.record("user.authenticated", payload, rt.context(ctx, userId));
}

async function failed(rt: BaRuntime, ctx: BaContext, error: { status?: unknown; message?: string; body?: AnyRecord; headers?: Headers }) {
  const code = typeof error.body?.code === "string" ? error.body.code : undefined;
  const credentials = ctx.path ? CREDENTIAL_FAILURES[ctx.path] : undefined;
  if (credentials && code === credentials.code) {
    const loginId = String(ctx.body?.[credentials.field] ?? "");
    const user =
      credentials.field === "email"
        ? (await ctx.context.internalAdapter.findUserByEmail(loginId))?.user
        : await ctx.context.adapter.findOne({ model: "user", where: [{ field: "username", value: loginId.toLowerCase() }] });
    if (!user) await rt.sink.record("authentication.identity.login_id.failed", { login_id: loginId }, rt.context(ctx));
    else await rt.sink.record("authentication.primary.password.failed", { user: baUser(user) }, rt.context(ctx, String(user.id)));
    return;
  }
  if (error.status === "FOUND" || error.status === 302) {
    // OAuth callbacks answer with a redirect, successful or not; only `?error=` is a failure.
    const location = error.headers?.get("location");
    const params = location ? new URL(location, "http://localhost").searchParams : undefined;
    const oauthError = params?.get("error");
    if (oauthError) await rt.sink.record("auth.error", { error: { name: "OAuthCallbackError", message: params?.get("error_description") ?? oauthError, code: oauthError } }, rt.context(ctx));
    return;
  }
  await rt.sink.record("auth.error", { error: { name: "APIError", message: error.message ?? String(error.status ?? ""), ...(code ? { code } : {}) } }, rt.context(ctx));
}

async function handle(rt: BaRuntime, ctx: BaContext) {
  const { returned, newSession, session } = ctx.context;
  const path = ctx.path ?? "";
  const termination = TERMINATIONS[path];
  if (termination && session) {
    const batch = rt.terminated.take(`${String(session.user.id)}|${path}`);
    if (batch) {
      const payload = { user: baUser(session.user), sessions: batch.sessions.map(baSession), termination_type: termination };
      await rt.sink.record("user.session.terminated", payload, rt.context(ctx, String(session.user.id)));
    }
  }
  // A sign-in is a new session handed to the client (not a cookie refresh, nor a password change's replacement session).
  if (newSession && rt.sessionsCreated.take(String(newSession.session.id)) && path !== "/change-password") await signedIn(rt, ctx, newSession);
  if (isAPIError(returned)) await failed(rt, ctx, returned as never);
  else if (path === "/get-session" && rt.options.sessionAccessed && returned && typeof returned === "object") {
    const found = returned as { user?: AnyRecord; session?: AnyRecord };
    if (found.user && found.session) {
      const userId = String(found.user.id);
      await rt.sink.record("user.session.accessed", { user: baUser(found.user), session: baSession(found.session) }, rt.context(ctx, userId));
    }
  }
}

export function afterHook(rt: BaRuntime) {
  return async (ctx: BaContext) => {
    try {
      await handle(rt, ctx);
    } catch (error) {
      // A throw here would become the response, after the sign-in already happened.
      rt.sink.report(error, { operation: "emit", type: ctx.path ?? "" });
    }
  };
}
