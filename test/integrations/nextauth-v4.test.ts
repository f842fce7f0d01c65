/**
 * NextAuth v4 (next-auth 4.24) with withAuthbus: the real Pages Router API handler driven with
 * Node-style requests, Credentials and e-mail (magic link, captured instead of mailed) flows, a
 * real SQLite adapter and a real Authbus on a temp file. No mocks.
 */
import { createRequire } from "node:module";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { UnknownLoginIdError, WrongPasswordError, withAuthbus, type WithAuthbusOptions } from "../../src/integrations/nextauth-v4/index.js";
import { tempDbPath, until } from "../helpers.js";
import { BASE, V4Client } from "./nextauth-v4-driver.js";
import { startOidcServer, type OidcServer } from "./oidc-server.js";
import { eventsSince, mark, payloadOf, typesSince } from "./recorded.js";
import { createSqliteAdapter } from "./sqlite-adapter.js";

const SECRET = "authbus-nextauth-v4-test-secret-0123456789";
const ADA = { id: "cred_ada", email: "ada@example.com", name: "Ada", password: "correct horse" };

let op: OidcServer;
beforeAll(async () => {
  process.env.NEXTAUTH_URL = `${BASE}/api/auth`;
  op = await startOidcServer([`${BASE}/api/auth/callback/local`], { grace: { email: "grace@example.com", name: "Grace Hopper" } });
});
afterAll(() => op.close());
const buses: Authbus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});
function newBus(): Authbus {
  const bus = createAuthbus({ database: tempDbPath(), app: "nextauth-v4" });
  buses.push(bus);
  return bus;
}

// next-auth is CommonJS. Its types are not imported: they pull in Next.js's global declarations.
type V4User = { id: string; email?: string; name?: string };
const require = createRequire(import.meta.url);
const CredentialsProvider = require("next-auth/providers/credentials").default as (o: { credentials: object; authorize: (c: Record<string, string> | undefined) => Promise<V4User | null> }) => object;
const { decode } = require("next-auth/jwt") as { decode: (p: { token: string | undefined; secret: string }) => Promise<Record<string, unknown> | null> };
type NextAuthOptions = Record<string, unknown>;
const credentials = CredentialsProvider({
  credentials: { email: { label: "E-mail" }, password: { label: "Password", type: "password" } },
  async authorize(c) {
    if (c?.email !== ADA.email) throw new UnknownLoginIdError();
    if (c.password !== ADA.password) throw new WrongPasswordError({ user: { id: ADA.id, email: ADA.email } });
    return { id: ADA.id, email: ADA.email, name: ADA.name };
  },
});

/** next-auth 4's generic OAuth provider on the local OP (openid-client 5 underneath), reading the ID token. */
function localOidc() {
  return {
    id: "local",
    name: "Local",
    type: "oauth" as const,
    wellKnown: `${op.issuer}/.well-known/openid-configuration`,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    profile: (p: { sub: string; name?: string; email?: string }) => ({ id: p.sub, name: p.name, email: p.email }),
  };
}

function setup(opts: { bus?: Authbus; options?: WithAuthbusOptions; config?: NextAuthOptions } = {}) {
  const bus = opts.bus ?? newBus();
  const { adapter, inspect } = createSqliteAdapter(tempDbPath("app.db"));
  const links: string[] = [];
  const userSignIns: unknown[] = [];
  // The e-mail provider without nodemailer: the link is captured instead of sent.
  const email = { id: "email", type: "email" as const, name: "Email", server: {}, from: "test@example.com", maxAge: 3600, options: {}, sendVerificationRequest: async ({ url }: { url: string }) => void links.push(url) };
  const base: NextAuthOptions = {
    secret: SECRET,
    adapter,
    session: { strategy: "jwt" },
    providers: [credentials, email, localOidc()],
    events: { signIn: (m: unknown) => void userSignIns.push(m) },
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
    ...opts.config,
  };
  const options = withAuthbus(base, bus, { onError: () => {}, ...opts.options });
  const client = new V4Client(options);
  async function signInWithEmail(address: string) {
    await client.post("/signin/email", { email: address });
    const link = links.pop();
    if (!link) return undefined;
    return client.request(link.replace(`${BASE}/api/auth`, ""));
  }
  return { bus, options, inspect, client, userSignIns, signInWithEmail };
}

const events = (bus: Authbus) => bus.query({ limit: 1000 });
const decodeSession = (client: V4Client) => decode({ token: client.jar.get("next-auth.session-token"), secret: SECRET });

describe("NextAuth v4: credentials", () => {
  it("sign-in records user.authenticated with the JWT session and request context; the app's events.signIn still fires", async () => {
    const { bus, client, userSignIns } = setup();
    const res = await client.post("/callback/credentials", { email: ADA.email, password: ADA.password });
    expect(res.location).toBe(`${BASE}/home`);
    const token = await decodeSession(client);
    const [event] = await events(bus);
    expect(event).toMatchObject({
      type: "user.authenticated",
      payload: { user: { id: ADA.id, standard_attributes: { email: ADA.email, name: "Ada" } }, session: { id: token?.sid, type: "jwt" }, identity: { type: "login_id" } },
      context: { user_id: ADA.id, ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24", preferred_languages: ["es", "en"] },
    });
    expect(userSignIns).toHaveLength(1);
    expect((await events(bus)).map((e) => e.type)).toEqual(["user.authenticated"]);
    expect(event?.payload).toMatchObject({ identity: { type: "login_id", provider: "credentials" } });
  });

  it("a wrong password and an unknown login id record different events but answer the same redirect", async () => {
    const { bus, client } = setup();
    const wrong = await client.post("/callback/credentials", { email: ADA.email, password: "nope" });
    const unknown = await client.post("/callback/credentials", { email: "eve@example.com", password: "nope" });
    expect(wrong.location).toBe(unknown.location);
    expect(wrong.location).toContain("error=CredentialsSignin");
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["authentication.primary.password.failed", "authentication.identity.login_id.failed"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: ADA.id } });
    expect(recorded[1]?.payload).toEqual({ login_id: "eve@example.com" });
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    expect(recorded[0]?.payload).toMatchObject({ user: { standard_attributes: { email: ADA.email } } });
    expect(recorded[0]?.context).toMatchObject({ user_id: ADA.id, ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24" });
    expect(recorded[1]?.context).toMatchObject({ ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24" });
    expect(recorded[1]?.context.user_id).toBeUndefined();
  });

  it("sign-out records user.signed_out for the same session", async () => {
    const { bus, client } = setup();
    await client.post("/callback/credentials", { email: ADA.email, password: ADA.password });
    const token = await decodeSession(client);
    await client.post("/signout", {});
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    const out = (await events(bus)).find((e) => e.type === "user.signed_out");
    expect(out?.payload).toMatchObject({ user: { id: ADA.id }, sessions: [{ id: token?.sid, type: "jwt" }] });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated", "user.signed_out"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: ADA.id }, session: { id: token?.sid, type: "jwt" } });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: ADA.id, standard_attributes: { email: ADA.email } }, token: { sub: ADA.id, sid: token?.sid } });
    expect(payloadOf(recorded[1]).sessions).toHaveLength(1);
    expect(recorded[1]?.context).toMatchObject({ user_id: ADA.id, ip_address: "192.0.2.44" });
  });

  it("an oidc.jwt.pre_create hook's claim is in the session JWT; a reserved claim keeps its value", async () => {
    const { bus, client } = setup();
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, tenant: "acme" } } } }));
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, sub: "root" } } } }), { failOpen: true });
    await client.post("/callback/credentials", { email: ADA.email, password: ADA.password });
    expect(await decodeSession(client)).toMatchObject({ sub: ADA.id, tenant: "acme" });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: ADA.id }, session: { id: (await decodeSession(client))?.sid, type: "jwt" } });
  });
});

describe("NextAuth v4: a denying oidc.jwt.pre_create hook", () => {
  it("issues no session: the e-mail flow redirects to an error page, Credentials fails the request", async () => {
    const { bus, client, inspect, signInWithEmail } = setup();
    bus.hooks.add("oidc.jwt.pre_create", () => ({ is_allowed: false }));
    const viaEmail = await signInWithEmail("grace@example.com");
    expect(viaEmail?.location).toContain("/error?error=Callback");
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    await expect(client.post("/callback/credentials", { email: ADA.email, password: ADA.password })).rejects.toMatchObject({ name: "AuthbusAccessDenied", message: "AccessDenied" });
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    // Next-auth stored the e-mail user before the token was refused: user.created (with its e-mail
    // identity) is recorded once the sign-in is given up on; the refusal was logged as auth.error.
    await until(async () => (await events(bus)).length === 2);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["auth.error", "user.created"]);
    expect(recorded[0]?.payload).toEqual({ error: { name: "CALLBACK_EMAIL_ERROR", message: "AccessDenied" } });
    expect(recorded[1]?.payload).toMatchObject({
      user: { id: inspect.users()[0]!.id, standard_attributes: { email: "grace@example.com", email_verified: true } },
      identities: [{ type: "login_id", claims: { "https://authgear.com/claims/login_id/value": "grace@example.com" } }],
    });
  });
});

describe("NextAuth v4: OIDC sign-in against a real OpenID provider", () => {
  it("the first sign-in records user.created with the OAuth identity, then user.authenticated; the second only user.authenticated", async () => {
    const { bus, options, client, inspect, userSignIns } = setup();
    const start = await mark(bus);
    const res = await client.signInWithOidc(op, "grace");
    expect(res.location).toBe(`${BASE}/home`);
    expect(client.jar.get("next-auth.session-token")).toBeTruthy();
    expect(inspect.users()).toHaveLength(1);
    const stored = inspect.users()[0]!;
    expect(stored).toMatchObject({ email: "grace@example.com", name: "Grace Hopper" });
    expect(inspect.accounts()).toEqual([expect.objectContaining({ provider: "local", providerAccountId: "grace", userId: stored.id, type: "oauth" })]);
    const first = await eventsSince(bus, start);
    expect(first.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(first[0]?.payload).toMatchObject({
      user: { id: stored.id, standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } },
      identities: [{ id: "local:grace", type: "oauth", claims: { "https://authgear.com/claims/oauth/provider_type": "local", "https://authgear.com/claims/oauth/subject_id": "grace", email: "grace@example.com" } }],
    });
    expect(payloadOf(first[0]).identities).toHaveLength(1);
    expect(first[0]?.context).toMatchObject({ user_id: stored.id, ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24" });
    const token = await decodeSession(client);
    expect(token?.sid).toEqual(expect.any(String));
    expect(first[1]?.payload).toMatchObject({ user: { id: stored.id, standard_attributes: { email: "grace@example.com" } }, is_new_user: true, identity: { id: "local:grace", type: "oauth" }, session: { id: token?.sid, type: "jwt" } });
    expect(first[1]?.context).toMatchObject({ user_id: stored.id, ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24", preferred_languages: ["es", "en"], triggered_by: "user" });
    expect(JSON.stringify(first)).not.toMatch(/access_token|id_token|refresh_token/);

    const again = new V4Client(options);
    const before = await mark(bus);
    expect((await again.signInWithOidc(op, "grace")).location).toBe(`${BASE}/home`);
    const second = await eventsSince(bus, before);
    expect(second.map((e) => e.type)).toEqual(["user.authenticated"]);
    const token2 = await decodeSession(again);
    expect(second[0]?.payload).toMatchObject({ user: { id: stored.id }, is_new_user: false, identity: { id: "local:grace", type: "oauth" }, session: { id: token2?.sid, type: "jwt" } });
    expect(token2?.sid).not.toBe(token?.sid);
    expect(inspect.users()).toHaveLength(1);
    expect(inspect.accounts()).toHaveLength(1);
    expect(userSignIns).toHaveLength(2);
  });
});

describe("NextAuth v4: database sessions", () => {
  it("OIDC sign-up, a session read and sign-out: exact events naming the session by its id, never its token", async () => {
    const { bus, client, inspect } = setup({ config: { session: { strategy: "database" } }, options: { sessionAccessed: true, onError: () => {} } });
    expect((await client.signInWithOidc(op, "grace")).location).toBe(`${BASE}/home`);
    const token = client.jar.get("next-auth.session-token")!;
    expect(inspect.sessions()).toEqual([expect.objectContaining({ sessionToken: token })]);
    const id = String(inspect.users()[0]!.id);
    let seq = 0;
    const signUp = await eventsSince(bus, seq);
    expect(signUp.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(signUp[1]?.payload).toMatchObject({ user: { id }, is_new_user: true, session: { type: "database" } });
    const sessionId = payloadOf(signUp[1]).session.id as string;

    seq = await mark(bus);
    expect(((await client.session()).body as { user?: unknown }).user).toEqual({ name: "Grace Hopper", email: "grace@example.com", image: null });
    const read = await eventsSince(bus, seq);
    expect(read.map((e) => e.type)).toEqual(["user.session.accessed"]);
    // next-auth 4 does not give callbacks.session the session token: the user only.
    expect(read[0]?.payload).toEqual({ user: expect.objectContaining({ id, standard_attributes: expect.objectContaining({ email: "grace@example.com" }) }) });

    seq = await mark(bus);
    await client.post("/signout", {});
    expect(inspect.sessions()).toEqual([]);
    const out = await eventsSince(bus, seq);
    expect(out.map((e) => e.type)).toEqual(["user.signed_out"]);
    expect(out[0]?.payload).toMatchObject({ user: { id, standard_attributes: { email: "grace@example.com" } }, sessions: [{ id: sessionId, type: "database" }] });
    expect(out[0]?.context).toMatchObject({ user_id: id, ip_address: "192.0.2.44" });
    expect(JSON.stringify(await eventsSince(bus, 0))).not.toContain(token);
  });
});

describe("NextAuth v4: OIDC sign-up hooks", () => {
  it("a denying user.pre_create hook answers AccessDenied and leaves no user, no account and no event", async () => {
    const { bus, client, inspect, userSignIns } = setup();
    const seen: unknown[] = [];
    bus.hooks.add("user.pre_create", (event) => {
      seen.push(event.payload);
      return { is_allowed: false, title: "Closed", reason: "Sign-ups are closed" };
    });
    const res = await client.signInWithOidc(op, "grace");
    expect(res.location).toContain("error=AccessDenied");
    expect(res.location).not.toContain("Closed");
    expect(inspect.users()).toEqual([]);
    expect(inspect.accounts()).toEqual([]);
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    expect(seen).toEqual([expect.objectContaining({ user: expect.objectContaining({ standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } }), identities: [expect.objectContaining({ id: "local:grace", type: "oauth" })] })]);
    expect(await events(bus)).toEqual([]);
    expect(userSignIns).toHaveLength(0);
  });
});

describe("NextAuth v4: user handlers that throw", () => {
  it("a throwing durable handler and throwing app events (createUser, linkAccount, signIn) break neither the OIDC sign-up nor the recording", async () => {
    const appEvents: string[] = [];
    const boom = (name: string) => () => {
      appEvents.push(name);
      throw new Error(`app bug in ${name}`);
    };
    const { bus, client, inspect } = setup({ config: { events: { createUser: boom("createUser"), linkAccount: boom("linkAccount"), signIn: boom("signIn") } } });
    const broken: string[] = [];
    const healthy: string[] = [];
    bus.on("user.*", (e) => {
      broken.push(e.type);
      throw new Error("handler bug");
    }, { name: "broken" });
    bus.on("user.*", (e) => void healthy.push(e.type), { name: "healthy" });

    const res = await client.signInWithOidc(op, "grace");
    expect(res.location).toBe(`${BASE}/home`);
    expect(client.jar.get("next-auth.session-token")).toBeTruthy();
    expect(appEvents).toEqual(["createUser", "linkAccount", "signIn"]);
    const id = String(inspect.users()[0]!.id);

    // next-auth logs each failing app event (CREATE_USER_EVENT_ERROR ...), which Authbus records as auth.error.
    await until(async () => (await events(bus)).length === 5);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["auth.error", "user.created", "auth.error", "user.authenticated", "auth.error"]);
    expect(recorded.filter((e) => e.type === "auth.error").map((e) => payloadOf(e).error)).toEqual([
      { name: "CREATE_USER_EVENT_ERROR", message: "app bug in createUser" },
      { name: "LINK_ACCOUNT_EVENT_ERROR", message: "app bug in linkAccount" },
      { name: "SIGN_IN_EVENT_ERROR", message: "app bug in signIn" },
    ]);
    expect(recorded[1]?.payload).toMatchObject({ user: { id, standard_attributes: { email: "grace@example.com" } }, identities: [{ id: "local:grace", type: "oauth" }] });
    expect(recorded[3]?.payload).toMatchObject({ user: { id }, is_new_user: true, session: { type: "jwt", id: (await decodeSession(client))?.sid } });

    await until(() => healthy.length === 2);
    expect(healthy).toEqual(["user.created", "user.authenticated"]);
    expect(broken[0]).toBe("user.created");
    expect(new Set(broken)).toEqual(new Set(["user.created"]));
  });
});

describe("NextAuth v4: e-mail sign-up and hooks", () => {
  it("the first magic-link sign-in records user.created with the e-mail identity, then user.authenticated", async () => {
    const { bus, client, inspect, signInWithEmail, userSignIns } = setup();
    const res = await signInWithEmail("grace@example.com");
    expect(res?.location).toBe(`${BASE}/home`);
    const [stored] = inspect.users();
    expect(stored).toMatchObject({ email: "grace@example.com" });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({
      user: { id: stored!.id, standard_attributes: { email: "grace@example.com", email_verified: true } },
      identities: [{ type: "login_id", claims: { "https://authgear.com/claims/login_id/value": "grace@example.com" } }],
    });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: stored!.id }, is_new_user: true });
    expect(userSignIns).toHaveLength(1);
    expect(payloadOf(recorded[0]).identities).toHaveLength(1);
    expect(recorded[1]?.payload).toMatchObject({ identity: { type: "login_id" }, session: { type: "jwt", id: (await decodeSession(client))?.sid } });
    for (const e of recorded) expect(e.context).toMatchObject({ user_id: stored!.id, ip_address: "192.0.2.44", user_agent: "AuthbusTest/4.24" });
  });

  it("a denying user.pre_create hook answers AccessDenied and leaves no user", async () => {
    const { bus, inspect, signInWithEmail } = setup();
    bus.hooks.add("user.pre_create", () => ({ is_allowed: false, title: "Closed" }));
    const res = await signInWithEmail("grace@example.com");
    expect(res?.location).toContain("error=AccessDenied");
    expect(inspect.users()).toEqual([]);
    expect((await events(bus)).filter((e) => e.type === "user.created")).toEqual([]);
    expect(await events(bus)).toEqual([]);
  });

  it("user.pre_create mutations reach the stored user", async () => {
    const { bus, inspect, signInWithEmail } = setup();
    bus.hooks.add("user.pre_create", (event) => ({ is_allowed: true, mutations: { user: { standard_attributes: { ...event.payload.user.standard_attributes, name: "Grace" }, custom_attributes: { plan: "team" } } } }));
    await signInWithEmail("grace@example.com");
    expect(inspect.users()[0]).toMatchObject({ name: "Grace" });
    expect(JSON.parse(String(inspect.users()[0]!.extra))).toEqual({ plan: "team" });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: inspect.users()[0]!.id, standard_attributes: { email: "grace@example.com", name: "Grace" }, custom_attributes: { plan: "team" } } });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: inspect.users()[0]!.id }, is_new_user: true });
  });
});

describe("NextAuth v4: resilience", () => {
  it("with Authbus's database unavailable, sign-in and sign-up still succeed", async () => {
    const bus = newBus();
    await bus.close();
    const failures: unknown[] = [];
    const { client, inspect, userSignIns, signInWithEmail } = setup({ bus, options: { onError: (e) => void failures.push(e) } });
    expect((await client.post("/callback/credentials", { email: ADA.email, password: ADA.password })).location).toBe(`${BASE}/home`);
    expect(client.jar.get("next-auth.session-token")).toBeTruthy();
    expect((await signInWithEmail("grace@example.com"))?.location).toBe(`${BASE}/home`);
    expect(inspect.users()).toHaveLength(1);
    expect(userSignIns).toHaveLength(2);
    await until(() => failures.length >= 3);
    expect(failures[0]).toMatchObject({ code: "bus_closed" });
  });
});
