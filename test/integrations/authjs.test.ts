/**
 * Auth.js (@auth/core 0.41) with withAuthbus: real Credentials and OIDC flows (a real OpenID
 * provider on loopback), a real SQLite adapter, a real Authbus on a temp file. No mocks.
 */
import type { AuthConfig } from "@auth/core";
import type { Adapter } from "@auth/core/adapters";
import Credentials from "@auth/core/providers/credentials";
import { decode } from "@auth/core/jwt";
import { CredentialsSignin } from "@auth/core/errors";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { UnknownLoginIdError, WrongPasswordError, withAuthbus, type WithAuthbusOptions } from "../../src/integrations/authjs/index.js";
import { tempDbPath, until } from "../helpers.js";
import { AuthjsClient, BASE } from "./authjs-driver.js";
import { startOidcServer, type OidcServer } from "./oidc-server.js";
import { eventsSince, mark, payloadOf, typesSince } from "./recorded.js";
import { createSqliteAdapter } from "./sqlite-adapter.js";

const SECRET = "authbus-authjs-test-secret-0123456789abcdef";
const PEOPLE: Record<string, { id: string; email: string; name: string; password: string }> = {
  "ada@example.com": { id: "cred_ada", email: "ada@example.com", name: "Ada", password: "correct horse" },
};

let op: OidcServer;
const buses: Authbus[] = [];
beforeAll(async () => {
  op = await startOidcServer([`${BASE}/auth/callback/local`], { grace: { email: "grace@example.com", name: "Grace Hopper" } });
});
afterAll(() => op.close());
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

function newBus(): Authbus {
  const bus = createAuthbus({ database: tempDbPath(), app: "authjs" });
  buses.push(bus);
  return bus;
}

const credentials = Credentials({
  credentials: { email: {}, password: {} },
  async authorize(c) {
    const person = PEOPLE[String(c.email)];
    if (!person) throw new UnknownLoginIdError();
    if (person.password !== c.password) throw new WrongPasswordError({ user: { id: person.id, email: person.email } });
    return { id: person.id, email: person.email, name: person.name };
  },
});

function setup(opts: { bus?: Authbus; options?: WithAuthbusOptions; strategy?: "jwt" | "database"; config?: Partial<AuthConfig> } = {}) {
  const bus = opts.bus ?? newBus();
  const { adapter, inspect } = createSqliteAdapter(tempDbPath("app.db"));
  const userSignIns: unknown[] = [];
  const oidc = { id: "local", name: "Local", type: "oidc" as const, issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret };
  const base: AuthConfig = {
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    adapter: adapter as unknown as Adapter,
    session: { strategy: opts.strategy ?? "jwt" },
    providers: opts.strategy === "database" ? [oidc] : [credentials, oidc],
    events: { signIn: (m) => void userSignIns.push(m) },
    logger: { error: () => {} },
    ...opts.config,
  };
  const config = withAuthbus(base, bus, { onError: () => {}, ...opts.options });
  return { bus, config, inspect, userSignIns, client: new AuthjsClient(config) };
}

const events = async (bus: Authbus) => bus.query({ limit: 1000 });
const types = async (bus: Authbus) => (await events(bus)).map((e) => e.type);
const sessionToken = (client: AuthjsClient) => client.jar.get("authjs.session-token");
const decodeSession = async (client: AuthjsClient) => decode({ token: sessionToken(client), secret: SECRET, salt: "authjs.session-token" });

describe("Auth.js: credentials", () => {
  it("sign-in records user.authenticated with the user, the JWT session and the request context; the app's events.signIn still fires", async () => {
    const { bus, client, userSignIns } = setup();
    const res = await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${BASE}/home`);
    expect(sessionToken(client)).toBeTruthy();
    const token = await decodeSession(client);
    expect(await types(bus)).toEqual(["user.authenticated"]);
    const [event] = await events(bus);
    expect(event?.type).toBe("user.authenticated");
    if (event?.type !== "user.authenticated") return;
    expect(event.payload.user).toMatchObject({ id: "cred_ada", standard_attributes: { email: "ada@example.com", name: "Ada" } });
    expect(event.payload.session).toEqual({ id: token?.sid, type: "jwt" });
    expect(event.payload.identity).toMatchObject({ type: "login_id", provider: "credentials" });
    expect(event.context).toMatchObject({ user_id: "cred_ada", ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0", preferred_languages: ["fr-CH", "fr", "en"], triggered_by: "user" });
    expect(userSignIns).toHaveLength(1);
    expect(userSignIns[0]).toMatchObject({ user: { id: "cred_ada" }, account: { provider: "credentials" } });
  });

  it("takes the request context from authorize's request when the app did not use runWithRequest", async () => {
    const { bus, config } = setup();
    const client = new AuthjsClient(config, { requestContext: false });
    await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect(await types(bus)).toEqual(["user.authenticated"]);
    const [event] = await events(bus);
    expect(event?.context).toMatchObject({ ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0" });
    expect(event?.payload).toMatchObject({ user: { id: "cred_ada" }, identity: { type: "login_id", provider: "credentials" } });
  });

  it("a wrong password and an unknown login id record different events but answer the same URL", async () => {
    const { bus, client, userSignIns } = setup();
    const wrong = await client.signInWithCredentials({ email: "ada@example.com", password: "nope" });
    const unknown = await client.signInWithCredentials({ email: "eve@example.com", password: "nope" });
    const url = (r: Response) => r.headers.get("location");
    expect(url(wrong)).toBe(url(unknown));
    expect(url(wrong)).toContain("error=CredentialsSignin");
    expect(url(wrong)).toContain("code=credentials");
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["authentication.primary.password.failed", "authentication.identity.login_id.failed"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: "cred_ada", standard_attributes: { email: "ada@example.com" } } });
    expect(recorded[0]?.context).toMatchObject({ user_id: "cred_ada", ip_address: "203.0.113.7" });
    expect(recorded[1]?.payload).toEqual({ login_id: "eve@example.com" });
    expect(recorded[1]?.context).toMatchObject({ ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0", triggered_by: "user" });
    expect(recorded[1]?.context.user_id).toBeUndefined();
    expect(sessionToken(client)).toBeUndefined();
    expect(userSignIns).toHaveLength(0);
  });

  it("an app's own CredentialsSignin keeps its code in the URL and is recorded as auth.error", async () => {
    class TotpRequired extends CredentialsSignin {
      override code = "totp_required";
    }
    const totp = Credentials({ credentials: { email: {} }, authorize: async () => { throw new TotpRequired(); } });
    const { bus, client } = setup({ config: { providers: [totp] } });
    const res = await client.signInWithCredentials({ email: "ada@example.com" });
    expect(res.headers.get("location")).toContain("code=totp_required");
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["auth.error"]);
    expect(recorded[0]?.payload).toMatchObject({ error: { name: "CredentialsSignin", code: "totp_required" } });
  });

  it("sign-out records user.signed_out for the same session", async () => {
    const { bus, client } = setup();
    await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    const token = await decodeSession(client);
    const res = await client.signOut();
    expect(res.status).toBe(302);
    expect(sessionToken(client)).toBeUndefined();
    const out = (await events(bus)).find((e) => e.type === "user.signed_out");
    expect(out?.payload).toMatchObject({ user: { id: "cred_ada" }, sessions: [{ id: token?.sid, type: "jwt" }] });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated", "user.signed_out"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: "cred_ada" }, session: { id: token?.sid, type: "jwt" } });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: "cred_ada", standard_attributes: { email: "ada@example.com" } }, token: { sub: "cred_ada", sid: token?.sid } });
    expect(payloadOf(recorded[1]).sessions).toHaveLength(1);
    expect(recorded[1]?.context).toMatchObject({ user_id: "cred_ada", ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0" });
  });

  it("records user.session.accessed only when asked to", async () => {
    const quiet = setup();
    await quiet.client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect((await quiet.client.session())?.user).toMatchObject({ email: "ada@example.com" });
    expect(await types(quiet.bus)).toEqual(["user.authenticated"]);

    const loud = setup({ options: { sessionAccessed: true, onError: () => {} } });
    await loud.client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    await loud.client.session();
    const accessed = (await events(loud.bus)).find((e) => e.type === "user.session.accessed");
    expect(accessed?.payload).toMatchObject({ user: { id: "cred_ada" }, session: { type: "jwt" }, token: { sub: "cred_ada" } });
    expect(await types(loud.bus)).toEqual(["user.authenticated", "user.session.accessed"]);
    const sid = (await decodeSession(loud.client))?.sid;
    expect(payloadOf((await events(loud.bus))[1]).session.id).toBe(sid);
  });

  it("a missing CSRF token is recorded as auth.error", async () => {
    const { bus, client } = setup();
    const res = await client.request("/auth/callback/credentials", { method: "POST", body: new URLSearchParams({ email: "ada@example.com" }), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.headers.get("location")).toContain("error=MissingCSRF");
    await until(async () => (await types(bus)).includes("auth.error"));
    expect((await events(bus))[0]?.payload).toMatchObject({ error: { name: "MissingCSRF" } });
    expect(await types(bus)).toEqual(["auth.error"]);
    expect(payloadOf((await events(bus))[0]).error.message).toEqual(expect.any(String));
  });
});

describe("Auth.js: OIDC sign-up and hooks", () => {
  it("first sign-in records user.created with its OIDC identity, then user.authenticated; the next sign-in only user.authenticated", async () => {
    const { bus, client, inspect, userSignIns } = setup();
    const res = await client.signInWithOidc(op, "grace");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${BASE}/home`);
    const [stored] = inspect.users();
    expect(stored).toMatchObject({ email: "grace@example.com", name: "Grace Hopper" });
    const first = await events(bus);
    expect(first.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    const created = first[0]!;
    expect(created.payload).toMatchObject({
      user: { id: stored!.id, standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } },
      identities: [{ id: "local:grace", type: "oauth", claims: { "https://authgear.com/claims/oauth/provider_type": "local", "https://authgear.com/claims/oauth/subject_id": "grace", email: "grace@example.com" } }],
    });
    expect(first[1]?.payload).toMatchObject({ user: { id: stored!.id }, is_new_user: true, identity: { type: "oauth" }, session: { type: "jwt" } });
    expect(JSON.stringify(first)).not.toMatch(/access_token|id_token/);

    const again = new AuthjsClient(client["config"]);
    await again.signInWithOidc(op, "grace");
    expect(await types(bus)).toEqual(["user.created", "user.authenticated", "user.authenticated"]);
    expect((await events(bus))[2]?.payload).toMatchObject({ user: { id: stored!.id }, is_new_user: false });
    expect(userSignIns).toHaveLength(2);
    expect(payloadOf(first[0]).identities).toHaveLength(1);
    for (const e of first) expect(e.context).toMatchObject({ user_id: stored!.id, ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0" });
    expect(payloadOf(first[1]).session.id).toBe((await decodeSession(client))?.sid);
    const second = (await events(bus))[2]!;
    expect(second.payload).toMatchObject({ identity: { id: "local:grace", type: "oauth" }, session: { id: (await decodeSession(again))?.sid, type: "jwt" } });
    expect(inspect.users()).toHaveLength(1);
  });

  it("takes the request context from the `request` option (NextAuth v5 lazy initialisation)", async () => {
    const request = new Request(`${BASE}/auth/callback/local`, { headers: { "x-forwarded-for": "192.0.2.1", "user-agent": "LazyInit/5" } });
    const { bus, config } = setup({ options: { request, onError: () => {} } });
    await new AuthjsClient(config, { requestContext: false }).signInWithOidc(op, "grace");
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    for (const e of recorded) expect(e.context).toMatchObject({ ip_address: "192.0.2.1", user_agent: "LazyInit/5" });
  });

  it("a denying user.pre_create hook answers AccessDenied and leaves no user, account or event", async () => {
    const { bus, client, inspect, userSignIns } = setup();
    const seen: unknown[] = [];
    bus.hooks.add("user.pre_create", (event) => {
      seen.push(event.payload);
      return { is_allowed: false, title: "Closed", reason: "Sign-ups are closed" };
    });
    const res = await client.signInWithOidc(op, "grace");
    expect(res.headers.get("location")).toContain("error=AccessDenied");
    expect(res.headers.get("location")).not.toContain("Closed");
    expect(inspect.users()).toEqual([]);
    expect(inspect.accounts()).toEqual([]);
    expect(sessionToken(client)).toBeUndefined();
    expect(seen).toEqual([expect.objectContaining({ user: expect.objectContaining({ standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } }), identities: [expect.objectContaining({ type: "oauth", id: "local:grace" })] })]);
    expect((await bus.decisions.query({ type: "user.pre_create" }))[0]).toMatchObject({ decision: "deny", title: "Closed" });
    await until(async () => (await types(bus)).includes("auth.error"));
    expect(await types(bus)).toEqual(["auth.error"]);
    expect(userSignIns).toHaveLength(0);
    expect((await events(bus))[0]?.payload).toMatchObject({ error: { name: "AccessDenied" } });
    expect(JSON.stringify(await events(bus))).not.toContain("Sign-ups are closed");
  });

  it("user.pre_create mutations reach the stored user; returning users do not run the hook", async () => {
    const { bus, client, inspect } = setup();
    let calls = 0;
    bus.hooks.add("user.pre_create", (event) => {
      calls++;
      const sa = event.payload.user.standard_attributes ?? {};
      return { is_allowed: true, mutations: { user: { standard_attributes: { ...sa, name: "Rear Admiral Hopper" }, custom_attributes: { plan: "trial" } } } };
    });
    await client.signInWithOidc(op, "grace");
    const [stored] = inspect.users();
    expect(stored).toMatchObject({ name: "Rear Admiral Hopper", email: "grace@example.com" });
    expect(JSON.parse(String(stored!.extra))).toEqual({ plan: "trial" });
    const created = (await events(bus)).find((e) => e.type === "user.created");
    expect(created?.payload).toMatchObject({ user: { standard_attributes: { name: "Rear Admiral Hopper" }, custom_attributes: { plan: "trial" } } });
    expect(await types(bus)).toEqual(["user.created", "user.authenticated"]);
    expect(created?.payload).toMatchObject({ user: { id: stored!.id, standard_attributes: { email: "grace@example.com" } }, identities: [{ id: "local:grace", type: "oauth" }] });
    expect((await events(bus))[1]?.payload).toMatchObject({ user: { id: stored!.id, standard_attributes: { name: "Rear Admiral Hopper" } }, is_new_user: true });
    const seq = await mark(bus);
    await new AuthjsClient(client["config"]).signInWithOidc(op, "grace");
    expect(calls).toBe(1);
    expect(await typesSince(bus, seq)).toEqual(["user.authenticated"]);
    expect(payloadOf((await eventsSince(bus, seq))[0])).toMatchObject({ user: { id: stored!.id }, is_new_user: false });
  });

  it("an oidc.jwt.pre_create hook's claims are in the issued session JWT; reserved claims keep their values", async () => {
    const { bus, client } = setup();
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, "https://example.com/roles": ["admin"] } } } }));
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, sub: "someone-else" } } } }), { failOpen: true, name: "sub-thief" });
    await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    const token = await decodeSession(client);
    expect(token).toMatchObject({ sub: "cred_ada", email: "ada@example.com", "https://example.com/roles": ["admin"] });
    const [decision] = await bus.decisions.query({ type: "oidc.jwt.pre_create" });
    expect(decision?.hooks.find((h) => h.hook_id === "sub-thief")).toMatchObject({ outcome: "error", fail_open: true });
    // The claim stays on later refreshes of the session.
    await client.session();
    expect(await decodeSession(client)).toMatchObject({ "https://example.com/roles": ["admin"] });
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: "cred_ada" }, session: { id: token?.sid, type: "jwt" } });
  });

  it("a denying oidc.jwt.pre_create hook fails the sign-in with AccessDenied", async () => {
    const { bus, client } = setup();
    bus.hooks.add("oidc.jwt.pre_create", () => ({ is_allowed: false, reason: "no tokens today" }));
    const res = await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect(res.headers.get("location")).toContain("error=AccessDenied");
    expect(sessionToken(client)).toBeUndefined();
    await until(async () => (await types(bus)).length > 0);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["auth.error"]);
    expect(recorded[0]?.payload).toMatchObject({ error: { name: "AccessDenied" } });
  });
});

describe("Auth.js: resilience", () => {
  it("with Authbus's database unavailable, sign-in and sign-up still succeed and the failure is reported", async () => {
    const bus = newBus();
    await bus.close();
    const failures: unknown[] = [];
    const { client, inspect, userSignIns } = setup({ bus, options: { onError: (e) => void failures.push(e) } });
    const res = await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect(res.headers.get("location")).toBe(`${BASE}/home`);
    expect(sessionToken(client)).toBeTruthy();
    const oidc = new AuthjsClient(client["config"]);
    expect((await oidc.signInWithOidc(op, "grace")).headers.get("location")).toBe(`${BASE}/home`);
    expect(inspect.users()).toHaveLength(1);
    expect(userSignIns).toHaveLength(2);
    await until(() => failures.length >= 3);
    expect(failures[0]).toMatchObject({ code: "bus_closed" });
  });

  it("a throwing app events.signIn does not stop Authbus from recording", async () => {
    const { bus, client } = setup({ config: { events: { signIn: () => { throw new Error("app bug"); } } } });
    const res = await client.signInWithCredentials({ email: "ada@example.com", password: "correct horse" });
    expect(res.headers.get("location")).toBe(`${BASE}/home`);
    // Recorded before the response; the auth.error below may or may not be in yet.
    expect((await types(bus))[0]).toBe("user.authenticated");
    // Auth.js then logs the app's failure (EventError) through the logger, recorded as auth.error.
    await until(async () => (await types(bus)).length === 2);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.authenticated", "auth.error"]);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: "cred_ada" }, session: { id: (await decodeSession(client))?.sid, type: "jwt" } });
    expect(recorded[1]?.payload).toMatchObject({ error: { name: "EventError" } });
  });
});

describe("Auth.js: user handlers that throw", () => {
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
    expect(res.headers.get("location")).toBe(`${BASE}/home`);
    expect(sessionToken(client)).toBeTruthy();
    expect(inspect.users()).toHaveLength(1);
    expect(appEvents).toEqual(["createUser", "linkAccount", "signIn"]);
    const id = String(inspect.users()[0]!.id);

    // Auth.js logs each failing app event as an EventError, which Authbus records as auth.error.
    await until(async () => (await types(bus)).length === 5);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["auth.error", "user.created", "auth.error", "user.authenticated", "auth.error"]);
    for (const i of [0, 2, 4]) expect(recorded[i]?.payload).toMatchObject({ error: { name: "EventError" } });
    expect(recorded[1]?.payload).toMatchObject({ user: { id, standard_attributes: { email: "grace@example.com" } }, identities: [{ id: "local:grace", type: "oauth" }] });
    expect(recorded[3]?.payload).toMatchObject({ user: { id }, is_new_user: true, session: { type: "jwt", id: (await decodeSession(client))?.sid } });

    // The broken handler is retried on its first event; the other handler is not held up by it.
    await until(() => healthy.length === 2);
    expect(healthy).toEqual(["user.created", "user.authenticated"]);
    expect(broken[0]).toBe("user.created");
    expect(new Set(broken)).toEqual(new Set(["user.created"]));
  });
});

describe("Auth.js: adapter operations and database sessions", () => {
  it("updateUser runs user.profile.pre_update and records user.profile.updated; unlinkAccount and deleteUser are recorded", async () => {
    const { bus, client, config, inspect } = setup();
    await client.signInWithOidc(op, "grace");
    const id = String(inspect.users()[0]!.id);
    bus.hooks.add("user.profile.pre_update", (event) => {
      const sa = event.payload.user.standard_attributes ?? {};
      if (sa.name === "forbidden") return { is_allowed: false, reason: "no" };
      return { is_allowed: true, mutations: { user: { standard_attributes: { ...sa, name: `${sa.name} (checked)` } } } };
    });
    const adapter = config.adapter!;
    await adapter.updateUser!({ id, name: "Grace B. Hopper" });
    expect(inspect.users()[0]).toMatchObject({ name: "Grace B. Hopper (checked)" });
    await expect(adapter.updateUser!({ id, name: "forbidden" })).rejects.toMatchObject({ code: "hook_denied" });
    expect(inspect.users()[0]).toMatchObject({ name: "Grace B. Hopper (checked)" });
    await adapter.unlinkAccount!({ provider: "local", providerAccountId: "grace" });
    await adapter.deleteUser!(id);
    expect(inspect.users()).toEqual([]);
    expect((await types(bus)).slice(0, 2)).toEqual(["user.created", "user.authenticated"]);
    const tail = (await events(bus)).slice(2);
    expect(tail.map((e) => e.type)).toEqual(["user.profile.updated", "identity.oauth.disconnected", "user.deleted"]);
    expect(tail[0]?.payload).toMatchObject({ user: { id, standard_attributes: { name: "Grace B. Hopper (checked)" } } });
    expect(tail[1]?.payload).toMatchObject({ user: { id }, identity: { type: "oauth", id: "local:grace" } });
    expect(tail[2]?.payload).toMatchObject({ user: { id, standard_attributes: { email: "grace@example.com" } } });
    expect(tail.map((e) => e.context.user_id)).toEqual([id, id, id]);
  });

  it("database sessions: sign-in and sign-out refer to the same session id, never to the token", async () => {
    const { bus, client, inspect } = setup({ strategy: "database" });
    await client.signInWithOidc(op, "grace");
    const token = sessionToken(client)!;
    expect(inspect.sessions()).toHaveLength(1);
    await client.signOut();
    expect(inspect.sessions()).toHaveLength(0);
    const recorded = await events(bus);
    expect(recorded.map((e) => e.type)).toEqual(["user.created", "user.authenticated", "user.signed_out"]);
    const sessionId = (recorded[1]?.payload as { session: { id: string; type: string } }).session;
    expect(sessionId.type).toBe("database");
    expect(recorded[2]?.payload).toMatchObject({ user: { id: inspect.users()[0]!.id }, sessions: [{ id: sessionId.id, type: "database" }] });
    expect(JSON.stringify(recorded)).not.toContain(token);
    expect(recorded[0]?.payload).toMatchObject({ user: { id: inspect.users()[0]!.id }, identities: [{ id: "local:grace", type: "oauth" }] });
    expect(recorded[1]?.payload).toMatchObject({ user: { id: inspect.users()[0]!.id }, is_new_user: true, identity: { id: "local:grace" } });
    expect(sessionId.id).not.toBe(token);
  });
});
