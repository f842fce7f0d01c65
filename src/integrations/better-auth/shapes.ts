/** Better Auth rows → catalog shapes. Session tokens are bearer secrets and never leave. */
import { toAuthbusUser, toIdentity, jsonSafe } from "../shared/shapes.js";

type AnyRecord = Record<string, unknown>;

const iso = (v: unknown) => {
  const d = v instanceof Date ? v : typeof v === "string" || typeof v === "number" ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
};

export function baUser(user: AnyRecord | null | undefined, fallbackId?: string) {
  return toAuthbusUser(user as never, fallbackId);
}

export function baSession(session: AnyRecord) {
  const out: { id: string; type: string; created_at?: string; expires_at?: string; ip_address?: string; user_agent?: string } = { id: String(session.id), type: "database" };
  const created = iso(session.createdAt);
  const expires = iso(session.expiresAt);
  if (created) out.created_at = created;
  if (expires) out.expires_at = expires;
  if (typeof session.ipAddress === "string" && session.ipAddress) out.ip_address = session.ipAddress;
  if (typeof session.userAgent === "string" && session.userAgent) out.user_agent = session.userAgent;
  return out;
}

/** An account row: `credential` is the e-mail/password login id, anything else an OAuth provider. */
export function baIdentity(account: AnyRecord, user?: AnyRecord | null) {
  const credential = account.providerId === "credential";
  const loginId = credential ? (user?.username ?? user?.email) : undefined;
  const identity = toIdentity({ ...account, type: credential ? "credentials" : "oauth" }, { email: user?.email, loginId });
  if (typeof account.createdAt !== "undefined") identity.created_at = iso(account.createdAt);
  return identity;
}

/** The identity a sign-up or sign-in used, from the route (before any account row exists). */
export function routeIdentity(path: string | undefined, params: AnyRecord | undefined, body: AnyRecord | undefined) {
  if (path === "/sign-up/email" || path === "/sign-in/email" || path === "/sign-in/username") {
    const loginId = body?.username ?? body?.email;
    return toIdentity({ provider: "credential", providerAccountId: String(loginId ?? ""), type: "credentials", id: "pending" }, { loginId, email: body?.email });
  }
  const provider = params?.id ?? params?.providerId;
  if (typeof provider === "string") return toIdentity({ provider, providerAccountId: "", type: "oauth", id: "pending" });
  return undefined;
}

export { jsonSafe };
