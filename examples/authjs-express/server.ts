/**
 * Auth.js on Express (@auth/express) with Authbus: `npx tsx examples/authjs-express/server.ts`
 * serves http://127.0.0.1:3000 (sign in at /auth/signin as ada@example.com / "correct horse
 * battery staple"; recorded events at /events). `--self-test` starts on a free port, signs in and
 * out over real HTTP, checks the recorded events and exits (CI runs it).
 */
import { scryptSync, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import express from "express";
import { ExpressAuth, getSession, type ExpressAuthConfig } from "@auth/express";
import Credentials from "@auth/core/providers/credentials";
import { createAuthbus } from "../../src/index.js";
// In your app: import { withAuthbus, ... } from "authbus/authjs";
import { runWithRequest, UnknownLoginIdError, withAuthbus, WrongPasswordError } from "../../src/integrations/authjs/index.js";

const selfTest = process.argv.includes("--self-test");
const dir = selfTest ? fs.mkdtempSync(path.join(os.tmpdir(), "authbus-authjs-example-")) : ".";
const database = process.env.AUTHBUS_DATABASE ?? path.join(dir, "authbus-authjs-example.db");
const bus = createAuthbus({ database, app: "authjs-example" });

// The app's own users (a real app has a table and a proper password hash such as argon2).
const salt = "example-salt";
const users = new Map([["ada@example.com", { id: "usr_ada", email: "ada@example.com", name: "Ada Lovelace", hash: scryptSync("correct horse battery staple", salt, 32) }]]);

// A blocking hook: every session JWT gets the user's plan.
bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, "https://example.com/plan": "pro" } } } }));
// A durable handler: alert on failed sign-ins.
bus.on("authentication.**", (event) => console.log(`[security] ${event.type} from ${event.context.ip_address}`), { name: "security-alerts" });

const authConfig = withAuthbus(
  {
    secret: process.env.AUTH_SECRET ?? "example-secret-change-me-0123456789abcdef",
    trustHost: true,
    providers: [
      Credentials({
        credentials: { email: { label: "E-mail" }, password: { label: "Password", type: "password" } },
        async authorize(credentials) {
          const user = users.get(String(credentials.email));
          if (!user) throw new UnknownLoginIdError();
          const ok = timingSafeEqual(scryptSync(String(credentials.password), salt, 32), user.hash);
          if (!ok) throw new WrongPasswordError({ user: { id: user.id, email: user.email } });
          return { id: user.id, email: user.email, name: user.name };
        },
      }),
    ],
    events: { signIn: ({ user }) => console.log(`[app events.signIn] ${user.email}`) },
  } satisfies ExpressAuthConfig, // `satisfies` keeps Auth.js's types for the callbacks written inline
  bus,
);

const app = express();
app.set("trust proxy", true);
app.use("/auth", (req, _res, next) => runWithRequest(req, next), ExpressAuth(authConfig));
app.get("/", async (req, res) => {
  const session = await getSession(req, authConfig);
  res.type("html").send(session ? `Signed in as ${session.user?.email}. <form method="post" action="/auth/signout">…</form>` : `<a href="/auth/signin">Sign in</a>`);
});
app.get("/events", async (_req, res) => {
  res.json(await bus.query({ limit: 100 }));
});

const server = app.listen(selfTest ? 0 : Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (!selfTest) {
    console.log(`Listening on ${base}`);
    return;
  }
  runSelfTest(base)
    .catch((error) => {
      console.error(error);
      return false;
    })
    .then(async (ok) => {
      server.close();
      await bus.close();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(ok ? 0 : 1);
    });
});

/** A browser's part, with fetch and a cookie jar. */
async function runSelfTest(base: string): Promise<boolean> {
  const jar = new Map<string, string>();
  const send = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(base + p, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "), "user-agent": "example-self-test" } });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name = "", value = ""] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      if (value && !/max-age=0/i.test(line)) jar.set(name, value);
      else jar.delete(name);
    }
    return res;
  };
  const post = async (p: string, fields: Record<string, string>) => {
    const { csrfToken } = (await (await send("/auth/csrf")).json()) as { csrfToken: string };
    return send(p, { method: "POST", body: new URLSearchParams({ csrfToken, callbackUrl: `${base}/`, ...fields }), headers: { "content-type": "application/x-www-form-urlencoded" } });
  };
  const wrong = await post("/auth/callback/credentials", { email: "ada@example.com", password: "wrong" });
  const unknown = await post("/auth/callback/credentials", { email: "eve@example.com", password: "wrong" });
  const ok = await post("/auth/callback/credentials", { email: "ada@example.com", password: "correct horse battery staple" });
  const session = (await (await send("/auth/session")).json()) as { user?: { email?: string } };
  await post("/auth/signout", {});
  const types = (await bus.query({ limit: 100 })).map((e) => e.type);
  console.log("recorded:", types.join(", "));
  const expected = ["authentication.primary.password.failed", "authentication.identity.login_id.failed", "user.authenticated", "user.signed_out"];
  const pass =
    wrong.headers.get("location") === unknown.headers.get("location") &&
    ok.headers.get("location") === `${base}/` &&
    session.user?.email === "ada@example.com" &&
    JSON.stringify(types) === JSON.stringify(expected);
  console.log(pass ? "self-test passed" : "self-test FAILED");
  return pass;
}
