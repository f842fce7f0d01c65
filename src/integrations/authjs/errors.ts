/**
 * Errors an app's Credentials `authorize` throws to say why a sign-in failed. They extend
 * Auth.js's `CredentialsSignin`; the integration records the matching event and answers as if
 * `authorize` had returned null, so the redirect URL (`?error=CredentialsSignin&code=credentials`)
 * is the same for both.
 */
import { AccessDenied, CredentialsSignin } from "@auth/core/errors";
import { FAILURE_KIND, type UnknownLoginIdInit, type WrongPasswordInit } from "../shared/authjs-family/credentials.js";
import type { FamilyUser } from "../shared/authjs-family/types.js";
import type { HookDeniedError } from "../../index.js";

/** No account has this login id: records `authentication.identity.login_id.failed`. */
export class UnknownLoginIdError extends CredentialsSignin {
  readonly [FAILURE_KIND] = "login_id" as const;
  readonly loginId: string | undefined;
  constructor(init: UnknownLoginIdInit = {}) {
    super("Unknown login id");
    this.loginId = init.loginId;
  }
}

/** The account exists but the password is wrong: records `authentication.primary.password.failed`. */
export class WrongPasswordError extends CredentialsSignin {
  readonly [FAILURE_KIND] = "password" as const;
  readonly user: FamilyUser | undefined;
  constructor(init: WrongPasswordInit = {}) {
    super("Wrong password");
    this.user = init.user ?? (init.userId ? { id: init.userId } : undefined);
  }
}

/** Thrown from `callbacks.jwt` when an `oidc.jwt.pre_create` hook denies; Auth.js answers `?error=AccessDenied`. */
export class AuthbusAccessDenied extends AccessDenied {
  readonly denial: HookDeniedError;
  constructor(denial: HookDeniedError) {
    super("A hook denied the sign-in", { cause: denial });
    this.denial = denial;
  }
}
