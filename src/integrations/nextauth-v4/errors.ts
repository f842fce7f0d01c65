/**
 * Errors an app's Credentials `authorize` throws to say why a sign-in failed (NextAuth v4 has no
 * error classes of its own). The integration records the matching event and answers as if
 * `authorize` had returned null, so both redirect to `?error=CredentialsSignin`.
 */
import { FAILURE_KIND, type UnknownLoginIdInit, type WrongPasswordInit } from "../shared/authjs-family/credentials.js";
import type { FamilyUser } from "../shared/authjs-family/types.js";
import type { HookDeniedError } from "../../index.js";

/** No account has this login id: records `authentication.identity.login_id.failed`. */
export class UnknownLoginIdError extends Error {
  readonly [FAILURE_KIND] = "login_id" as const;
  readonly loginId: string | undefined;
  constructor(init: UnknownLoginIdInit = {}) {
    super("CredentialsSignin");
    this.name = "UnknownLoginIdError";
    this.loginId = init.loginId;
  }
}

/** The account exists but the password is wrong: records `authentication.primary.password.failed`. */
export class WrongPasswordError extends Error {
  readonly [FAILURE_KIND] = "password" as const;
  readonly user: FamilyUser | undefined;
  constructor(init: WrongPasswordInit = {}) {
    super("CredentialsSignin");
    this.name = "WrongPasswordError";
    this.user = init.user ?? (init.userId ? { id: init.userId } : undefined);
  }
}

/**
 * Thrown from `callbacks.jwt` when an `oidc.jwt.pre_create` hook denies. Its message is
 * `AccessDenied`, which NextAuth v4 puts in the error URL where the route catches it.
 */
export class AuthbusAccessDenied extends Error {
  readonly denial: HookDeniedError;
  constructor(denial: HookDeniedError) {
    super("AccessDenied", { cause: denial });
    this.name = "AuthbusAccessDenied";
    this.denial = denial;
  }
}
