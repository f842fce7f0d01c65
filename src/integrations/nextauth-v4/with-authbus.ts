/**
 * NextAuth v4 (next-auth 4.24): wraps the app's `NextAuthOptions` so that its real flows record
 * Authbus events and run Authbus hooks (SPEC §7). Nothing from next-auth is imported, not even its
 * types: they pull in Next.js's global declarations (a required `process.env.NODE_ENV`).
 */
import type { Authbus } from "../../index.js";
import { wrapFamilyConfig } from "../shared/authjs-family/wrap-config.js";
import type { AnyFn, Flavor, WithAuthbusOptions } from "../shared/authjs-family/types.js";
import { AuthbusAccessDenied } from "./errors.js";

type Metadata = { message?: unknown; error?: { message?: unknown; name?: unknown } } | Error | undefined;

function messageOf(metadata: Metadata, code: string): string {
  if (metadata instanceof Error) return metadata.message;
  const m = metadata?.message ?? metadata?.error?.message;
  return typeof m === "string" ? m : code;
}

const v4Flavor: Flavor = {
  denied: (error) => new AuthbusAccessDenied(error),
  // next-auth 4's default returns the session it was given (already shaped for the client).
  defaultSession: ({ session }) => session,
  // next-auth 4 turns an `authorize` throw into a redirect without logging it.
  logsAuthorizeError: () => false,
  wrapLogger(logger, report) {
    const own = logger?.error as ((code: string, metadata: Metadata) => void) | undefined;
    return {
      ...(logger as Record<string, AnyFn>),
      error(code: string, metadata: Metadata) {
        report({ name: String(code), message: messageOf(metadata, String(code)) });
        if (own) own(code, metadata);
        else console.error(`[next-auth][error][${code}]`, metadata);
      },
    };
  },
};

/**
 * Returns `options` wrapped so that sign-up, sign-in, sign-out, account linking, adapter updates and
 * deletions, failed credentials and library errors are recorded on `bus`, and `user.pre_create` /
 * `oidc.jwt.pre_create` hooks can deny a sign-up or add claims to the session JWT.
 */
export function withAuthbus<C extends object>(options: C, bus: Authbus, authbusOptions?: WithAuthbusOptions): C {
  return wrapFamilyConfig(options, bus, v4Flavor, authbusOptions);
}
