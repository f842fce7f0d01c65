import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../catalog/catalog.js";
import type { Envelope } from "../envelope.js";
import { auth0TypeFor, base62Digest, renderAuth0, type Auth0EventType, type Auth0Rendering } from "./auth0.js";

// --- Auth0's published schema -----------------------------------------------------------
// Each component schema has its own `$id` ("user.created") yet refers to its $defs through the
// document root (`#/components/schemas/user.created/$defs/X`), which does not resolve inside the
// resource; rewriting those refs to `#/$defs/X` makes each schema standalone and unchanged in meaning.
const doc = JSON.parse(readFileSync(join(process.cwd(), "../shared/notes/auth0-events-schema.json"), "utf8")) as {
  components: { schemas: Record<string, Record<string, unknown>> };
};
const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
addFormats.default(ajv);
// ajv-formats has no idn-email; a lenient check keeps the keyword meaningful.
ajv.addFormat("idn-email", /^[^\s@]+@[^\s@]+$/u);
const validators = new Map<string, ValidateFunction>();
function validatorFor(type: string): ValidateFunction {
  let v = validators.get(type);
  if (!v) {
    const source = doc.components.schemas[type];
    if (!source) throw new Error(`no Auth0 schema for ${type}`);
    const schema = JSON.parse(JSON.stringify(source).split(`#/components/schemas/${type}/$defs/`).join("#/$defs/")) as Record<string, unknown>;
    delete schema.$id;
    v = ajv.compile(schema);
    validators.set(type, v);
  }
  return v;
}
function expectValid(r: Auth0Rendering): asserts r is Extract<Auth0Rendering, { ok: true }> {
  if (!r.ok) throw new Error(`not rendered: ${r.reason}`);
  const validate = validatorFor(r.type);
  const ok = validate(JSON.parse(r.body));
  expect(validate.errors ?? [], `${r.type}: ${JSON.stringify(validate.errors)}`).toEqual([]);
  expect(ok).toBe(true);
}

// --- Fixtures ------------------------------------------------------------------------------
const TS = 1738413296;
const TIME = "2025-02-01T12:34:56.000Z";
const USER_ID = "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c";
const ORG = { id: "org_Ab12Cd34Ef56Gh78", name: "acme-eu", display_name: "Acme EU", metadata: { region: "eu" }, branding: { logo_url: "https://acme.example/logo.png", colors: { primary: "#0059d6", page_background: "#000000" } } };
const ROLE = { id: "rol_Zx98Yw76Vu54Ts32", name: "billing-admin" };
const CONNECTION = { id: "con_kFOHQUeaCSC1Kjqz", name: "acme-saml" };
const USER = {
  id: USER_ID,
  created_at: "2025-01-29T22:00:00Z",
  updated_at: "2025-02-01T12:00:00Z",
  last_login_at: "2025-02-01T11:59:00Z",
  is_disabled: false,
  standard_attributes: {
    email: "zoe@example.com", email_verified: true, phone_number: "+15555555555", phone_number_verified: false,
    preferred_username: "zoe.smith", name: "Zoë Smith", given_name: "Zoë", family_name: "Smith", nickname: "zo",
    picture: "https://secure.gravatar.com/avatar/1562?s=480&r=pg",
  },
  custom_attributes: { hobby: "skydiving" },
  metadata: { plan: "pro", email: "reserved-by-auth0@example.com" },
};
const EMAIL_ID = { id: "0190f1b2-0000-7000-8000-000000000001", type: "login_id", claims: { email: "zoe@example.com", "https://authgear.com/claims/login_id/type": "email", "https://authgear.com/claims/login_id/value": "zoe@example.com" } };
const PHONE_ID = { id: "0190f1b2-0000-7000-8000-000000000003", type: "login_id", claims: { phone_number: "+15555555555", "https://authgear.com/claims/login_id/type": "phone" } };
const USERNAME_ID = { id: "0190f1b2-0000-7000-8000-000000000004", type: "login_id", claims: { preferred_username: "zoe.smith", "https://authgear.com/claims/login_id/type": "username" } };
const GOOGLE_ID = { id: "0190f1b2-0000-7000-8000-000000000002", type: "oauth", claims: { email: "zoe@gmail.com", name: "Zoë Smith", "https://authgear.com/claims/oauth/provider_type": "google", "https://authgear.com/claims/oauth/subject_id": "109876543210" } };
const BIOMETRIC_ID = { id: "0190f1b2-0000-7000-8000-000000000005", type: "biometric", claims: {} };

let counter = 0;
function envelope(type: string, payload: Record<string, unknown>, context: Record<string, unknown> = {}): Envelope {
  counter += 1;
  return {
    id: `0194be1a-4f00-7abc-8def-${String(counter).padStart(12, "0")}`,
    seq: counter,
    subject_seq: 1,
    type,
    payload,
    context: { app_id: "acme-prod", timestamp: TS, triggered_by: "user", preferred_languages: [], language: "en", user_id: USER_ID, ...context },
  } as unknown as Envelope;
}

const change = (old_identity: object, new_identity: object) => ({ user: USER, old_identity, new_identity });
const FIXTURES: Record<string, Record<string, unknown>> = {
  "user.created": { user: USER, identities: [EMAIL_ID, GOOGLE_ID] },
  "user.profile.updated": { user: USER },
  "user.disabled": { user: { ...USER, is_disabled: true, disable_reason: "fraud" } },
  "user.reenabled": { user: USER },
  "user.anonymous.promoted": { anonymous_user: { id: USER_ID, is_anonymous: true }, user: USER, identities: [EMAIL_ID] },
  "user.deleted": { user: USER },
  "user.anonymized": { user: { id: USER_ID, is_anonymized: true, created_at: USER.created_at } },
  "identity.email.added": { user: USER, identity: EMAIL_ID },
  "identity.email.removed": { user: USER, identity: EMAIL_ID },
  "identity.email.updated": change(EMAIL_ID, { ...EMAIL_ID, claims: { email: "zoe@new.example" } }),
  "identity.phone.added": { user: USER, identity: PHONE_ID },
  "identity.phone.removed": { user: USER, identity: PHONE_ID },
  "identity.phone.updated": change(PHONE_ID, { ...PHONE_ID, claims: { phone_number: "+447700900123" } }),
  "identity.username.added": { user: USER, identity: USERNAME_ID },
  "identity.username.removed": { user: USER, identity: USERNAME_ID },
  "identity.username.updated": change(USERNAME_ID, { ...USERNAME_ID, claims: { preferred_username: "zoe" } }),
  "identity.oauth.connected": { user: USER, identity: GOOGLE_ID },
  "identity.oauth.disconnected": { user: USER, identity: GOOGLE_ID },
  "identity.biometric.enabled": { user: USER, identity: BIOMETRIC_ID },
  "identity.biometric.disabled": { user: USER, identity: BIOMETRIC_ID },
  "organization.created": { organization: ORG },
  "organization.updated": { organization: ORG },
  "organization.deleted": { organization: ORG },
  "organization.member.added": { organization: ORG, user: USER },
  "organization.member.deleted": { organization: ORG, user: USER },
  "organization.member.role.assigned": { organization: ORG, user: USER, role: ROLE },
  "organization.member.role.deleted": { organization: ORG, user: USER, role: ROLE },
  "organization.connection.added": { organization: ORG, connection: CONNECTION, assign_membership_on_login: true, show_as_button: false, is_signup_enabled: true },
  "organization.connection.updated": { organization: ORG, connection: CONNECTION, assign_membership_on_login: false, show_as_button: true },
  "organization.connection.removed": { organization: ORG, connection: CONNECTION, assign_membership_on_login: true },
};

const EXPECTED_TYPES: Record<string, Auth0EventType> = {
  "user.created": "user.created",
  "user.deleted": "user.deleted",
  "user.anonymized": "user.deleted",
  ...Object.fromEntries(
    ["user.profile.updated", "user.disabled", "user.reenabled", "user.anonymous.promoted"].concat(EVENT_TYPES.filter((t) => t.startsWith("identity."))).map((t) => [t, "user.updated" as const]),
  ),
  ...Object.fromEntries(EVENT_TYPES.filter((t) => t.startsWith("organization.")).map((t) => [t, t as Auth0EventType])),
};

const render = (type: string, payload = FIXTURES[type] ?? {}, context?: Record<string, unknown>) =>
  renderAuth0(envelope(type, payload, context), { streamId: "sub_webhook_crm" });
const objectOf = (r: Auth0Rendering) => {
  if (!r.ok) throw new Error(r.reason);
  return r.event.data.object as Record<string, any>;
};

// --- Tests ---------------------------------------------------------------------------------
describe("auth0TypeFor", () => {
  it("maps exactly the documented catalog types", () => {
    const mapped = Object.fromEntries(EVENT_TYPES.flatMap((t) => (auth0TypeFor(t) ? [[t, auth0TypeFor(t)]] : [])));
    expect(mapped).toEqual(EXPECTED_TYPES);
    expect(Object.keys(mapped).sort()).toEqual(Object.keys(FIXTURES).sort());
    expect(auth0TypeFor("constructor")).toBeUndefined();
  });
});

describe("renderAuth0 validates against Auth0's published schema", () => {
  for (const type of Object.keys(FIXTURES)) {
    it(`${type} → ${EXPECTED_TYPES[type]}`, () => {
      const r = render(type);
      expectValid(r);
      expect(r.type).toBe(EXPECTED_TYPES[type]);
      expect(r.headers).toEqual({ "content-type": "application/json" });
      expect(JSON.parse(r.body)).toEqual(r.event);
      expect(r.event).toMatchObject({ specversion: "1.0", type: EXPECTED_TYPES[type], source: "urn:authbus:acme-prod", time: TIME, a0tenant: "acme-prod" });
    });
  }

  it("uses a validator that does reject what Auth0 would (so the checks above can fail)", () => {
    const r = render("organization.member.role.assigned");
    if (!r.ok) throw new Error(r.reason);
    const validate = validatorFor(r.type);
    expect(validate({ ...r.event, dataschema: "urn:x" })).toBe(false);
    expect(validate({ ...r.event, id: "evt_short" })).toBe(false);
    expect(validate({ ...r.event, data: { object: { ...r.event.data.object, organization: { id: ORG.id, name: ORG.name } } } })).toBe(false);
    const u = render("user.created");
    if (!u.ok) throw new Error(u.reason);
    const identity = { connection: "google-oauth2", user_id: "1", provider: "google-oauth2", isSocial: false };
    expect(validatorFor("user.created")({ ...u.event, data: { object: { ...u.event.data.object, identities: [identity] } } })).toBe(false);
  });

  it("still validates when optional fields break Auth0's constraints (they are left out)", () => {
    const user = { id: USER_ID, standard_attributes: { preferred_username: "Zoë S", phone_number: "555-1234", name: "", picture: "not a uri", email: "nope" }, metadata: { blocked: true } };
    const r = render("user.profile.updated", { user });
    expectValid(r);
    expect(objectOf(r)).toEqual({ user_id: USER_ID, created_at: TIME, updated_at: TIME, identities: [], app_metadata: {} });
    const org = render("organization.created", { organization: { id: ORG.id, name: "Acme EU", branding: { logo_url: "x", colors: { primary: "#fff", accent: "#000" }, font: "Inter" } } });
    expectValid(org);
    expect(objectOf(org)).toEqual({ id: ORG.id, branding: { colors: { primary: "#fff" } } });
  });
});

describe("ids", () => {
  it("derives evt_ from the event id: the same on every render, different per event", () => {
    const env = envelope("user.created", FIXTURES["user.created"]!);
    const a = renderAuth0(env, { streamId: "s1" });
    const b = renderAuth0(env, { streamId: "s2" });
    const other = render("user.created");
    if (!a.ok || !b.ok || !other.ok) throw new Error("expected renderings");
    expect(a.event.id).toMatch(/^evt_[a-zA-Z0-9]{16}$/);
    expect(b.event.id).toBe(a.event.id);
    expect(renderAuth0(env, { streamId: "s1" })).toEqual(a);
    expect(other.event.id).not.toBe(a.event.id);
    expect(a.event.a0stream).toMatch(/^est_[a-zA-Z0-9]{16}$/);
    expect(b.event.a0stream).not.toBe(a.event.a0stream);
  });

  it("pins the derivation so replays after an upgrade keep their ids", () => {
    // Last 16 base62 digits of SHA-256 as a big-endian integer; checked independently in Python.
    expect(base62Digest("0194be1a-4f00-7abc-8def-0123456789ab")).toBe("RxZFjmFHvyA3EIgw");
    expect(base62Digest("x", 24)).toMatch(/^[0-9A-Za-z]{24}$/);
    expect(() => base62Digest("x", 0)).toThrow(RangeError);
  });

  it("refuses a missing stream id as programmer error", () => {
    expect(() => renderAuth0(envelope("user.created", FIXTURES["user.created"]!), { streamId: "" })).toThrow(TypeError);
  });
});

describe("not representable", () => {
  it("skips every type with no Auth0 equivalent, saying why", () => {
    const unmapped = EVENT_TYPES.filter((t) => !auth0TypeFor(t));
    expect(unmapped).toEqual(expect.arrayContaining(["user.authenticated", "authentication.primary.password.failed", "user.session.accessed", "auth.error", "user.pre_create"]));
    for (const type of unmapped) {
      const r = render(type, { user: USER, login_id: "zoe@example.com" });
      expect(r).toEqual({ ok: false, reason: expect.stringContaining(type) });
    }
  });

  it("reports a payload missing the object it needs", () => {
    expect(render("organization.member.role.assigned", { organization: ORG, user: USER })).toEqual({ ok: false, reason: expect.stringContaining("role.id") });
  });
});

describe("data.object", () => {
  it("shapes a user like seed 004's example", () => {
    const o = objectOf(render("user.created"));
    expect(o).toEqual({
      user_id: USER_ID, email: "zoe@example.com", email_verified: true, username: "zoe.smith", phone_number: "+15555555555", phone_verified: false,
      name: "Zoë Smith", given_name: "Zoë", family_name: "Smith", nickname: "zo", picture: USER.standard_attributes.picture,
      created_at: USER.created_at, updated_at: USER.updated_at,
      identities: [
        { connection: "Username-Password-Authentication", user_id: EMAIL_ID.id, provider: "auth0", isSocial: false, profileData: { email: "zoe@example.com" } },
        { connection: "google-oauth2", user_id: "109876543210", provider: "google-oauth2", isSocial: true, profileData: { email: "zoe@gmail.com", name: "Zoë Smith" } },
      ],
      user_metadata: { hobby: "skydiving" }, app_metadata: { plan: "pro" }, last_login: USER.last_login_at, blocked: false,
    });
  });

  it("maps identity kinds onto Auth0 providers", () => {
    const identity = (provider: string) => ({ ...GOOGLE_ID, claims: { "https://authgear.com/claims/oauth/provider_type": provider } });
    const first = (payload: Record<string, unknown>) => objectOf(render("identity.oauth.connected", payload)).identities[0];
    expect(first({ user: USER, identity: identity("github") })).toEqual({ connection: "github", user_id: GOOGLE_ID.id, provider: "github", isSocial: true });
    expect(first({ user: USER, identity: identity("wechat") })).toMatchObject({ connection: "oauth2", provider: "oauth2", isSocial: true });
    expect(objectOf(render("identity.biometric.enabled")).identities).toEqual([{ connection: "custom", user_id: BIOMETRIC_ID.id, provider: "custom", isSocial: false }]);
    expect(objectOf(render("identity.username.updated")).identities).toEqual([
      { connection: "Username-Password-Authentication", user_id: USERNAME_ID.id, provider: "auth0", isSocial: false, profileData: { username: "zoe" } },
    ]);
  });

  it("does not list a removed identity on the user, unless the user carries its own list", () => {
    expect(objectOf(render("identity.oauth.disconnected")).identities).toEqual([]);
    const withList = objectOf(render("identity.email.removed", { user: { ...USER, identities: [PHONE_ID] }, identity: EMAIL_ID }));
    expect(withList.identities.map((i: { user_id: string }) => i.user_id)).toEqual([PHONE_ID.id]);
  });

  it("sets blocked from disable / re-enable", () => {
    expect(objectOf(render("user.disabled")).blocked).toBe(true);
    expect(objectOf(render("user.reenabled", { user: { ...USER, is_disabled: true } })).blocked).toBe(false);
  });

  it("renders anonymisation as user.deleted with deleted_at and the required user fields", () => {
    const r = render("user.anonymized");
    expectValid(r);
    expect(r.type).toBe("user.deleted");
    expect(objectOf(r)).toEqual({ user_id: USER_ID, created_at: USER.created_at, updated_at: TIME, identities: [], deleted_at: TIME });
    expect(objectOf(render("user.deleted"))).toMatchObject({ email: "zoe@example.com", deleted_at: TIME });
  });

  it("shapes organization events per Auth0's schema", () => {
    expect(objectOf(render("organization.deleted"))).toEqual({ id: ORG.id, name: ORG.name, display_name: ORG.display_name, metadata: ORG.metadata });
    expect(objectOf(render("organization.member.added"))).toEqual({ organization: { id: ORG.id, name: ORG.name }, user: { user_id: USER_ID } });
    expect(objectOf(render("organization.member.role.deleted"))).toEqual({ organization: { id: ORG.id }, user: { user_id: USER_ID }, role: ROLE });
    expect(objectOf(render("organization.member.role.assigned", { organization: ORG, user: USER, role: { id: ROLE.id } })).role).toEqual({ id: ROLE.id, name: ROLE.id });
    expect(objectOf(render("organization.connection.added"))).toEqual({
      organization: { id: ORG.id, name: ORG.name }, connection: { id: CONNECTION.id }, assign_membership_on_login: true, show_as_button: false, is_signup_enabled: true,
    });
    expect(objectOf(render("organization.connection.removed"))).toEqual({ organization: { id: ORG.id, name: ORG.name }, connection: { id: CONNECTION.id } });
  });
});
