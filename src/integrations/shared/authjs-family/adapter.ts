/**
 * The app's adapter, wrapped. Auth.js and NextAuth v4 rebuild the adapter from `Object.keys`, so
 * the wrapper is a plain object with the app's methods as own properties. Return values are the
 * app's, unchanged (except a `deleteSession` that returns nothing, see there); Authbus failures
 * after the write are reported, never thrown.
 */
import { applyUserMutations, sessionIdFromToken, toAuthbusUser, toIdentity } from "../shapes.js";
import { runHooks } from "../blocking.js";
import { creationKey, type FamilyRuntime } from "./runtime.js";
import type { AnyFn, FamilyAdapter, FamilyUser } from "./types.js";

type Call = (...args: unknown[]) => Promise<unknown>;

async function quietly<T>(rt: FamilyRuntime, type: string, fn: () => Promise<T> | T | undefined): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    rt.sink.report(error, { operation: "lookup", type });
    return undefined;
  }
}

function isoOf(value: unknown): string | undefined {
  const d = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

export function dbSession(session: { sessionToken?: unknown; expires?: unknown } | null | undefined) {
  const out: { id: string; type: string; expires_at?: string } = { id: sessionIdFromToken(String(session?.sessionToken ?? "")), type: "database" };
  const expires = isoOf(session?.expires);
  if (expires) out.expires_at = expires;
  return out;
}

export function wrapAdapter(rt: FamilyRuntime, adapter: FamilyAdapter): FamilyAdapter {
  const raw = adapter as Record<string, AnyFn | undefined>;
  const call = (name: string) => raw[name]!.bind(adapter) as Call;
  const wrapped: FamilyAdapter = { ...adapter };

  if (raw.createUser) {
    const createUser = call("createUser");
    wrapped.createUser = async (user: FamilyUser) => {
      let data = user;
      const decision = rt.decisions.take(creationKey(user));
      let identities = decision?.identities ?? [];
      if (decision) {
        data = applyUserMutations(user, decision.before, decision.after, "date");
      } else {
        // Created outside a predicted sign-up (app code, webauthn, a signed-in user's link): decide here.
        const before = toAuthbusUser(user, "pending");
        const outcome = await runHooks(rt.bus, rt.sink, "user.pre_create", { user: before, identities: [] }, rt.context());
        if (outcome.outcome === "denied") throw outcome.error;
        if (outcome.outcome === "allowed") data = applyUserMutations(user, before, outcome.payload.user, "date");
        identities = [];
      }
      const created = (await createUser(data)) as FamilyUser;
      if (created?.id) rt.created.set(String(created.id), { user: toAuthbusUser(created), identities, context: rt.context(String(created.id)) });
      return created;
    };
  }

  if (raw.updateUser) {
    const updateUser = call("updateUser");
    wrapped.updateUser = async (changes: FamilyUser) => {
      let data = changes;
      const id = String(changes.id ?? "");
      if (id) {
        const current = raw.getUser ? ((await quietly(rt, "user.profile.pre_update", () => call("getUser")(id))) as FamilyUser | null) : null;
        const before = toAuthbusUser({ ...(current ?? {}), ...changes }, id);
        const outcome = await runHooks(rt.bus, rt.sink, "user.profile.pre_update", { user: before }, rt.context(id));
        if (outcome.outcome === "denied") throw outcome.error;
        if (outcome.outcome === "allowed") data = applyUserMutations(changes, before, outcome.payload.user, "date");
      }
      const updated = (await updateUser(data)) as FamilyUser;
      const user = toAuthbusUser(updated ?? data, id);
      await rt.sink.record("user.profile.updated", { user }, rt.context(user.id));
      return updated;
    };
  }

  if (raw.deleteUser) {
    const deleteUser = call("deleteUser");
    wrapped.deleteUser = async (userId: string) => {
      const current = raw.getUser ? ((await quietly(rt, "user.deleted", () => call("getUser")(userId))) as FamilyUser | null) : null;
      const result = (await deleteUser(userId)) as FamilyUser | null | undefined;
      await rt.sink.record("user.deleted", { user: toAuthbusUser(current ?? result ?? { id: userId }, String(userId)) }, rt.context(String(userId)));
      return result;
    };
  }

  if (raw.unlinkAccount) {
    const unlinkAccount = call("unlinkAccount");
    wrapped.unlinkAccount = async (ref: { provider: string; providerAccountId: string }) => {
      const owner = raw.getUserByAccount ? ((await quietly(rt, "identity.oauth.disconnected", () => call("getUserByAccount")(ref))) as FamilyUser | null) : null;
      const result = (await unlinkAccount(ref)) as { userId?: string; type?: string } | undefined;
      const userId = String(owner?.id ?? result?.userId ?? "");
      if (userId) {
        const identity = toIdentity({ type: result?.type ?? "oauth", ...ref }, { email: owner?.email });
        await rt.sink.record("identity.oauth.disconnected", { user: toAuthbusUser(owner ?? { id: userId }), identity }, rt.context(userId));
      }
      return result;
    };
  }

  if (raw.createSession) {
    const createSession = call("createSession");
    wrapped.createSession = async (session: { sessionToken: string; userId: string; expires: Date }) => {
      const result = (await createSession(session)) as typeof session | undefined;
      rt.sessions.set(String(session.userId), dbSession(result ?? session));
      return result;
    };
  }

  if (raw.deleteSession) {
    const deleteSession = call("deleteSession");
    wrapped.deleteSession = async (sessionToken: string) => {
      const found = raw.getSessionAndUser
        ? ((await quietly(rt, "user.signed_out", () => call("getSessionAndUser")(sessionToken))) as { session: unknown; user: FamilyUser } | null)
        : null;
      const result = await deleteSession(sessionToken);
      if (found?.user) {
        const session = dbSession({ sessionToken, expires: (found.session as { expires?: unknown } | undefined)?.expires });
        rt.deleted.set(session.id, { user: toAuthbusUser(found.user), session });
      }
      // The library hands this return value to `events.signOut`, the only way to tell which of several
      // concurrent sign-outs an event belongs to. Adapters "should" return the deleted session (many,
      // like @auth/pg-adapter, return nothing): then the session the adapter itself read is returned.
      return result ?? (found?.session as object | undefined) ?? result;
    };
  }

  return wrapped;
}
