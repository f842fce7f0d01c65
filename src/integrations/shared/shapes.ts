/**
 * Auth library objects → the catalog's Authgear-shaped user, identity and session (SPEC §1), and
 * hook mutations back onto the library's user. Auth.js, NextAuth v4 and Better Auth all keep
 * `{ id, name, email, image, emailVerified }` plus the app's own columns, which become
 * `custom_attributes`. Tokens and secrets never enter a payload.
 */
import { createHash } from "node:crypto";

type AnyRecord = Record<string, unknown>;

export const CLAIM_PROVIDER = "https://authgear.com/claims/oauth/provider_type";
export const CLAIM_SUBJECT = "https://authgear.com/claims/oauth/subject_id";
export const CLAIM_LOGIN_ID_TYPE = "https://authgear.com/claims/login_id/type";
export const CLAIM_LOGIN_ID_VALUE = "https://authgear.com/claims/login_id/value";

/** Library fields that map onto Authgear fields (or are secrets), so they never become custom attributes. */
const NOT_CUSTOM = new Set(["id", "name", "email", "image", "emailVerified", "createdAt", "updatedAt", "password", "hashedPassword"]);

export interface LibraryUser {
  id?: unknown;
  name?: unknown;
  email?: unknown;
  image?: unknown;
  emailVerified?: unknown;
  [key: string]: unknown;
}

export interface AuthbusUser {
  id: string;
  standard_attributes: AnyRecord;
  custom_attributes: AnyRecord;
  created_at?: string;
  updated_at?: string;
}

/** A JSON copy: Dates become RFC 3339 strings; functions, symbols, bigints and undefined are dropped. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (depth > 8 || typeof value !== "object") return undefined;
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1) ?? null);
  const out: AnyRecord = {};
  for (const [k, v] of Object.entries(value)) {
    const safe = jsonSafe(v, depth + 1);
    if (safe !== undefined) out[k] = safe;
  }
  return out;
}

function isoDate(value: unknown): string | undefined {
  const d = value instanceof Date ? value : typeof value === "string" || typeof value === "number" ? new Date(value) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/** The catalog user for a library user; `fallbackId` when the library has not assigned one yet. */
export function toAuthbusUser(user: LibraryUser | null | undefined, fallbackId?: string): AuthbusUser {
  const u = user ?? {};
  const sa: AnyRecord = {};
  if (str(u.email)) sa.email = u.email;
  if (u.emailVerified !== undefined) sa.email_verified = u.emailVerified === true || isoDate(u.emailVerified) !== undefined;
  if (str(u.name)) sa.name = u.name;
  if (str(u.image)) sa.picture = u.image;
  const custom: AnyRecord = {};
  for (const [k, v] of Object.entries(u)) {
    if (NOT_CUSTOM.has(k)) continue;
    const safe = jsonSafe(v);
    if (safe !== undefined) custom[k] = safe;
  }
  const id = u.id === undefined || u.id === null || u.id === "" ? (fallbackId ?? "unknown") : String(u.id);
  const out: AuthbusUser = { id, standard_attributes: sa, custom_attributes: custom };
  const created = isoDate(u.createdAt);
  const updated = isoDate(u.updatedAt);
  if (created) out.created_at = created;
  if (updated) out.updated_at = updated;
  return out;
}

/**
 * Hook mutations back onto a library user: the OIDC claims the library has a field for
 * (`email`, `name`, `picture` → image, `email_verified`) and every custom attribute as a field of
 * its own (the app's extra user columns). Only what the hooks changed is touched, so fields the
 * library keeps as Dates or other non-JSON values stay as they were. `verifiedAs` says how the
 * library stores verification.
 */
export function applyUserMutations<U extends AnyRecord>(
  user: U,
  before: AuthbusUser,
  after: { standard_attributes?: AnyRecord; custom_attributes?: AnyRecord },
  verifiedAs: "date" | "boolean",
): U {
  const out: AnyRecord = { ...user };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const sa = after.standard_attributes ?? {};
  const saBefore = before.standard_attributes;
  for (const [claim, field] of [["email", "email"], ["name", "name"], ["picture", "image"]] as const) {
    if (!same(sa[claim], saBefore[claim])) out[field] = sa[claim] ?? null;
  }
  if (!same(sa.email_verified, saBefore.email_verified)) {
    out.emailVerified = verifiedAs === "boolean" ? sa.email_verified === true : sa.email_verified === true ? new Date() : null;
  }
  const custom = after.custom_attributes ?? {};
  for (const [k, v] of Object.entries(custom)) if (!NOT_CUSTOM.has(k) && !same(v, before.custom_attributes[k])) out[k] = v;
  // Mutations replace custom_attributes as a whole: an attribute left out is removed.
  for (const k of Object.keys(before.custom_attributes)) if (!(k in custom)) delete out[k];
  return out as U;
}

export interface AccountLike {
  provider?: unknown;
  providerId?: unknown;
  type?: unknown;
  providerAccountId?: unknown;
  accountId?: unknown;
  id?: unknown;
  [key: string]: unknown;
}

/**
 * An Authgear identity for an Auth.js/NextAuth account or a Better Auth account row. OAuth/OIDC →
 * `oauth` with the provider/subject claims; email and credentials → `login_id`; webauthn → `passkey`.
 */
export function toIdentity(account: AccountLike, extra: { email?: unknown; loginId?: unknown } = {}): { id: string; type: string; claims: AnyRecord; [k: string]: unknown } {
  const provider = String(account.provider ?? account.providerId ?? "unknown");
  const subject = String(account.providerAccountId ?? account.accountId ?? "");
  const kind = String(account.type ?? (provider === "credential" ? "credentials" : "oauth"));
  const email = str(extra.email);
  const base = { id: str(account.id) ?? `${provider}:${subject}`, provider, provider_account_id: subject };
  if (kind === "oauth" || kind === "oidc") {
    return { ...base, type: "oauth", claims: { [CLAIM_PROVIDER]: provider, [CLAIM_SUBJECT]: subject, ...(email ? { email } : {}) } };
  }
  if (kind === "webauthn") return { ...base, type: "passkey", claims: {} };
  const loginId = str(extra.loginId) ?? email ?? (kind === "email" ? subject : undefined);
  const loginType = loginId?.includes("@") ? "email" : "username";
  return {
    ...base,
    type: "login_id",
    claims: loginId ? { [CLAIM_LOGIN_ID_TYPE]: loginType, [CLAIM_LOGIN_ID_VALUE]: loginId, ...(loginType === "email" ? { email: loginId } : { preferred_username: loginId }) } : {},
  };
}

/** A stable, non-secret session id for a session token (the token itself is a bearer secret). */
export function sessionIdFromToken(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 32);
}
