/**
 * A small valid payload for every catalog type: what `subscriptions.test()` sends, so a receiver
 * can be tried with the real shape of each type before real traffic arrives.
 */
import { CATALOG } from "./definitions.js";
import type { EventType, PayloadOf } from "./catalog.js";

const user = { id: "usr_test", standard_attributes: { email: "test.user@example.com", email_verified: true, name: "Test User" }, custom_attributes: {} };
const identity = { id: "idn_test", type: "login_id", claims: { email: "test.user@example.com", "https://authgear.com/claims/login_id/type": "email", "https://authgear.com/claims/login_id/value": "test.user@example.com" } };
const session = { id: "ses_test", type: "idp" };

const byProperty: Record<string, unknown> = {
  user,
  anonymous_user: { id: "usr_anonymous_test", is_anonymous: true },
  identities: [identity],
  identity,
  old_identity: identity,
  new_identity: { ...identity, id: "idn_test_new" },
  session,
  sessions: [session],
  termination_type: "individual",
  login_id: "test.user@example.com",
  organization: { id: "org_TestOrganizatio", name: "test-organization", display_name: "Test Organization" },
  role: { id: "rol_TestRole000000", name: "Tester" },
  connection: { id: "con_TestConnection0", name: "Username-Password-Authentication" },
  jwt: { payload: { iss: "https://auth.example.com", sub: "usr_test", aud: ["test-client"] } },
  error: { name: "TestError", message: "A test error" },
};

export function samplePayload<T extends EventType>(type: T): PayloadOf<T> {
  const schema = CATALOG[type].payload as unknown as { properties: Record<string, unknown>; required?: string[] };
  const out: Record<string, unknown> = {};
  for (const key of schema.required ?? []) out[key] = structuredClone(byProperty[key]);
  return out as PayloadOf<T>;
}
