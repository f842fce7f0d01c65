/**
 * The event catalog (SPEC §1): Authgear's blocking and non-blocking events (seed 002), Auth0's
 * organization events (seed 004), and NextAuth's `session` and `error` (seeds 000/001/003),
 * which neither has. Descriptions are the seeds' own words where they have them.
 * This file is the one schema source: TypeScript payload types, runtime validators, published
 * JSON Schemas and docs/reference/events.md are all derived from it.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { Connection, ErrorInfo, Identity, JwtPayload, Organization, Role, Session, User } from "./shapes.js";

export type EventKind = "blocking" | "non_blocking";
export type EventSource = "authgear" | "auth0" | "nextauth";

export interface EventDefinition<S extends TSchema = TSchema, K extends EventKind = EventKind> {
  /** Kept literal per entry, so BlockingEventType and NonBlockingEventType can be computed from the catalog. */
  readonly kind: K;
  readonly source: EventSource;
  readonly description: string;
  readonly payload: S;
}

const payload = <P extends Record<string, TSchema>>(properties: P) =>
  Type.Object(properties, { additionalProperties: true });

const def = <K extends EventKind, S extends TSchema>(kind: K, source: EventSource, description: string, schema: S): EventDefinition<S, K> => ({
  kind,
  source,
  description,
  payload: schema,
});

const userOnly = () => payload({ user: User });
const userIdentity = () => payload({ user: User, identity: Identity });
const userIdentityChange = () => payload({ user: User, old_identity: Identity, new_identity: Identity });
const orgOnly = () => payload({ organization: Organization });
const orgMember = () => payload({ organization: Organization, user: User });
const orgMemberRole = () => payload({ organization: Organization, user: User, role: Role });
const orgConnection = () =>
  payload({
    organization: Organization,
    connection: Connection,
    assign_membership_on_login: Type.Optional(Type.Boolean({ description: "Users who log in with this connection become members." })),
    show_as_button: Type.Optional(Type.Boolean({ description: "Shown on the organization's login prompt." })),
    is_signup_enabled: Type.Optional(Type.Boolean({ description: "Organization signup enabled for this connection." })),
  });

const B = "blocking" as const;
const N = "non_blocking" as const;
const failed = (description: string) => def(N, "authgear", description, userOnly());

export const CATALOG = {
  // Blocking events (seed 002): hooks run before the operation and may deny or mutate.
  "user.pre_create": def(B, "authgear", "Occurs right before the user creation. User can be created by user signup, user signup as anonymous user, admin api or admin portal create an user. `context.oauth.state` carries the OAuth state if the signup is triggered through the authorize endpoint.", payload({ user: User, identities: Type.Array(Identity) })),
  "user.profile.pre_update": def(B, "authgear", "Occurs right before the update of user profile.", userOnly()),
  "user.pre_schedule_deletion": def(B, "authgear", "Occurs right before the account deletion is scheduled.", userOnly()),
  "user.pre_schedule_anonymization": def(B, "authgear", "Occurs right before the account anonymization is scheduled.", userOnly()),
  "oidc.jwt.pre_create": def(B, "authgear", "Occurs right before the access token is issued. Use this event to add custom fields to the JWT access token.", payload({ user: User, jwt: Type.Object({ payload: JwtPayload }, { additionalProperties: true }) })),

  // Non-blocking: user lifecycle (seed 002).
  "user.created": def(N, "authgear", "Occurs after a new user is created. User can be created by user signup, user signup as anonymous user, admin api or admin portal create an user.", payload({ user: User, identities: Type.Array(Identity) })),
  "user.profile.updated": def(N, "authgear", "Occurs when the user profile is updated.", userOnly()),
  "user.authenticated": def(N, "authgear", "Occurs after user logged in. Integrations may add `identity` (the identity used) and `is_new_user`.", payload({ user: User, session: Session, identity: Type.Optional(Identity), is_new_user: Type.Optional(Type.Boolean()) })),
  "user.signed_out": def(N, "authgear", "Occurs after the user signed out. Note that there is no event when the session expires normally.", payload({ user: User, sessions: Type.Array(Session) })),
  "user.session.terminated": def(N, "authgear", "Occurs after the user terminates sessions via the settings page, or the admin revokes users' sessions via the portal/admin api. `termination_type`: individual (one session, or its SSO group), all (every session of the user), all_except_current (every session but the current one).", payload({ user: User, sessions: Type.Array(Session), termination_type: Type.Union([Type.Literal("individual"), Type.Literal("all"), Type.Literal("all_except_current")]) })),
  "user.anonymous.promoted": def(N, "authgear", "Occurs whenever an anonymous user is promoted to normal user.", payload({ anonymous_user: User, user: User, identities: Type.Array(Identity) })),
  "user.disabled": def(N, "authgear", "Occurs when the user was disabled.", userOnly()),
  "user.reenabled": def(N, "authgear", "Occurs when the user was re-enabled.", userOnly()),
  "user.deletion_scheduled": def(N, "authgear", "Occurs when an account deletion was scheduled.", userOnly()),
  "user.deletion_unscheduled": def(N, "authgear", "Occurs when an account deletion was unscheduled.", userOnly()),
  "user.deleted": def(N, "authgear", "Occurs when the user was deleted.", userOnly()),
  "user.anonymization_scheduled": def(N, "authgear", "Occurs when an account anonymization was scheduled.", userOnly()),
  "user.anonymization_unscheduled": def(N, "authgear", "Occurs when an account anonymization was unscheduled.", userOnly()),
  "user.anonymized": def(N, "authgear", "Occurs when the user was anonymized.", userOnly()),

  // Non-blocking: failed authentication (seed 002).
  "authentication.identity.login_id.failed": def(N, "authgear", "Occurs after a Email / Phone / Username Login ID was attempted to log in but it does not exist.", payload({ login_id: Type.String({ description: "The login ID that was tried." }) })),
  "authentication.identity.anonymous.failed": failed("Occurs after an anonymous user attempted to log in but failed to do so."),
  "authentication.identity.biometric.failed": failed("Occurs after an user attempted to log in with biometric but failed to do so."),
  "authentication.primary.password.failed": failed("Occurs after the user failed to input their primary password."),
  "authentication.primary.oob_otp_email.failed": failed("Occurs after the user failed to input the OTP delivered to their email address."),
  "authentication.primary.oob_otp_sms.failed": failed("Occurs after the user failed to input the OTP delivered to their phone."),
  "authentication.secondary.password.failed": failed("Occurs after the user failed to input their secondary password."),
  "authentication.secondary.totp.failed": failed("Occurs after the user failed to input the time-based one-time password."),
  "authentication.secondary.oob_otp_email.failed": failed("Occurs after the user failed to input the OTP delivered to their email address."),
  "authentication.secondary.oob_otp_sms.failed": failed("Occurs after the user failed to input the OTP delivered to their phone."),
  "authentication.secondary.recovery_code.failed": failed("Occurs after the user failed to input the recovery code."),
  "bot_protection.verification.failed": def(N, "authgear", "Occurs after someone failed to pass the bot protection verification. The useful information is in the event context, like IP address, timestamp.", payload({})),

  // Non-blocking: identities (seed 002).
  "identity.email.added": def(N, "authgear", "Occurs when a new email is added to existing user. Email can be added by user in setting page, added by admin through admin api or portal.", userIdentity()),
  "identity.email.removed": def(N, "authgear", "Occurs when email is removed from existing user. Email can be removed by user in setting page, removed by admin through admin api or portal.", userIdentity()),
  "identity.email.updated": def(N, "authgear", "Occurs when email is updated. Email can be updated by user in setting page.", userIdentityChange()),
  "identity.phone.added": def(N, "authgear", "Occurs when a new phone number is added to existing user. Phone number can be added by user in setting page, added by admin through admin api or portal.", userIdentity()),
  "identity.phone.removed": def(N, "authgear", "Occurs when phone number is removed from existing user. Phone number can be removed by user in setting page, removed by admin through admin api or portal.", userIdentity()),
  "identity.phone.updated": def(N, "authgear", "Occurs when phone number is updated. Phone number can be updated by user in setting page.", userIdentityChange()),
  "identity.username.added": def(N, "authgear", "Occurs when a new username is added to existing user. Username can be added by user in setting page, added by admin through admin api or portal.", userIdentity()),
  "identity.username.removed": def(N, "authgear", "Occurs when username is removed from existing user. Username can be removed by user in setting page, removed by admin through admin api or portal.", userIdentity()),
  "identity.username.updated": def(N, "authgear", "Occurs when username is updated. Username can be updated by user in setting page.", userIdentityChange()),
  "identity.oauth.connected": def(N, "authgear", "Occurs when user connected to a new OAuth provider.", userIdentity()),
  "identity.oauth.disconnected": def(N, "authgear", "Occurs when user disconnected from an OAuth provider. It can be done by user disconnected OAuth provider in the setting page, or admin removed OAuth identity through admin api or portal.", userIdentity()),
  "identity.biometric.enabled": def(N, "authgear", "Occurs when user enabled biometric login.", userIdentity()),
  "identity.biometric.disabled": def(N, "authgear", "Occurs when biometric login is disabled. It will be triggered only when the user disabled it from the settings page or the admin disabled it from the admin api or portal.", userIdentity()),

  // Non-blocking: organizations (seed 004, Auth0 Event Streams).
  "organization.created": def(N, "auth0", "Published each time an organization is created.", orgOnly()),
  "organization.updated": def(N, "auth0", "Published each time an organization is updated.", orgOnly()),
  "organization.deleted": def(N, "auth0", "Published each time an organization is deleted.", orgOnly()),
  "organization.member.added": def(N, "auth0", "Published each time a member is added to an organization.", orgMember()),
  "organization.member.deleted": def(N, "auth0", "Published each time a member is removed from an organization.", orgMember()),
  "organization.member.role.assigned": def(N, "auth0", "Published each time a role is assigned to a member within an organization.", orgMemberRole()),
  "organization.member.role.deleted": def(N, "auth0", "Published each time a role is unassigned from a member within an organization.", orgMemberRole()),
  "organization.connection.added": def(N, "auth0", "Published each time a connection is added to an organization.", orgConnection()),
  "organization.connection.updated": def(N, "auth0", "Published each time a connection belonging to an organization is updated.", orgConnection()),
  "organization.connection.removed": def(N, "auth0", "Published each time a connection is removed from an organization.", orgConnection()),

  // Non-blocking: NextAuth events that neither Authgear nor Auth0 has (seeds 000/001/003).
  "user.session.accessed": def(N, "nextauth", "Sent at the end of a request for the current session (NextAuth `session` event). Carries the adapter session or the JWT. Integrations record it only when asked: it fires on every session read.", payload({ user: Type.Optional(User), session: Type.Optional(Session), token: Type.Optional(JwtPayload) })),
  "auth.error": def(N, "nextauth", "Sent when an error occurs in the auth library (NextAuth v3 `error` event).", payload({ error: ErrorInfo })),
} as const satisfies Record<string, EventDefinition>;
