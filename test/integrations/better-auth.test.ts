/**
 * Better Auth 1.7 with authbusPlugin: real endpoints (auth.api and auth.handler), a real SQLite
 * database (better-sqlite3, migrated by Better Auth), a real OpenID provider on loopback for
 * social sign-in, a real Authbus on a temp file. No mocks.
 */
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { createAuthMiddleware } from "better-auth/api";
import { getMigrations } from "better-auth/db/migration";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import { jwt } from "better-auth/plugins/jwt";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { authbusJwtPayload, authbusPlugin, type AuthbusPluginOptions } from "../../src/integrations/better-auth/index.js";
import { tempDbPath, until } from "../helpers.js";
import { CookieJar } from "./cookie-jar.js";
import { startOidcServer, type OidcServer } from "./oidc-server.js";
import { eventsSince, mark, payloadOf, typesSince } from "./recorded.js";

const BASE = "http://127.0.0.1:3000";
const BROWSER = { "user-agent": "AuthbusTest/1.0", "accept-language": "de-CH, de;q=0.9", "x-forwarded-for": "198.51.100.9" };
const ADA = { email: "ada@example.com", password: "correct horse battery", name: "Ada" };

let op: OidcServer;
const buses: Authbus[] = [];
beforeAll(async () => {
  op = await startOidcServer([`${BASE}/api/auth/oauth2/callback/local`, `${BASE}/api/auth/callback/local`], { grace: { email: "grace@example.com", name: "Grace Hopper" } });
});
afterAll(() => op.close());
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

function newBus(): Authbus {
  const bus = createAuthbus({ database: tempDbPath(), app: "better-auth" });
  buses.push(bus);
  return bus;
}

async function setup(opts: { bus?: Authbus; plugin?: AuthbusPluginOptions } = {}) {
  const bus = opts.bus ?? newBus();
  const db = new Database(tempDbPath("app.db"));
  const own = { sessionCreated: 0, afterHooks: [] as string[] };
  const options = {
    baseURL: BASE,
    secret: "authbus-better-auth-test-secret-0123456789",
    database: db,
    user: { deleteUser: { enabled: true } },
    account: { accountLinking: { allowUnlinkingAll: true } },
    emailAndPassword: {
      enabled: true,
      // Fast hashing for tests (the default scrypt takes ~100 ms).
      password: { hash: async (p: string) => `plain:${p}`, verify: async ({ hash, password }: { hash: string; password: string }) => hash === `plain:${password}` },
    },
    databaseHooks: { session: { create: { after: async () => void own.sessionCreated++ } } },
    hooks: { after: createAuthMiddleware(async (ctx) => void own.afterHooks.push(ctx.path)) },
    plugins: [
      authbusPlugin(bus, { onError: () => {}, ...opts.plugin }),
      genericOAuth({ config: [{ providerId: "local", discoveryUrl: `${op.issuer}/.well-known/openid-configuration`, clientId: op.clientId, clientSecret: op.clientSecret, pkce: true, scopes: ["openid", "email", "profile"] }] }),
      jwt({ jwt: { definePayload: authbusJwtPayload(bus) } }),
    ],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const users = () => db.prepare("SELECT * FROM user").all() as Record<string, unknown>[];

  async function signIn(body = { email: ADA.email, password: ADA.password }) {
    const { headers } = await auth.api.signInEmail({ body, headers: new Headers(BROWSER), returnHeaders: true });
    return new Headers({ ...BROWSER, cookie: headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") });
  }
  async function signUp(body = ADA) {
    const { headers } = await auth.api.signUpEmail({ body, headers: new Headers(BROWSER), returnHeaders: true });
    return new Headers({ ...BROWSER, cookie: headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") });
  }
  /** Social sign-in over HTTP through the real OP; answers the final response and the browser's cookies. */
  async function signInWithOidc(login: string) {
    const jar = new CookieJar();
    const call = async (url: string, init: RequestInit = {}) => {
      const res = await auth.handler(new Request(url, { ...init, redirect: "manual", headers: { ...BROWSER, origin: BASE, ...(init.headers as Record<string, string>), cookie: jar.header() } }));
      jar.store(res);
      return res;
    };
    const start = await call(`${BASE}/api/auth/sign-in/social`, { method: "POST", body: JSON.stringify({ provider: "local", callbackURL: "/home" }), headers: { "content-type": "application/json" } });
    const { url } = (await start.json()) as { url: string };
    const back = await op.authorize(url, login);
    return { res: await call(back), headers: new Headers({ ...BROWSER, cookie: jar.header() }) };
  }
  return { bus, auth, db, users, own, signIn, signUp, signInWithOidc };
}

const events = (bus: Authbus) => bus.query({ limit: 1000 });
const types = async (bus: Authbus) => (await events(bus)).map((e) => e.type);

describe("Better Auth: e-mail and password", () => {
  it("sign-up records user.created with its login id, then user.authenticated with the session and request context", async () => {
    const { bus, db, signUp, users } = await setup();
    await signUp();
    const [row] = users();
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({
      user: { id: row!.id, standard_attributes: { email: ADA.email, name: ADA.name, email_verified: false } },
      identities: [{ type: "login_id", claims: { "https://authgear.com/claims/login_id/type": "email", "https://authgear.com/claims/login_id/value": ADA.email } }],
    });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: row!.id }, is_new_user: true, session: { type: "database", user_agent: "AuthbusTest/1.0" }, identity: { type: "login_id" } });
    expect(recorded[1]?.context).toMatchObject({ user_id: row!.id, ip_address: "198.51.100.9", user_agent: "AuthbusTest/1.0", preferred_languages: ["de-CH", "de"] });
    expect(recorded[0]?.context).toMatchObject({ user_id: row!.id, ip_address: "198.51.100.9", user_agent: "AuthbusTest/1.0" });
    expect(payloadOf(recorded[0]).identities).toHaveLength(1);
    const sessionRow = db.prepare("SELECT * FROM session").get() as Record<string, unknown>;
    expect(recorded[1]?.payload).toMatchObject({ session: { id: sessionRow.id, ip_address: "198.51.100.9" } });
    expect(JSON.stringify(recorded)).not.toMatch(/"token"|plain:/);
  });

  it("sign-in records user.authenticated; an unknown e-mail and a wrong password record different events behind the same answer", async () => {
    const { bus, auth, signUp, signIn, users } = await setup();
    await signUp();
    await signIn();
    const attempt = (body: { email: string; password: string }) => auth.api.signInEmail({ body, headers: new Headers(BROWSER) }).then(() => null, (e: { status: string; body: unknown }) => ({ status: e.status, body: e.body }));
    const wrong = await attempt({ email: ADA.email, password: "not the password" });
    const unknown = await attempt({ email: "eve@example.com", password: "not the password" });
    expect(wrong).toEqual(unknown);
    expect(wrong).toMatchObject({ status: "UNAUTHORIZED" });
    expect((await types(bus)).slice(0, 2)).toEqual(["user.created", "user.authenticated"]);
    const recorded = (await events(bus)).slice(2);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated", "authentication.primary.password.failed", "authentication.identity.login_id.failed"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: users()[0]!.id }, is_new_user: false });
    const created = (await events(bus))[0]?.payload as { identities: { id: string }[] };
    expect((recorded[0]?.payload as { identity: { id: string } }).identity.id).toBe(created.identities[0]?.id);
    expect(recorded[1]?.payload).toMatchObject({ user: { id: users()[0]!.id, standard_attributes: { email: ADA.email } } });
    expect(recorded[1]?.context).toMatchObject({ user_id: users()[0]!.id, ip_address: "198.51.100.9" });
    expect(recorded[2]?.payload).toEqual({ login_id: "eve@example.com" });
    expect(recorded[2]?.context).toMatchObject({ ip_address: "198.51.100.9", user_agent: "AuthbusTest/1.0" });
    expect(recorded[2]?.context.user_id).toBeUndefined();
    expect(recorded[0]?.payload).toMatchObject({ session: { type: "database" }, identity: { type: "login_id" } });
    expect(payloadOf(recorded[0]).session.id).not.toBe(payloadOf((await events(bus))[1]).session.id);
  });

  it("sign-out records user.signed_out for the signed-in session", async () => {
    const { bus, auth, signUp, users } = await setup();
    const headers = await signUp();
    await auth.api.signOut({ headers });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated", "user.signed_out"]);
    const session = (recorded[1]?.payload as { session: { id: string } }).session;
    expect(recorded[2]?.payload).toMatchObject({ user: { id: users()[0]!.id, standard_attributes: { email: ADA.email } }, sessions: [{ id: session.id, type: "database" }] });
    expect(payloadOf(recorded[2]).sessions).toHaveLength(1);
    expect(recorded[2]?.context).toMatchObject({ user_id: users()[0]!.id, ip_address: "198.51.100.9", user_agent: "AuthbusTest/1.0" });
  });

  it("update-user runs user.profile.pre_update (mutate, deny) and records user.profile.updated", async () => {
    const { bus, auth, signUp, users } = await setup();
    const headers = await signUp();
    const seq = await mark(bus);
    bus.hooks.add("user.profile.pre_update", (event) => {
      const sa = event.payload.user.standard_attributes ?? {};
      if (sa.name === "Mallory") return { is_allowed: false, title: "Name refused", reason: "Pick another name" };
      return { is_allowed: true, mutations: { user: { standard_attributes: { ...sa, name: `${sa.name} L.` } } } };
    });
    await auth.api.updateUser({ body: { name: "Ada Lovelace" }, headers });
    expect(users()[0]).toMatchObject({ name: "Ada Lovelace L." });
    await expect(auth.api.updateUser({ body: { name: "Mallory" }, headers })).rejects.toMatchObject({ status: "FORBIDDEN", body: { code: "hook_denied", message: "Name refused: Pick another name" } });
    expect(users()[0]).toMatchObject({ name: "Ada Lovelace L." });
    const updated = (await events(bus)).filter((e) => e.type === "user.profile.updated");
    expect(updated).toHaveLength(1);
    expect(updated[0]?.payload).toMatchObject({ user: { id: users()[0]!.id, standard_attributes: { name: "Ada Lovelace L." } } });
    const flow = await eventsSince(bus, seq);
    expect(flow.map((e) => e.type)).toEqual(["user.profile.updated", "auth.error"]);
    expect(flow[0]?.context).toMatchObject({ user_id: users()[0]!.id });
    expect(flow[1]?.payload).toMatchObject({ error: { name: "APIError", code: "hook_denied", message: "Name refused: Pick another name" } });
  });

  it("revoking sessions records user.session.terminated with the termination type", async () => {
    const { bus, auth, signUp, signIn } = await setup();
    const first = await signUp();
    await signIn();
    await signIn();
    const seq = await mark(bus);
    const listed = await auth.api.listSessions({ headers: first });
    const other = listed.find((s) => !first.get("cookie")!.includes(s.token))!;
    await auth.api.revokeSession({ headers: first, body: { token: other.token } });
    await auth.api.revokeOtherSessions({ headers: first });
    await signIn();
    await auth.api.revokeSessions({ headers: first });
    const terminated = (await events(bus)).filter((e) => e.type === "user.session.terminated").map((e) => e.payload as { termination_type: string; sessions: { id: string }[] });
    expect(terminated.map((t) => [t.termination_type, t.sessions.length])).toEqual([["individual", 1], ["all_except_current", 1], ["all", 2]]);
    expect(terminated[0]?.sessions[0]?.id).toBe(other.id);
    const flow = await eventsSince(bus, seq);
    expect(flow.map((e) => e.type)).toEqual(["user.session.terminated", "user.session.terminated", "user.authenticated", "user.session.terminated"]);
    const userId = String(payloadOf(flow[2]).user.id);
    for (const e of flow) expect(e.context).toMatchObject({ user_id: userId });
    expect(flow[0]?.payload).toMatchObject({ user: { id: userId }, termination_type: "individual", sessions: [{ id: other.id, type: "database" }] });
    const current = listed.find((s) => first.get("cookie")!.includes(s.token))!;
    const third = listed.find((s) => s.id !== other.id && s.id !== current.id)!;
    expect(flow[1]?.payload).toMatchObject({ termination_type: "all_except_current", sessions: [{ id: third.id }] });
    expect(new Set(payloadOf(flow[3]).sessions.map((x: { id: string }) => x.id))).toEqual(new Set([current.id, payloadOf(flow[2]).session.id]));
    expect(JSON.stringify(flow)).not.toContain(other.token);
  });

  it("delete-user records user.deleted with the full user", async () => {
    const { bus, auth, signUp, users } = await setup();
    const headers = await signUp();
    const id = users()[0]!.id;
    const seq = await mark(bus);
    await auth.api.deleteUser({ headers, body: { password: ADA.password } });
    expect(users()).toEqual([]);
    const last = (await events(bus)).at(-1);
    expect(last).toMatchObject({ type: "user.deleted", payload: { user: { id, standard_attributes: { email: ADA.email } } } });
    expect(await typesSince(bus, seq)).toEqual(["user.deleted"]);
    expect(last?.context).toMatchObject({ user_id: id, ip_address: "198.51.100.9" });
  });

  it("a denying user.pre_create hook refuses the sign-up (403 hook_denied) and leaves no user", async () => {
    const { bus, auth, users } = await setup();
    bus.hooks.add("user.pre_create", (event) => (event.payload.user.standard_attributes?.email?.endsWith("@example.com") ? { is_allowed: false, title: "Closed", reason: "No sign-ups" } : { is_allowed: true }));
    await expect(auth.api.signUpEmail({ body: ADA })).rejects.toMatchObject({ status: "FORBIDDEN", body: { code: "hook_denied" } });
    expect(users()).toEqual([]);
    expect(await types(bus)).toEqual(["auth.error"]);
    expect((await events(bus))[0]?.payload).toEqual({ error: { name: "APIError", message: "Closed: No sign-ups", code: "hook_denied" } });
  });

  it("user.pre_create mutations are stored", async () => {
    const { bus, signUp, users } = await setup();
    bus.hooks.add("user.pre_create", (event) => ({ is_allowed: true, mutations: { user: { standard_attributes: { ...event.payload.user.standard_attributes, name: "Countess Lovelace" } } } }));
    await signUp();
    expect(users()[0]).toMatchObject({ name: "Countess Lovelace" });
    expect((await events(bus))[0]?.payload).toMatchObject({ user: { standard_attributes: { name: "Countess Lovelace" } } });
    expect(await types(bus)).toEqual(["user.created", "user.authenticated"]);
    expect((await events(bus))[0]?.payload).toMatchObject({ user: { id: users()[0]!.id, standard_attributes: { email: ADA.email } }, identities: [{ type: "login_id" }] });
    expect((await events(bus))[1]?.payload).toMatchObject({ user: { id: users()[0]!.id, standard_attributes: { name: "Countess Lovelace" } }, is_new_user: true });
  });
});

describe("Better Auth: social sign-in (OIDC)", () => {
  it("first sign-in records user.created with the OAuth identity; unlinking records identity.oauth.disconnected", async () => {
    const { bus, auth, signInWithOidc, users } = await setup();
    const { res, headers } = await signInWithOidc("grace");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/home");
    const id = users()[0]!.id;
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({
      user: { id, standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } },
      identities: [{ type: "oauth", claims: { "https://authgear.com/claims/oauth/provider_type": "local", "https://authgear.com/claims/oauth/subject_id": "grace" } }],
    });
    expect(recorded[1]?.payload).toMatchObject({ is_new_user: true, identity: { type: "oauth", provider: "local", provider_account_id: "grace" } });
    expect(payloadOf(recorded[0]).identities).toHaveLength(1);
    for (const e of recorded) expect(e.context).toMatchObject({ user_id: id, ip_address: "198.51.100.9", user_agent: "AuthbusTest/1.0" });
    const firstSession = payloadOf(recorded[1]).session;
    expect(firstSession).toMatchObject({ type: "database" });
    let seq = await mark(bus);
    const again = await signInWithOidc("grace");
    expect(again.res.headers.get("location")).toBe("/home");
    expect((await events(bus)).at(-1)?.payload).toMatchObject({ is_new_user: false, user: { id } });
    // The returning user: only authenticated, with a new session; nothing created or linked.
    const second = await eventsSince(bus, seq);
    expect(second.map((e) => e.type)).toEqual(["user.authenticated"]);
    expect(second[0]?.payload).toMatchObject({ user: { id, standard_attributes: { email: "grace@example.com" } }, is_new_user: false, identity: { type: "oauth", provider: "local", provider_account_id: "grace" }, session: { type: "database" } });
    expect(payloadOf(second[0]).session.id).not.toBe(firstSession.id);
    expect(second[0]?.context).toMatchObject({ user_id: id, ip_address: "198.51.100.9" });
    expect(users()).toHaveLength(1);
    seq = await mark(bus);
    const [account] = await auth.api.listUserAccounts({ headers });
    await auth.api.unlinkAccount({ headers, body: { accountId: account!.id } });
    expect((await events(bus)).at(-1)).toMatchObject({ type: "identity.oauth.disconnected", payload: { user: { id }, identity: { provider: "local", provider_account_id: "grace" } } });
    expect(await typesSince(bus, seq)).toEqual(["identity.oauth.disconnected"]);
  });

  it("a denying user.pre_create hook sends the browser back with error=hook_denied and stores nobody", async () => {
    const { bus, signInWithOidc, users } = await setup();
    bus.hooks.add("user.pre_create", () => ({ is_allowed: false, reason: "closed" }));
    const { res } = await signInWithOidc("grace");
    expect(res.headers.get("location")).toContain("error=hook_denied");
    expect(users()).toEqual([]);
    await until(async () => (await types(bus)).includes("auth.error"));
    expect((await events(bus)).map((e) => e.type)).toEqual(["auth.error"]);
    expect((await events(bus))[0]?.payload).toMatchObject({ error: { name: "OAuthCallbackError", code: "hook_denied" } });
  });
});

describe("Better Auth: user handlers that throw", () => {
  it("a throwing durable handler breaks neither sign-up nor OIDC sign-in, nor the recording; other handlers go on", async () => {
    const { bus, signUp, signInWithOidc, users, own } = await setup();
    const broken: string[] = [];
    const healthy: string[] = [];
    bus.on("user.*", (e) => {
      broken.push(e.type);
      throw new Error("handler bug");
    }, { name: "broken" });
    bus.on("user.*", (e) => void healthy.push(e.type), { name: "healthy" });

    const headers = await signUp();
    expect(headers.get("cookie")).toContain("better-auth.session_token=");
    const { res } = await signInWithOidc("grace");
    expect(res.headers.get("location")).toBe("/home");
    expect(users()).toHaveLength(2);
    expect(own.sessionCreated).toBe(2);

    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated", "user.created", "user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { standard_attributes: { email: ADA.email } }, identities: [{ type: "login_id" }] });
    expect(recorded[2]?.payload).toMatchObject({ user: { standard_attributes: { email: "grace@example.com" } }, identities: [{ type: "oauth", provider: "local" }] });
    expect(recorded[3]?.payload).toMatchObject({ is_new_user: true, identity: { type: "oauth", provider_account_id: "grace" } });

    await until(() => healthy.length === 4);
    expect(healthy).toEqual(["user.created", "user.authenticated", "user.created", "user.authenticated"]);
    expect(broken[0]).toBe("user.created");
    expect(new Set(broken)).toEqual(new Set(["user.created"]));
  });
});

describe("Better Auth: JWT claims and resilience", () => {
  it("an oidc.jwt.pre_create hook's claims are in the jwt plugin's token; reserved claims keep their values", async () => {
    const { bus, auth, signUp, users } = await setup();
    const headers = await signUp();
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, "https://example.com/plan": "pro" } } } }));
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, sub: "admin" } } } }), { failOpen: true });
    const seq = await mark(bus);
    const { token } = await auth.api.getToken({ headers });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: users()[0]!.id, "https://example.com/plan": "pro", iss: BASE, aud: BASE });
    // Minting a token is no sign-in: nothing is recorded.
    expect(await typesSince(bus, seq)).toEqual([]);
    expect(await types(bus)).toEqual(["user.created", "user.authenticated"]);
  });

  it("with Authbus's database unavailable, sign-up and sign-in still succeed; the app's own hooks still run", async () => {
    const bus = newBus();
    await bus.close();
    const failures: unknown[] = [];
    const { signUp, signIn, users, own } = await setup({ bus, plugin: { onError: (e) => void failures.push(e) } });
    await signUp();
    const headers = await signIn();
    expect(headers.get("cookie")).toContain("better-auth.session_token=");
    expect(users()).toHaveLength(1);
    expect(own.sessionCreated).toBe(2);
    expect(own.afterHooks).toEqual(["/sign-up/email", "/sign-in/email"]);
    await until(() => failures.length >= 3);
    expect(failures[0]).toMatchObject({ code: "bus_closed" });
  });
});
