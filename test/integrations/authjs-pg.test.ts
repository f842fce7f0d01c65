/**
 * Auth.js (@auth/core 0.41) with withAuthbus on a real database adapter, @auth/pg-adapter on the
 * local PostgreSQL, and the database session strategy: OIDC sign-up, sign-in and sign-out through
 * a real OpenID provider on loopback. Each test gets its own schema with the adapter's tables.
 */
import type { AuthConfig } from "@auth/core";
import type { Adapter } from "@auth/core/adapters";
import PostgresAdapter from "@auth/pg-adapter";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, type Authbus } from "../../src/index.js";
import { withAuthbus, type WithAuthbusOptions } from "../../src/integrations/authjs/index.js";
import { tempDbPath, until } from "../helpers.js";
import { dropSchema, PG_URL, uniqueSchema } from "../stores/pg-helpers.js";
import { AuthjsClient, BASE } from "./authjs-driver.js";
import { startOidcServer, type OidcServer } from "./oidc-server.js";
import { eventsSince, mark, payloadOf } from "./recorded.js";

const SECRET = "authbus-authjs-pg-test-secret-0123456789abcdef";

// The adapter's schema, as its documentation gives it (authjs.dev, "PostgreSQL" adapter).
const TABLES = `
  CREATE TABLE verification_token (identifier TEXT NOT NULL, expires TIMESTAMPTZ NOT NULL, token TEXT NOT NULL, PRIMARY KEY (identifier, token));
  CREATE TABLE accounts (id SERIAL, "userId" INTEGER NOT NULL, type VARCHAR(255) NOT NULL, provider VARCHAR(255) NOT NULL,
    "providerAccountId" VARCHAR(255) NOT NULL, refresh_token TEXT, access_token TEXT, expires_at BIGINT, id_token TEXT,
    scope TEXT, session_state TEXT, token_type TEXT, PRIMARY KEY (id));
  CREATE TABLE sessions (id SERIAL, "userId" INTEGER NOT NULL, expires TIMESTAMPTZ NOT NULL, "sessionToken" VARCHAR(255) NOT NULL, PRIMARY KEY (id));
  CREATE TABLE users (id SERIAL, name VARCHAR(255), email VARCHAR(255), "emailVerified" TIMESTAMPTZ, image TEXT, PRIMARY KEY (id));
`;

let op: OidcServer;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  op = await startOidcServer([`${BASE}/auth/callback/local`], { grace: { email: "grace@example.com", name: "Grace Hopper" } });
});
afterAll(() => op.close());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `syncDeletes`: the adapter's deleteSession returns only once two deletions are done, as two sign-outs finishing together. */
async function setup(opts: { syncDeletes?: boolean; options?: WithAuthbusOptions } = {}) {
  const schema = uniqueSchema("authjs_pg");
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  cleanups.push(() => dropSchema(schema));
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, options: `-c search_path="${schema}"` });
  cleanups.push(() => pool.end());
  await pool.query(TABLES);
  const bus = createAuthbus({ database: tempDbPath(), app: "authjs-pg" });
  cleanups.push(() => bus.close());
  const oidc = { id: "local", name: "Local", type: "oidc" as const, issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret };
  const adapter = PostgresAdapter(pool);
  if (opts.syncDeletes) {
    const deleteSession = adapter.deleteSession!;
    let arrived = 0;
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    // Returns nothing, as @auth/pg-adapter's own deleteSession does.
    adapter.deleteSession = async (token: string) => {
      await deleteSession(token);
      if (++arrived === 2) release();
      await both;
    };
  }
  const base: AuthConfig = {
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    adapter: adapter as Adapter,
    session: { strategy: "database" },
    providers: [oidc],
    logger: { error: () => {} },
  };
  const config = withAuthbus(base, bus, { onError: () => {}, ...opts.options });
  const rows = async (table: string) => (await pool.query(`SELECT * FROM ${table} ORDER BY id`)).rows as Record<string, unknown>[];
  return { bus, config, rows };
}

const sessionToken = (client: AuthjsClient) => client.jar.get("authjs.session-token");

describe("Auth.js on @auth/pg-adapter with database sessions", () => {
  it("OIDC sign-up, a second sign-in and both sign-outs: exact events, all naming the session by its id, never its token", async () => {
    const { bus, config, rows } = await setup();

    const first = new AuthjsClient(config);
    let seq = await mark(bus);
    expect((await first.signInWithOidc(op, "grace")).headers.get("location")).toBe(`${BASE}/home`);
    const token1 = sessionToken(first)!;
    expect(token1).toBeTruthy();
    const [user] = await rows("users");
    expect(user).toMatchObject({ name: "Grace Hopper", email: "grace@example.com" });
    const userId = String(user!.id);
    expect(await rows("accounts")).toEqual([expect.objectContaining({ provider: "local", providerAccountId: "grace", type: "oidc", userId: user!.id })]);
    const [session1] = await rows("sessions");
    expect(session1).toMatchObject({ sessionToken: token1, userId: user!.id });

    const signUp = await eventsSince(bus, seq);
    expect(signUp.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(signUp[0]?.payload).toMatchObject({
      user: { id: userId, standard_attributes: { email: "grace@example.com", name: "Grace Hopper" } },
      identities: [{ id: "local:grace", type: "oauth", claims: { "https://authgear.com/claims/oauth/provider_type": "local", "https://authgear.com/claims/oauth/subject_id": "grace" } }],
    });
    expect(payloadOf(signUp[0]).identities).toHaveLength(1);
    const authenticated1 = payloadOf(signUp[1]);
    expect(authenticated1).toMatchObject({ user: { id: userId }, is_new_user: true, identity: { id: "local:grace", type: "oauth" }, session: { type: "database", expires_at: (session1!.expires as Date).toISOString() } });
    const sessionId1 = authenticated1.session.id as string;
    expect(sessionId1).toMatch(/^[0-9a-f]{32}$/);
    expect(sessionId1).not.toBe(token1);
    for (const e of signUp) expect(e.context).toMatchObject({ user_id: userId, ip_address: "203.0.113.7", user_agent: "AuthbusTest/1.0" });

    const second = new AuthjsClient(config);
    seq = await mark(bus);
    expect((await second.signInWithOidc(op, "grace")).headers.get("location")).toBe(`${BASE}/home`);
    const token2 = sessionToken(second)!;
    const signIn = await eventsSince(bus, seq);
    expect(signIn.map((e) => e.type)).toEqual(["user.authenticated"]);
    expect(signIn[0]?.payload).toMatchObject({ user: { id: userId }, is_new_user: false, identity: { id: "local:grace", type: "oauth" }, session: { type: "database" } });
    const sessionId2 = payloadOf(signIn[0]).session.id as string;
    expect(sessionId2).not.toBe(sessionId1);
    expect(await rows("users")).toHaveLength(1);
    expect(await rows("sessions")).toHaveLength(2);

    // The first browser signs out: its session, not the other one.
    seq = await mark(bus);
    expect((await first.signOut()).status).toBe(302);
    expect(sessionToken(first)).toBeUndefined();
    expect((await rows("sessions")).map((s) => s.sessionToken)).toEqual([token2]);
    const out1 = await eventsSince(bus, seq);
    expect(out1.map((e) => e.type)).toEqual(["user.signed_out"]);
    expect(out1[0]?.payload).toMatchObject({ user: { id: userId, standard_attributes: { email: "grace@example.com" } }, sessions: [{ id: sessionId1, type: "database" }] });
    expect(payloadOf(out1[0]).sessions).toHaveLength(1);
    expect(out1[0]?.context).toMatchObject({ user_id: userId, ip_address: "203.0.113.7" });

    expect((await second.session())?.user).toMatchObject({ email: "grace@example.com" });
    seq = await mark(bus);
    await second.signOut();
    expect(await rows("sessions")).toEqual([]);
    const out2 = await eventsSince(bus, seq);
    expect(out2.map((e) => e.type)).toEqual(["user.signed_out"]);
    expect(out2[0]?.payload).toMatchObject({ user: { id: userId }, sessions: [{ id: sessionId2, type: "database" }] });

    const everything = JSON.stringify(await eventsSince(bus, 0));
    expect(everything).not.toContain(token1);
    expect(everything).not.toContain(token2);
    expect(everything).not.toMatch(/access_token|id_token|refresh_token|sessionToken/);
  });

  it("a denying user.pre_create hook leaves no row in any table; a mutation reaches the stored user", async () => {
    const { bus, config, rows } = await setup();
    const deny = bus.hooks.add("user.pre_create", () => ({ is_allowed: false, title: "Closed" }));
    let seq = await mark(bus);
    const denied = new AuthjsClient(config);
    expect((await denied.signInWithOidc(op, "grace")).headers.get("location")).toContain("error=AccessDenied");
    for (const table of ["users", "accounts", "sessions"]) expect(await rows(table)).toEqual([]);
    expect(sessionToken(denied)).toBeUndefined();
    // Auth.js reports the AccessDenied through its logger, which cannot wait for the write.
    await until(async () => (await eventsSince(bus, seq)).length > 0);
    const refused = await eventsSince(bus, seq);
    expect(refused.map((e) => e.type)).toEqual(["auth.error"]);
    expect(refused[0]?.payload).toMatchObject({ error: { name: "AccessDenied" } });

    bus.hooks.remove(deny);
    bus.hooks.add("user.pre_create", (event) => ({ is_allowed: true, mutations: { user: { standard_attributes: { ...event.payload.user.standard_attributes, name: "Amazing Grace" } } } }));
    seq = await mark(bus);
    expect((await new AuthjsClient(config).signInWithOidc(op, "grace")).headers.get("location")).toBe(`${BASE}/home`);
    const [user] = await rows("users");
    expect(user).toMatchObject({ name: "Amazing Grace", email: "grace@example.com" });
    const created = await eventsSince(bus, seq);
    expect(created.map((e) => e.type)).toEqual(["user.created", "user.authenticated"]);
    expect(created[0]?.payload).toMatchObject({ user: { id: String(user!.id), standard_attributes: { name: "Amazing Grace" } } });
  });

  it("two sign-outs finishing together each record their own user, session and request", async () => {
    const { bus, config } = await setup({ syncDeletes: true });
    const browsers = {
      grace: new AuthjsClient(config, { headers: { "x-forwarded-for": "198.51.100.1", "user-agent": "GraceBrowser/1" } }),
      alan: new AuthjsClient(config, { headers: { "x-forwarded-for": "198.51.100.2", "user-agent": "AlanBrowser/1" } }),
    };
    const sessionOf = new Map<string, string>();
    for (const [login, client] of Object.entries(browsers)) {
      const seq = await mark(bus);
      await client.signInWithOidc(op, login);
      const [, authenticated] = await eventsSince(bus, seq);
      sessionOf.set(`${login}@example.com`, payloadOf(authenticated).session.id);
    }
    const seq = await mark(bus);
    await Promise.all([browsers.grace.signOut(), browsers.alan.signOut()]);
    const out = await eventsSince(bus, seq);
    expect(out.map((e) => e.type)).toEqual(["user.signed_out", "user.signed_out"]);
    const seen = out.map((e) => {
      const p = payloadOf(e);
      return { email: p.user.standard_attributes.email, session: p.sessions[0].id, agent: e.context.user_agent, user_id: e.context.user_id === p.user.id };
    });
    expect(seen.sort((a, b) => a.email.localeCompare(b.email))).toEqual([
      { email: "alan@example.com", session: sessionOf.get("alan@example.com"), agent: "AlanBrowser/1", user_id: true },
      { email: "grace@example.com", session: sessionOf.get("grace@example.com"), agent: "GraceBrowser/1", user_id: true },
    ]);
  });

  it("with sessionAccessed, a session read records user.session.accessed naming the user and the session; the answer is unchanged", async () => {
    const plain = await setup();
    const loud = await setup({ options: { sessionAccessed: true } });
    const answers: unknown[] = [];
    for (const { bus, config } of [plain, loud]) {
      const client = new AuthjsClient(config);
      await client.signInWithOidc(op, "grace");
      const [, authenticated] = await eventsSince(bus, 0);
      const seq = await mark(bus);
      const answer = await client.session();
      answers.push({ ...answer, expires: undefined });
      const read = await eventsSince(bus, seq);
      if (bus === plain.bus) {
        expect(read).toEqual([]);
        continue;
      }
      expect(read.map((e) => e.type)).toEqual(["user.session.accessed"]);
      const userId = payloadOf(authenticated).user.id;
      expect(read[0]?.payload).toEqual({
        user: expect.objectContaining({ id: userId, standard_attributes: expect.objectContaining({ email: "grace@example.com" }) }),
        session: expect.objectContaining({ id: payloadOf(authenticated).session.id, type: "database" }),
      });
      expect(read[0]?.context).toMatchObject({ user_id: userId, ip_address: "203.0.113.7" });
      expect(JSON.stringify(read)).not.toContain(sessionToken(client)!);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[0]).toEqual({ user: { name: "Grace Hopper", email: "grace@example.com", image: null }, expires: undefined });
  });
});
