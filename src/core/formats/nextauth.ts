/**
 * NextAuth-compatible handler messages (seeds 000 = v4, 001/003 = v3), so existing
 * `events: { signIn, ... }` handlers can be moved onto Authbus unchanged.
 */
import type { Envelope } from "../envelope.js";
import type { EventType } from "../catalog/catalog.js";

export type NextAuthEventName = "signIn" | "signOut" | "createUser" | "updateUser" | "linkAccount" | "session" | "error";
export type NextAuthShape = "v4" | "v3";

/** Which catalog type feeds which NextAuth event. */
export const NEXTAUTH_EVENTS = {
  signIn: "user.authenticated",
  signOut: "user.signed_out",
  createUser: "user.created",
  updateUser: "user.profile.updated",
  linkAccount: "identity.oauth.connected",
  session: "user.session.accessed",
  error: "auth.error",
} as const satisfies Record<NextAuthEventName, EventType>;

export interface NextAuthUser {
  id: string;
  name?: string | null;
  email?: string | null;
  image?: string | null;
  emailVerified?: Date | null;
}

export interface NextAuthAccount {
  provider: string;
  type: string;
  providerAccountId: string;
  userId?: string;
  [k: string]: unknown;
}

export interface NextAuthAdapterSession {
  sessionToken: string;
  userId: string;
  expires: Date | undefined;
}

type AnyRecord = Record<string, unknown>;
const OAUTH_PROVIDER = "https://authgear.com/claims/oauth/provider_type";
const OAUTH_SUBJECT = "https://authgear.com/claims/oauth/subject_id";

export function toNextAuthUser(user: AnyRecord | undefined, eventTime: number): NextAuthUser {
  const sa = (user?.standard_attributes ?? {}) as AnyRecord;
  return {
    id: String(user?.id ?? ""),
    name: (sa.name as string | undefined) ?? null,
    email: (sa.email as string | undefined) ?? null,
    image: (sa.picture as string | undefined) ?? null,
    // NextAuth keeps the verification date; Authgear only a flag. The event time is the best bound we have.
    emailVerified: sa.email_verified === true ? new Date(eventTime * 1000) : null,
  };
}

/** A NextAuth Account from an Authgear identity (`provider`/`provider_account_id` extras win over claims). */
export function toNextAuthAccount(identity: AnyRecord | undefined, userId: string): NextAuthAccount {
  const claims = (identity?.claims ?? {}) as AnyRecord;
  const type = identity?.type === "oauth" ? "oauth" : identity?.type === "login_id" ? "credentials" : String(identity?.type ?? "credentials");
  const provider = String(identity?.provider ?? claims[OAUTH_PROVIDER] ?? (type === "credentials" ? "credentials" : "unknown"));
  const providerAccountId = String(identity?.provider_account_id ?? claims[OAUTH_SUBJECT] ?? identity?.id ?? "");
  return { ...((identity?.account as AnyRecord | undefined) ?? {}), provider, type, providerAccountId, userId };
}

function toAdapterSession(session: AnyRecord | undefined, userId: string): NextAuthAdapterSession {
  const expires = session?.expires_at ? new Date(String(session.expires_at)) : undefined;
  return { sessionToken: String(session?.token ?? session?.id ?? ""), userId, expires };
}

/**
 * The message a NextAuth handler of `name` would have received for this recorded event.
 * v4: `{ user, account, profile, isNewUser }`, `{ session } | { token }`, `{ user }`, ...
 * v3: the bare user / session / JWT, `{ user, providerAccount }`, `{ session, jwt }`.
 */
export function toNextAuthMessage(name: NextAuthEventName, event: Envelope, shape: NextAuthShape = "v4"): unknown {
  const p = event.payload as AnyRecord;
  const ts = event.context.timestamp;
  const user = p.user as AnyRecord | undefined;
  const naUser = toNextAuthUser(user, ts);
  switch (name) {
    case "signIn": {
      const account = toNextAuthAccount(p.identity as AnyRecord | undefined, naUser.id);
      const isNewUser = p.is_new_user === true;
      if (shape === "v3") return { user: naUser, account, isNewUser };
      return { user: naUser, account, profile: (p.identity as AnyRecord | undefined)?.profile ?? undefined, isNewUser };
    }
    case "signOut": {
      const sessions = (p.sessions as AnyRecord[] | undefined) ?? [];
      const token = p.token as AnyRecord | undefined;
      if (token) return shape === "v3" ? token : { token };
      const session = toAdapterSession(sessions[0], naUser.id);
      return shape === "v3" ? session : { session };
    }
    case "createUser":
    case "updateUser":
      return shape === "v3" ? naUser : { user: naUser };
    case "linkAccount": {
      const identity = p.identity as AnyRecord | undefined;
      const account = toNextAuthAccount(identity, naUser.id);
      if (shape === "v3") return { user: naUser, providerAccount: account };
      return { user: naUser, account, profile: identity?.profile ?? identity?.claims ?? {} };
    }
    case "session": {
      const token = p.token as AnyRecord | undefined;
      const session = p.session as AnyRecord | undefined;
      const adapterSession = session ? toAdapterSession(session, naUser.id) : undefined;
      if (shape === "v3") return { session: adapterSession ?? null, jwt: token ?? null };
      return token ? { token } : { session: adapterSession };
    }
    case "error":
      return p.error;
  }
}
