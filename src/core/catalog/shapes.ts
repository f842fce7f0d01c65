/**
 * The objects that payloads are made of, following the seeds' examples: Authgear's user,
 * identity and session (seed 002) and Auth0's organization, role and connection (seed 004).
 * Only the identifying fields are required; every object accepts extra fields so the
 * catalog can grow without breaking anyone (seed 002 "Event Shape Versioning").
 */
import { Type, type Static, type TOptional, type TSchema } from "@sinclair/typebox";

const Json = Type.Unknown({ description: "Any JSON value." });
const JsonObject = Type.Record(Type.String(), Json, { description: "A JSON object." });
const Timestamp = (description: string) => Type.String({ format: "date-time", description });
type OpenProps<T extends Record<string, TSchema>, R extends keyof T> = { [K in keyof T]: K extends R ? T[K] : TOptional<T[K]> };
/** An object that accepts extra fields, with every property optional but `required`. */
const Open = <T extends Record<string, TSchema>, R extends keyof T>(properties: T, options: { description: string; required: R[] }) => {
  const required = new Set<keyof T>(options.required);
  const props = Object.fromEntries(
    Object.entries(properties).map(([k, v]) => [k, required.has(k) ? v : Type.Optional(v)]),
  ) as OpenProps<T, R>;
  return Type.Object(props, { additionalProperties: true, description: options.description });
};

export const Address = Type.Object(
  {
    formatted: Type.Optional(Type.String()),
    street_address: Type.Optional(Type.String()),
    locality: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    postal_code: Type.Optional(Type.String()),
    country: Type.Optional(Type.String()),
  },
  { additionalProperties: false, description: "OIDC address claim (OpenID Connect Core 5.1.1)." },
);

/**
 * OIDC standard claims as Authgear stores them. Hooks may replace this object as a whole;
 * only these claims are allowed (additionalProperties: false) and each has its OIDC type.
 */
export const StandardAttributes = Type.Object(
  {
    email: Type.Optional(Type.String({ description: "E-mail address." })),
    email_verified: Type.Optional(Type.Boolean()),
    phone_number: Type.Optional(Type.String({ description: "E.164 phone number, e.g. +15555555555." })),
    phone_number_verified: Type.Optional(Type.Boolean()),
    preferred_username: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    given_name: Type.Optional(Type.String()),
    family_name: Type.Optional(Type.String()),
    middle_name: Type.Optional(Type.String()),
    nickname: Type.Optional(Type.String()),
    profile: Type.Optional(Type.String({ description: "Profile page URL." })),
    picture: Type.Optional(Type.String({ description: "Picture URL." })),
    website: Type.Optional(Type.String()),
    gender: Type.Optional(Type.String()),
    birthdate: Type.Optional(Type.String({ description: "YYYY, YYYY-MM-DD or 0000-MM-DD." })),
    zoneinfo: Type.Optional(Type.String({ description: "IANA time zone, e.g. Europe/Paris." })),
    locale: Type.Optional(Type.String({ description: "BCP 47 language tag." })),
    address: Type.Optional(Address),
    updated_at: Type.Optional(Type.Integer({ description: "UNIX seconds of the last profile change." })),
  },
  { additionalProperties: false, description: "OpenID Connect standard claims of the user (Authgear `standard_attributes`)." },
);

export const CustomAttributes = Type.Record(Type.String(), Json, {
  description: "Application-defined attributes (Authgear `custom_attributes`; Auth0 `user_metadata`).",
});

export const User = Open(
  {
    id: Type.String({ minLength: 1, description: "The user's id." }),
    created_at: Timestamp("When the user was created (RFC 3339)."),
    updated_at: Timestamp("When the user was last updated (RFC 3339)."),
    last_login_at: Timestamp("When the user last signed in (RFC 3339)."),
    is_anonymous: Type.Boolean({ description: "An anonymous (guest) user." }),
    is_verified: Type.Boolean({ description: "The user has at least one verified identity." }),
    is_disabled: Type.Boolean({ description: "The user may not sign in." }),
    disable_reason: Type.String({ description: "Why the user was disabled." }),
    is_deactivated: Type.Boolean(),
    delete_at: Timestamp("When a scheduled deletion will happen."),
    is_anonymized: Type.Boolean(),
    anonymize_at: Timestamp("When a scheduled anonymization will happen."),
    can_reauthenticate: Type.Boolean(),
    standard_attributes: StandardAttributes,
    custom_attributes: CustomAttributes,
    metadata: Type.Record(Type.String(), Json, {
      description: "Application-controlled data the user cannot change (Auth0 `app_metadata`).",
    }),
    roles: Type.Array(Type.String(), { description: "Role keys." }),
    groups: Type.Array(Type.String(), { description: "Group keys." }),
  },
  { required: ["id"], description: "A user, shaped like Authgear's user object." },
);

export const IdentityType = Type.String({
  description: "Identity kind: login_id, oauth, anonymous, biometric, passkey, siwe, ldap (Authgear), or another string.",
  minLength: 1,
});

export const Identity = Open(
  {
    id: Type.String({ minLength: 1, description: "The identity's id." }),
    type: IdentityType,
    created_at: Timestamp("When the identity was added."),
    updated_at: Timestamp("When the identity was last changed."),
    claims: Type.Record(Type.String(), Json, {
      description:
        "Identity claims as Authgear exposes them, e.g. `email`, `phone_number`, `preferred_username`, " +
        "`https://authgear.com/claims/login_id/type` (email|phone|username), `https://authgear.com/claims/login_id/value`, " +
        "`https://authgear.com/claims/oauth/provider_type` (google, github, ...), `https://authgear.com/claims/oauth/subject_id`.",
    }),
  },
  { required: ["id", "type"], description: "A way the user signs in (Authgear identity)." },
);

export const Session = Open(
  {
    id: Type.String({ minLength: 1, description: "The session's id." }),
    type: Type.String({ description: "idp (browser session), offline_grant (refresh token), jwt, database, ..." }),
    created_at: Timestamp("When the session started."),
    expires_at: Timestamp("When the session expires."),
    last_accessed_at: Timestamp("When the session was last used."),
    ip_address: Type.String(),
    user_agent: Type.String(),
    amr: Type.Array(Type.String(), { description: "Authentication methods references (RFC 8176)." }),
  },
  { required: ["id"], description: "A signed-in session." },
);

export const Organization = Open(
  {
    id: Type.String({ minLength: 1, description: "The organization's id (Auth0: org_ + 16 characters)." }),
    name: Type.String({ description: "Machine name, lowercase (Auth0 `name`)." }),
    display_name: Type.String({ description: "Name shown to end users." }),
    metadata: Type.Record(Type.String(), Json, { description: "Organization metadata." }),
    branding: Type.Object(
      {
        logo_url: Type.Optional(Type.String()),
        colors: Type.Optional(
          Type.Object({ primary: Type.Optional(Type.String()), page_background: Type.Optional(Type.String()) }, { additionalProperties: true }),
        ),
      },
      { additionalProperties: true, description: "Login page branding." },
    ),
  },
  { required: ["id"], description: "An organization (Auth0 organization)." },
);

export const Role = Open(
  {
    id: Type.String({ minLength: 1, description: "The role's id (Auth0: rol_ + 16 characters)." }),
    name: Type.String({ description: "The role's name." }),
  },
  { required: ["id"], description: "A role assigned within an organization." },
);

export const Connection = Open(
  {
    id: Type.String({ minLength: 1, description: "The connection's id (Auth0: con_ + 16 characters)." }),
    name: Type.String({ description: "The connection's name." }),
  },
  { required: ["id"], description: "A connection (identity source) enabled for an organization." },
);

export const JwtPayload = Type.Record(Type.String(), Json, { description: "JWT claims set." });

export const ErrorInfo = Open(
  {
    name: Type.String({ description: "Error class name, e.g. OAuthCallbackError." }),
    message: Type.String({ description: "Human-readable message." }),
    code: Type.String({ description: "Machine-readable code, when the library has one." }),
  },
  { required: ["name", "message"], description: "An error reported by the auth library." },
);

export { JsonObject };
export type UserT = Static<typeof User>;
export type IdentityT = Static<typeof Identity>;
export type SessionT = Static<typeof Session>;
export type OrganizationT = Static<typeof Organization>;
export type StandardAttributesT = Static<typeof StandardAttributes>;
