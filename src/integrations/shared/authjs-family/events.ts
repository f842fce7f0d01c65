/**
 * The library's `events`, composed: Authbus records first (it never throws), then the app's own
 * handler runs with the same message. User creation, profile updates and deletions are recorded
 * by the adapter wrapper instead, because `events.createUser` also fires when
 * `allowDangerousEmailAccountLinking` reuses an existing user.
 */
import { jsonSafe, toAuthbusUser, toIdentity } from "../shapes.js";
import { dbSession } from "./adapter.js";
import type { FamilyRuntime } from "./runtime.js";
import type { AnyFn, FamilyAccount, FamilyUser } from "./types.js";

type AnyRecord = Record<string, unknown>;

function tokenUser(token: AnyRecord) {
  return toAuthbusUser({ id: token.sub as string | undefined, name: token.name, email: token.email, image: token.picture }, "unknown");
}

function jwtSession(token: AnyRecord) {
  const out: { id: string; type: string; expires_at?: string } = { id: String(token.sid ?? token.jti ?? "unknown"), type: "jwt" };
  if (typeof token.exp === "number") out.expires_at = new Date(token.exp * 1000).toISOString();
  return out;
}

function signIn(rt: FamilyRuntime) {
  return async ({ user, account, isNewUser }: { user: FamilyUser; account?: FamilyAccount | null; isNewUser?: boolean }) => {
    const userId = String(user.id ?? "");
    if (!userId) return;
    const identity = account ? toIdentity(account, { email: user.email }) : undefined;
    // E-mail and webauthn sign-ups link no OAuth account: the user's first sign-in completes its creation.
    const pending = rt.created.take(userId);
    if (pending) await rt.sink.record("user.created", { user: pending.user, identities: pending.identities.length || !identity ? pending.identities : [identity] }, pending.context);
    const session = rt.sessions.take(userId) ?? { id: `${rt.strategy}:${userId}:${Date.now()}`, type: rt.strategy };
    const payload = { user: toAuthbusUser(user), session, ...(identity ? { identity } : {}), ...(isNewUser === undefined ? {} : { is_new_user: isNewUser }) };
    await rt.sink.record("user.authenticated", payload, rt.context(userId));
    rt.contexts.take(userId);
  };
}

function linkAccount(rt: FamilyRuntime) {
  return async ({ user, account }: { user: FamilyUser; account: FamilyAccount }) => {
    const userId = String(user.id ?? account.userId ?? "");
    const identity = toIdentity(account, { email: user.email });
    const pending = rt.created.take(userId);
    if (pending) {
      await rt.sink.record("user.created", { user: pending.user, identities: [...pending.identities.filter((i) => i.id !== identity.id), identity] }, pending.context);
      return;
    }
    await rt.sink.record("identity.oauth.connected", { user: toAuthbusUser(user, userId), identity }, rt.context(userId));
  };
}

function signOut(rt: FamilyRuntime) {
  return async (message: { token?: AnyRecord | null; session?: AnyRecord | null }) => {
    if (message.token) {
      const user = tokenUser(message.token);
      if (user.id === "unknown") return;
      // The claims travel along so NextAuth-style `signOut` handlers get `{ token }` (extra fields are allowed).
      const payload = { user, sessions: [jwtSession(message.token)], token: jsonSafe(message.token) as AnyRecord };
      await rt.sink.record("user.signed_out", payload, rt.context(user.id));
      return;
    }
    // The adapter wrapper captured the user before deleting the session; adapters need not return it.
    const token = message.session?.sessionToken;
    const found = typeof token === "string" ? rt.deleted.take(dbSession({ sessionToken: token }).id) : rt.deleted.latest()?.[1];
    if (found) rt.deleted.take(found.session.id);
    const userId = found?.user.id ?? (message.session?.userId as string | undefined);
    if (!userId) return;
    const user = found?.user ?? toAuthbusUser({ id: userId });
    const session = found?.session ?? dbSession(message.session as AnyRecord);
    await rt.sink.record("user.signed_out", { user, sessions: [session] }, rt.context(userId));
  };
}

function session(rt: FamilyRuntime) {
  return async ({ session: s, token }: { session?: AnyRecord; token?: AnyRecord }) => {
    if (!rt.options.sessionAccessed) return;
    const read = s && typeof s === "object" ? rt.sessionReads.get(s) : undefined;
    if (read) {
      await rt.sink.record("user.session.accessed", { user: read.user, ...(read.session ? { session: read.session } : {}) }, rt.context(read.user.id));
      return;
    }
    const sessionUser = (s?.user ?? {}) as AnyRecord;
    const userId = String(token?.sub ?? sessionUser.id ?? s?.userId ?? "");
    const payload: AnyRecord = {};
    if (userId) payload.user = toAuthbusUser({ ...sessionUser, id: userId });
    if (token) {
      payload.token = jsonSafe(token);
      payload.session = jwtSession(token);
    } else if (s?.sessionToken) {
      payload.session = dbSession(s);
    }
    await rt.sink.record("user.session.accessed", payload, rt.context(userId || undefined));
  };
}

const RECORDERS: Record<string, (rt: FamilyRuntime) => AnyFn> = { signIn, linkAccount, signOut, session };

export function wrapEvents(rt: FamilyRuntime, userEvents: Record<string, AnyFn | undefined> | undefined): Record<string, AnyFn> {
  const names = new Set([...Object.keys(RECORDERS), ...Object.keys(userEvents ?? {})]);
  const out: Record<string, AnyFn> = {};
  for (const name of names) {
    const record = RECORDERS[name]?.(rt);
    const own = userEvents?.[name];
    out[name] = async (message: unknown) => {
      if (record) {
        try {
          await record(message);
        } catch (error) {
          rt.sink.report(error, { operation: "emit", type: name });
        }
      }
      if (own) return own(message);
    };
  }
  return out;
}
