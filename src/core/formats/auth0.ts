/**
 * The `auth0` rendering (SPEC §2): what an Auth0 Event Streams consumer parses unchanged.
 * Where seed 004's prose and Auth0's published schema (notes/auth0-events-schema.json)
 * differ, the schema governs: every object there is closed (`unevaluatedProperties: false`)
 * and many strings carry patterns, so each object is built field by field, and an optional
 * field whose value the schema would reject is left out rather than sent invalid.
 * Identifiers (user, organization, role, connection ids) are passed through unchanged:
 * a consumer needs the real ids to correlate, even where they do not look like Auth0's.
 */
import { createHash } from "node:crypto";
import type { EventType } from "../catalog/catalog.js";
import type { Envelope } from "../envelope.js";
import { authbusSource, eventTime } from "./cloudevents.js";

export type Auth0EventType =
  | "user.created"
  | "user.updated"
  | "user.deleted"
  | "organization.created"
  | "organization.updated"
  | "organization.deleted"
  | "organization.member.added"
  | "organization.member.deleted"
  | "organization.member.role.assigned"
  | "organization.member.role.deleted"
  | "organization.connection.added"
  | "organization.connection.updated"
  | "organization.connection.removed";

/** Catalog type → Auth0 type. Types not listed have no Auth0 equivalent and are skipped. */
const AUTH0_TYPES = {
  "user.created": "user.created",
  "user.profile.updated": "user.updated",
  "user.disabled": "user.updated",
  "user.reenabled": "user.updated",
  "user.anonymous.promoted": "user.updated",
  "identity.email.added": "user.updated",
  "identity.email.removed": "user.updated",
  "identity.email.updated": "user.updated",
  "identity.phone.added": "user.updated",
  "identity.phone.removed": "user.updated",
  "identity.phone.updated": "user.updated",
  "identity.username.added": "user.updated",
  "identity.username.removed": "user.updated",
  "identity.username.updated": "user.updated",
  "identity.oauth.connected": "user.updated",
  "identity.oauth.disconnected": "user.updated",
  "identity.biometric.enabled": "user.updated",
  "identity.biometric.disabled": "user.updated",
  "user.deleted": "user.deleted",
  "user.anonymized": "user.deleted",
  "organization.created": "organization.created",
  "organization.updated": "organization.updated",
  "organization.deleted": "organization.deleted",
  "organization.member.added": "organization.member.added",
  "organization.member.deleted": "organization.member.deleted",
  "organization.member.role.assigned": "organization.member.role.assigned",
  "organization.member.role.deleted": "organization.member.role.deleted",
  "organization.connection.added": "organization.connection.added",
  "organization.connection.updated": "organization.connection.updated",
  "organization.connection.removed": "organization.connection.removed",
} as const satisfies Partial<Record<EventType, Auth0EventType>>;

/** Identity events after which the payload's identity is gone, so it must not be listed on the user. */
const REMOVALS = new Set<string>([
  "identity.email.removed",
  "identity.phone.removed",
  "identity.username.removed",
  "identity.oauth.disconnected",
  "identity.biometric.disabled",
]);

export function auth0TypeFor(type: string): Auth0EventType | undefined {
  return Object.hasOwn(AUTH0_TYPES, type) ? AUTH0_TYPES[type as keyof typeof AUTH0_TYPES] : undefined;
}

export interface Auth0Event {
  specversion: "1.0";
  type: Auth0EventType;
  source: string;
  id: string;
  time: string;
  data: { object: Record<string, unknown> };
  a0tenant: string;
  a0stream: string;
}

export type Auth0Rendering =
  | { ok: true; type: Auth0EventType; event: Auth0Event; body: string; headers: { "content-type": "application/json" } }
  | { ok: false; reason: string };

export interface Auth0RenderOptions {
  /** The subscription id; `a0stream` is derived from it. */
  streamId: string;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A deterministic base62 string: the last `length` base62 digits of SHA-256(UTF-8 input) read
 * as a big-endian integer. Auth0's ids are `prefix_` + 16 of [a-zA-Z0-9]; deriving them instead
 * of generating them keeps them equal on every retry and replay. 62^16 ≈ 2^95, so collisions
 * among an app's events are not a practical concern.
 */
export function base62Digest(input: string, length = 16): string {
  if (!Number.isInteger(length) || length < 1 || length > 42) throw new RangeError("length must be an integer in 1..42");
  let n = BigInt(`0x${createHash("sha256").update(input, "utf8").digest("hex")}`);
  let out = "";
  for (let i = 0; i < length; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export function renderAuth0(envelope: Envelope, options: Auth0RenderOptions): Auth0Rendering {
  if (typeof options?.streamId !== "string" || options.streamId.length === 0) {
    throw new TypeError("renderAuth0: options.streamId must be a non-empty string");
  }
  const type = auth0TypeFor(envelope.type);
  if (type === undefined) return { ok: false, reason: `${envelope.type} has no Auth0 Event Streams equivalent` };
  const time = eventTime(envelope.context.timestamp);
  const object = auth0Object(envelope.type, type, asRecord(envelope.payload), time);
  if (typeof object === "string") return { ok: false, reason: `${envelope.type} cannot be rendered for Auth0: ${object}` };
  const event: Auth0Event = {
    specversion: "1.0",
    type,
    source: authbusSource(envelope.context.app_id),
    id: `evt_${base62Digest(envelope.id)}`,
    time,
    data: { object },
    a0tenant: envelope.context.app_id,
    a0stream: `est_${base62Digest(options.streamId)}`,
  };
  return { ok: true, type, event, body: JSON.stringify(event), headers: { "content-type": "application/json" } };
}

type Rec = Record<string, unknown>;

/** `data.object` for the Auth0 type, or a string saying what is missing. */
function auth0Object(source: string, type: Auth0EventType, payload: Rec, time: string): Rec | string {
  if (type.startsWith("user.")) {
    const user = asRecord(payload.user);
    if (!nonEmpty(user.id)) return "payload.user.id is missing";
    const object = auth0User(user, identitiesOf(source, payload), time);
    if (source === "user.disabled") object.blocked = true;
    if (source === "user.reenabled") object.blocked = false;
    if (type === "user.deleted") object.deleted_at = time;
    return object;
  }
  const org = asRecord(payload.organization);
  if (!nonEmpty(org.id)) return "payload.organization.id is missing";
  switch (type) {
    case "organization.created":
    case "organization.updated":
    case "organization.deleted": {
      const object = orgReference(org);
      setIf(object, "display_name", typeof org.display_name === "string" ? org.display_name : undefined);
      setIf(object, "metadata", plainObject(org.metadata));
      // The schema has no branding on organization.deleted.
      if (type !== "organization.deleted") setIf(object, "branding", branding(org.branding));
      return object;
    }
    case "organization.member.added":
    case "organization.member.deleted":
    case "organization.member.role.assigned":
    case "organization.member.role.deleted": {
      const user = asRecord(payload.user);
      if (!nonEmpty(user.id)) return "payload.user.id is missing";
      if (type === "organization.member.added" || type === "organization.member.deleted") {
        return { organization: orgReference(org), user: { user_id: user.id } };
      }
      const role = asRecord(payload.role);
      if (!nonEmpty(role.id)) return "payload.role.id is missing";
      // The schema allows only the id on a role event's organization, and requires role.name.
      return {
        organization: { id: org.id },
        user: { user_id: user.id },
        role: { id: role.id, name: nonEmpty(role.name) ? role.name : role.id },
      };
    }
    default: {
      const connection = asRecord(payload.connection);
      if (!nonEmpty(connection.id)) return "payload.connection.id is missing";
      const object: Rec = { organization: orgReference(org), connection: { id: connection.id } };
      // The schema has no flags on organization.connection.removed.
      if (type !== "organization.connection.removed") {
        for (const flag of ["assign_membership_on_login", "show_as_button", "is_signup_enabled"]) {
          setIf(object, flag, bool(payload[flag]));
        }
      }
      return object;
    }
  }
}

/** An Authgear user as Auth0's `User` (seed 004's user.updated example). */
function auth0User(user: Rec, identities: Rec[], time: string): Rec {
  const sa = asRecord(user.standard_attributes);
  const out: Rec = { user_id: user.id };
  setIf(out, "email", email(sa.email));
  setIf(out, "email_verified", bool(sa.email_verified));
  setIf(out, "username", username(sa.preferred_username));
  setIf(out, "phone_number", phone(sa.phone_number));
  setIf(out, "phone_verified", bool(sa.phone_number_verified));
  setIf(out, "name", text(sa.name, 300));
  setIf(out, "given_name", text(sa.given_name, 150));
  setIf(out, "family_name", text(sa.family_name, 150));
  setIf(out, "nickname", text(sa.nickname, 300));
  setIf(out, "picture", uri(sa.picture));
  // Required by the schema; the event time is the best bound when the user object lacks them.
  out.created_at = dateTime(user.created_at) ?? time;
  out.updated_at = dateTime(user.updated_at) ?? time;
  out.identities = identities.map(auth0Identity);
  setIf(out, "user_metadata", plainObject(user.custom_attributes));
  setIf(out, "app_metadata", appMetadata(user.metadata));
  setIf(out, "last_login", dateTime(user.last_login_at));
  setIf(out, "blocked", bool(user.is_disabled));
  return out;
}

/** The user's identities: the full list when the payload has one, else the identity the event is about. */
function identitiesOf(source: string, payload: Rec): Rec[] {
  const list = Array.isArray(payload.identities) ? payload.identities : asRecord(payload.user).identities;
  if (Array.isArray(list)) return list.filter(isRecord).filter((i) => nonEmpty(i.id));
  if (REMOVALS.has(source)) return [];
  const one = isRecord(payload.new_identity) ? payload.new_identity : payload.identity;
  return isRecord(one) && nonEmpty(one.id) ? [one] : [];
}

const CLAIM_PROVIDER = "https://authgear.com/claims/oauth/provider_type";
const CLAIM_SUBJECT = "https://authgear.com/claims/oauth/subject_id";

/** Authgear provider types (and common aliases) onto Auth0's SocialProviders enum. */
const SOCIAL_ALIASES: Record<string, string> = { google: "google-oauth2", x: "twitter", microsoft: "windowslive", vk: "vkontakte" };
const SOCIAL_PROVIDERS = new Set([
  "amazon", "apple", "dropbox", "bitbucket", "auth0-oidc", "baidu", "bitly", "box", "daccount", "dwolla",
  "evernote-sandbox", "evernote", "exact", "facebook", "fitbit", "github", "google-oauth2", "instagram", "line",
  "linkedin", "oauth1", "oauth2", "paypal", "paypal-sandbox", "planningcenter", "salesforce-community",
  "salesforce-sandbox", "salesforce", "shopify", "soundcloud", "thirtysevensignals", "twitter", "untapped",
  "vkontakte", "weibo", "windowslive", "wordpress", "yahoo", "yandex",
]);

function socialProvider(providerType: unknown): string {
  const key = typeof providerType === "string" ? providerType.toLowerCase() : "";
  const mapped = SOCIAL_ALIASES[key] ?? key;
  return SOCIAL_PROVIDERS.has(mapped) ? mapped : "oauth2";
}

/** An Authgear identity as one branch of Auth0's `Identity` oneOf (Database, Social or Custom). */
function auth0Identity(identity: Rec): Rec {
  const claims = asRecord(identity.claims);
  let provider = "custom";
  let isSocial = false;
  let connection = "custom";
  let userId: unknown = identity.id;
  if (identity.type === "login_id") {
    provider = "auth0";
    connection = "Username-Password-Authentication";
  } else if (identity.type === "oauth") {
    provider = socialProvider(claims[CLAIM_PROVIDER]);
    connection = provider;
    isSocial = true;
    const subject = claims[CLAIM_SUBJECT];
    if (nonEmpty(subject) || Number.isInteger(subject)) userId = subject;
  }
  const out: Rec = { connection, user_id: userId, provider, isSocial };
  const profile: Rec = {};
  setIf(profile, "email", email(claims.email));
  setIf(profile, "email_verified", bool(claims.email_verified));
  setIf(profile, "name", text(claims.name, 300));
  setIf(profile, "username", username(claims.preferred_username));
  setIf(profile, "given_name", text(claims.given_name, 150));
  setIf(profile, "family_name", text(claims.family_name, 150));
  setIf(profile, "phone_number", phone(claims.phone_number));
  setIf(profile, "phone_verified", bool(claims.phone_number_verified));
  if (Object.keys(profile).length > 0) out.profileData = profile;
  return out;
}

function orgReference(org: Rec): Rec {
  const out: Rec = { id: org.id };
  if (typeof org.name === "string" && ORG_NAME.test(org.name)) out.name = org.name;
  return out;
}

function branding(value: unknown): Rec | undefined {
  if (!isRecord(value)) return undefined;
  const out: Rec = {};
  setIf(out, "logo_url", uri(value.logo_url));
  if (isRecord(value.colors)) {
    const colors: Rec = {};
    for (const k of ["primary", "page_background"]) if (typeof value.colors[k] === "string") colors[k] = value.colors[k];
    out.colors = colors;
  }
  return out;
}

/** Keys Auth0 reserves in app_metadata; its schema forbids them there. */
const RESERVED_APP_METADATA = new Set([
  "__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email", "globalClientID", "global_client_id",
  "identities", "lastIP", "lastLogin", "loginsCount", "metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id",
]);

function appMetadata(value: unknown): Rec | undefined {
  const obj = plainObject(value);
  return obj && Object.fromEntries(Object.entries(obj).filter(([k]) => !RESERVED_APP_METADATA.has(k)));
}

// The schema's string constraints, checked so that optional fields never make the event invalid.
const ORG_NAME = /^(?!org_)[a-z0-9]([a-z0-9-_]*[a-z0-9])?$/;
const USERNAME = /^[a-zA-Z0-9_+\-.!#$^`~@']{1,128}$/;
const PHONE = /^\+[0-9]{1,15}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/u;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

const email = (v: unknown) => (typeof v === "string" && EMAIL.test(v) ? v : undefined);
const username = (v: unknown) => (typeof v === "string" && USERNAME.test(v) ? v : undefined);
const phone = (v: unknown) => (typeof v === "string" && PHONE.test(v) ? v : undefined);
const text = (v: unknown, max: number) => (typeof v === "string" && v.length >= 1 && v.length <= max ? v : undefined);
const bool = (v: unknown) => (typeof v === "boolean" ? v : undefined);
// Auth0's `uri` format is ASCII only: an IRI that URL would accept can still be rejected.
const uri = (v: unknown) => (typeof v === "string" && /^[\x21-\x7e]+$/.test(v) && URL.canParse(v) ? v : undefined);
const dateTime = (v: unknown) => (typeof v === "string" && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined);
const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isRecord = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const asRecord = (v: unknown): Rec => (isRecord(v) ? v : {});
const plainObject = (v: unknown): Rec | undefined => (isRecord(v) ? v : undefined);

function setIf(target: Rec, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}
