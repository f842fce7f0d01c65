/**
 * Auth.js (`@auth/core`, hence NextAuth v5, @auth/express, @auth/sveltekit ...): wraps the app's
 * configuration so that its real flows record Authbus events and run Authbus hooks (SPEC §7).
 * Only `@auth/core/errors` is imported: the rest of @auth/core's types pull in preact's JSX and with
 * it the DOM library, which would change the global types of every program that includes this file.
 */
import { CredentialsSignin } from "@auth/core/errors";
import type { Authbus } from "../../index.js";
import { wrapFamilyConfig } from "../shared/authjs-family/wrap-config.js";
import type { AnyFn, Flavor, WithAuthbusOptions } from "../shared/authjs-family/types.js";
import { AuthbusAccessDenied } from "./errors.js";

type AuthjsError = Error & { type?: string; code?: string };

function printError(error: AuthjsError): void {
  console.error(`[auth][error] ${error.type ?? error.name}: ${error.message}`);
}

const authjsFlavor: Flavor = {
  denied: (error) => new AuthbusAccessDenied(error),
  // @auth/core 0.41's default (lib/init.ts): only name, email and image reach the client.
  defaultSession({ session }) {
    const s = session as { user?: { name?: unknown; email?: unknown; image?: unknown }; expires?: { toISOString?: () => string } | string };
    const expires = typeof s.expires === "object" && typeof s.expires?.toISOString === "function" ? s.expires.toISOString() : s.expires;
    return { user: { name: s.user?.name, email: s.user?.email, image: s.user?.image }, expires };
  },
  // Other errors thrown by `authorize` reach the (wrapped) logger as CallbackRouteError; the logger skips CredentialsSignin.
  logsAuthorizeError: (error) => !(error instanceof CredentialsSignin),
  wrapLogger(logger, report) {
    const own = logger?.error as ((e: AuthjsError) => void) | undefined;
    return {
      ...(logger as Record<string, AnyFn>),
      error(error: AuthjsError) {
        // Credentials failures were recorded, more precisely, by the authorize wrapper.
        if (error?.type !== "CredentialsSignin") {
          const code = typeof error?.code === "string" ? { code: error.code } : {};
          report({ name: String(error?.type ?? error?.name ?? "Error"), message: String(error?.message ?? ""), ...code });
        }
        (own ?? printError)(error);
      },
    };
  },
};

/**
 * Returns `config` wrapped so that sign-up, sign-in, sign-out, account linking, adapter updates and
 * deletions, failed credentials and library errors are recorded on `bus`, and `user.pre_create` /
 * `oidc.jwt.pre_create` hooks can deny a sign-up or add claims to the session JWT.
 */
export function withAuthbus<C extends object>(config: C, bus: Authbus, options?: WithAuthbusOptions): C {
  return wrapFamilyConfig(config, bus, authjsFlavor, options);
}
