/**
 * NextAuth v4 (next-auth 4.24) with withAuthbus: the real Pages Router API handler driven with
 * Node-style requests, Credentials and e-mail (magic link, captured instead of mailed) flows, a
 * real SQLite adapter and a real Authbus on a temp file. No mocks.
 */
import { createRequire } from "node:module";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { UnknownLoginIdError, WrongPasswordError, withAuthbus, type WithAuthbusOptions } from "../../src/integrations/nextauth-v4/index.js";
import { tempDbPath, until } from "../helpers.js";
import { BASE, V4Client } from "./nextauth-v4-driver.js";
import { createSqliteAdapter } from "./sqlite-adapter.js";

const SECRET = "authbus-nextauth-v4-test-secret-0123456789";
const ADA = { id: "cred_ada", email: "ada@example.com", name: "Ada", password: "correct horse" };

beforeAll(() => {
  process.env.NEXTAUTH_URL = `${BASE}/api/auth`;
});
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

function setup(opts: { bus?: Authbus; options?: WithAuthbusOptions } = {}) {
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
    providers: [credentials, email],
    events: { signIn: (m: unknown) => void userSignIns.push(m) },
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
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
  });

  it("sign-out records user.signed_out for the same session", async () => {
    const { bus, client } = setup();
    await client.post("/callback/credentials", { email: ADA.email, password: ADA.password });
    const token = await decodeSession(client);
    await client.post("/signout", {});
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    const out = (await events(bus)).find((e) => e.type === "user.signed_out");
    expect(out?.payload).toMatchObject({ user: { id: ADA.id }, sessions: [{ id: token?.sid, type: "jwt" }] });
  });

  it("an oidc.jwt.pre_create hook's claim is in the session JWT; a reserved claim keeps its value", async () => {
    const { bus, client } = setup();
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, tenant: "acme" } } } }));
    bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, sub: "root" } } } }), { failOpen: true });
    await client.post("/callback/credentials", { email: ADA.email, password: ADA.password });
    expect(await decodeSession(client)).toMatchObject({ sub: ADA.id, tenant: "acme" });
  });
});

describe("NextAuth v4: a denying oidc.jwt.pre_create hook", () => {
  it("issues no session: the e-mail flow redirects to an error page, Credentials fails the request", async () => {
    const { bus, client, signInWithEmail } = setup();
    bus.hooks.add("oidc.jwt.pre_create", () => ({ is_allowed: false }));
    const viaEmail = await signInWithEmail("grace@example.com");
    expect(viaEmail?.location).toContain("/error?error=Callback");
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
    await expect(client.post("/callback/credentials", { email: ADA.email, password: ADA.password })).rejects.toMatchObject({ name: "AuthbusAccessDenied", message: "AccessDenied" });
    expect(client.jar.get("next-auth.session-token")).toBeUndefined();
  });
});

describe("NextAuth v4: e-mail sign-up and hooks", () => {
  it("the first magic-link sign-in records user.created with the e-mail identity, then user.authenticated", async () => {
    const { bus, inspect, signInWithEmail, userSignIns } = setup();
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
  });

  it("a denying user.pre_create hook answers AccessDenied and leaves no user", async () => {
    const { bus, inspect, signInWithEmail } = setup();
    bus.hooks.add("user.pre_create", () => ({ is_allowed: false, title: "Closed" }));
    const res = await signInWithEmail("grace@example.com");
    expect(res?.location).toContain("error=AccessDenied");
    expect(inspect.users()).toEqual([]);
    expect((await events(bus)).filter((e) => e.type === "user.created")).toEqual([]);
  });

  it("user.pre_create mutations reach the stored user", async () => {
    const { bus, inspect, signInWithEmail } = setup();
    bus.hooks.add("user.pre_create", (event) => ({ is_allowed: true, mutations: { user: { standard_attributes: { ...event.payload.user.standard_attributes, name: "Grace" }, custom_attributes: { plan: "team" } } } }));
    await signInWithEmail("grace@example.com");
    expect(inspect.users()[0]).toMatchObject({ name: "Grace" });
    expect(JSON.parse(String(inspect.users()[0]!.extra))).toEqual({ plan: "team" });
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
