/**
 * `callbacks.signIn` runs `user.pre_create` before the library writes anything (a deny answers
 * AccessDenied and no user row exists); `callbacks.jwt` runs `oidc.jwt.pre_create` when the
 * session JWT is minted. Both run the app's own callback first and respect its answer.
 */
import { v4 as uuidv4 } from "uuid";
import { runHooks } from "../blocking.js";
import { jsonSafe, toAuthbusUser, toIdentity } from "../shapes.js";
import { dbSession } from "./adapter.js";
import { creationKey, type FamilyRuntime } from "./runtime.js";
import type { AnyFn, FamilyAccount, FamilyUser } from "./types.js";

type AnyRecord = Record<string, unknown>;

/** Will the library create a user for this sign-in? Asked of the app's adapter, as the library itself does next. */
async function willCreateUser(rt: FamilyRuntime, user: FamilyUser, account: FamilyAccount | null | undefined, email: AnyRecord | undefined): Promise<boolean> {
  const raw = rt.raw;
  if (!raw || !account) return false;
  const byEmail = async () => (typeof user.email === "string" && user.email && raw.getUserByEmail ? await raw.getUserByEmail(user.email) : null);
  if (account.type === "oauth" || account.type === "oidc") {
    const byAccount = raw.getUserByAccount ? await raw.getUserByAccount({ provider: account.provider, providerAccountId: account.providerAccountId }) : null;
    // An existing e-mail means a link (allowDangerousEmailAccountLinking) or OAuthAccountNotLinked: no creation either way.
    return !byAccount && !(await byEmail());
  }
  // The e-mail provider asks twice: when sending the link (decided later, at the callback) and at the callback.
  if (account.type === "email") return email?.verificationRequest !== true && !(await byEmail());
  return false;
}

export function wrapSignIn(rt: FamilyRuntime, userSignIn: AnyFn | undefined): AnyFn {
  return async (params: { user: FamilyUser; account?: FamilyAccount | null; profile?: AnyRecord; email?: AnyRecord; credentials?: AnyRecord }) => {
    const allowed = userSignIn ? await userSignIn(params) : true;
    if (allowed !== true) return allowed;
    const { user, account, profile, email } = params;
    let creating = false;
    try {
      creating = await willCreateUser(rt, user, account, email);
    } catch (error) {
      // The adapter wrapper decides at creation time instead.
      rt.sink.report(error, { operation: "lookup", type: "user.pre_create" });
    }
    if (!creating || !account) return true;
    const before = toAuthbusUser(user, "pending");
    const identities = [toIdentity(account, { email: user.email ?? (profile?.email as string | undefined) })];
    const outcome = await runHooks(rt.bus, rt.sink, "user.pre_create", { user: before, identities }, rt.context());
    // The library answers AccessDenied; the hook's title and reason stay out of the URL (they are in the ledger).
    if (outcome.outcome === "denied") return false;
    // Kept without hooks too: an e-mail sign-up links no account, so this is where its identity is known
    // if the flow stops between createUser and events.signIn (user.created is then recorded on expiry).
    const after = outcome.outcome === "allowed" ? (outcome.payload.user as typeof before) : before;
    rt.decisions.set(creationKey(user), { before, after, identities });
    return true;
  };
}

const isSignIn = (p: { trigger?: string; account?: unknown }) => p.trigger === "signIn" || p.trigger === "signUp" || (p.trigger === undefined && !!p.account);

export function wrapJwt(rt: FamilyRuntime, userJwt: AnyFn | undefined): AnyFn {
  return async (params: { token: AnyRecord; user?: FamilyUser; account?: FamilyAccount | null; trigger?: string }) => {
    let token = (userJwt ? await userJwt(params) : params.token) as AnyRecord | null;
    if (!token || !isSignIn(params)) return token;
    // A session id that survives refreshes (jti changes on every re-encode): what sign-out and session events refer to.
    if (typeof token.sid !== "string") token = { ...token, sid: uuidv4() };
    const userId = String(token.sub ?? params.user?.id ?? "");
    const user = toAuthbusUser(params.user ?? { id: userId }, userId || "unknown");
    const outcome = await runHooks(rt.bus, rt.sink, "oidc.jwt.pre_create", { user, jwt: { payload: jsonSafe(token) as AnyRecord } }, rt.context(userId || undefined));
    if (outcome.outcome === "denied") throw rt.flavor.denied(outcome.error);
    if (outcome.outcome === "allowed") token = outcome.payload.jwt.payload as AnyRecord;
    if (userId) rt.sessions.set(userId, { id: String(token.sid), type: "jwt" });
    return token;
  };
}

/**
 * Database strategy: `events.session` receives only the payload `callbacks.session` returned (no user
 * id, no session), while the callback itself gets the adapter's user and session. The payload object
 * is the key, so concurrent session reads cannot be mixed up.
 */
export function wrapSession(rt: FamilyRuntime, userSession: AnyFn | undefined): AnyFn {
  return async (params: { session: AnyRecord; user?: FamilyUser; token?: AnyRecord }) => {
    const result: unknown = userSession ? await userSession(params) : rt.flavor.defaultSession(params);
    if (params.user && !params.token && result && typeof result === "object") {
      const token = params.session?.sessionToken; // Auth.js passes the adapter session; next-auth 4 does not
      const session = typeof token === "string" ? dbSession({ sessionToken: token, expires: params.session.expires }) : undefined;
      rt.sessionReads.set(result, { user: toAuthbusUser(params.user), ...(session ? { session } : {}) });
    }
    return result;
  };
}
