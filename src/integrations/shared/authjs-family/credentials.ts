/**
 * Credentials sign-in failures. The library cannot tell an unknown login id from a wrong
 * password, so the app's `authorize` says which by throwing `UnknownLoginIdError` or
 * `WrongPasswordError`; the wrapper records the matching event and then answers `null`, so the
 * library fails the way it fails for any bad credentials and the response never reveals which.
 */
import { contextFromRequest, currentRequestContext, type RequestLike } from "../request-context.js";
import { toAuthbusUser } from "../shapes.js";
import type { FamilyRuntime } from "./runtime.js";
import type { AnyFn, FamilyUser } from "./types.js";

type AnyRecord = Record<string, unknown>;

/** Set on the integration's credentials errors, so both libraries' classes are recognised. */
export const FAILURE_KIND = Symbol.for("authbus.credentials-failure");

export interface CredentialsFailure {
  [FAILURE_KIND]: "login_id" | "password";
  loginId?: string | undefined;
  user?: FamilyUser | undefined;
}

export interface UnknownLoginIdInit {
  /** The login id that was tried; defaults to the credentials' email/username field. */
  loginId?: string;
}

export interface WrongPasswordInit {
  /** The user whose password was wrong (at least its `id`). */
  user?: FamilyUser;
  userId?: string;
}

function failureOf(error: unknown): CredentialsFailure | undefined {
  return error && typeof error === "object" && FAILURE_KIND in error ? (error as CredentialsFailure) : undefined;
}

const DEFAULT_FIELDS = ["email", "username", "login", "identifier", "phone"];

function loginIdOf(rt: FamilyRuntime, credentials: AnyRecord | undefined): string {
  for (const field of rt.options.loginIdFields ?? DEFAULT_FIELDS) {
    const value = credentials?.[field];
    if (typeof value === "string" && value) return value;
  }
  return "";
}

function wrapAuthorize(rt: FamilyRuntime, authorize: AnyFn): AnyFn {
  return async (credentials: AnyRecord | undefined, request: RequestLike) => {
    const ctx = { triggered_by: "user" as const, ...(currentRequestContext() ?? contextFromRequest(request)) };
    let user: FamilyUser | null;
    try {
      user = (await authorize(credentials, request)) as FamilyUser | null;
    } catch (error) {
      const failure = failureOf(error);
      if (failure?.[FAILURE_KIND] === "login_id") {
        await rt.sink.record("authentication.identity.login_id.failed", { login_id: failure.loginId ?? loginIdOf(rt, credentials) }, ctx);
        return null;
      }
      if (failure?.[FAILURE_KIND] === "password" && failure.user?.id) {
        const who = toAuthbusUser(failure.user);
        await rt.sink.record("authentication.primary.password.failed", { user: who }, { ...ctx, user_id: who.id });
        return null;
      }
      if (!rt.flavor.logsAuthorizeError(error)) {
        const e = error as { name?: string; message?: string; code?: string; type?: string } | null;
        const code = typeof e?.code === "string" ? { code: e.code } : {};
        await rt.sink.record("auth.error", { error: { name: String(e?.type ?? e?.name ?? "Error"), message: String(e?.message ?? ""), ...code } }, ctx);
      }
      throw error; // The app's own error, with its own meaning (and its own `code` in the URL).
    }
    if (!user) {
      // A bare null says nothing about which part was wrong.
      await rt.sink.record("auth.error", { error: { name: "CredentialsSignin", message: "authorize returned no user", code: "credentials" } }, ctx);
      return null;
    }
    if (user.id !== undefined && user.id !== null) rt.contexts.set(String(user.id), ctx);
    return user;
  };
}

/** The providers with every Credentials provider's `authorize` wrapped (the provider objects are copied). */
export function wrapProviders(rt: FamilyRuntime, providers: unknown[] | undefined): unknown[] | undefined {
  return providers?.map((p) => {
    if (!p || typeof p !== "object") return p;
    const provider = p as AnyRecord & { options?: AnyRecord };
    if (provider.type !== "credentials") return p;
    // Credentials() keeps the app's settings in `options`, merged over the defaults at request time.
    if (provider.options && typeof provider.options.authorize === "function") {
      return { ...provider, options: { ...provider.options, authorize: wrapAuthorize(rt, provider.options.authorize as AnyFn) } };
    }
    if (typeof provider.authorize === "function") return { ...provider, authorize: wrapAuthorize(rt, provider.authorize as AnyFn) };
    return p;
  });
}
