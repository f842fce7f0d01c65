/**
 * Better Auth with Authbus: `npx tsx examples/better-auth/server.ts` serves the Better Auth API at
 * http://127.0.0.1:3001/api/auth (recorded events at /events). `--self-test` starts on a free port,
 * drives sign-up, a refused sign-up, failed and successful sign-in, a JWT and sign-out over real
 * HTTP, checks the recorded events and exits (CI runs it).
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins/jwt";
import { createAuthbus } from "../../src/index.js";
// In your app: import { authbusPlugin, authbusJwtPayload } from "authbus/better-auth";
import { authbusJwtPayload, authbusPlugin } from "../../src/integrations/better-auth/index.js";

const selfTest = process.argv.includes("--self-test");
const dir = selfTest ? fs.mkdtempSync(path.join(os.tmpdir(), "authbus-better-auth-example-")) : ".";
const bus = createAuthbus({ database: path.join(dir, "authbus-better-auth-example.db"), app: "better-auth-example" });

// Blocking hooks: refuse disposable e-mail domains; put the plan in every JWT.
bus.hooks.add("user.pre_create", (event) =>
  event.payload.user.standard_attributes?.email?.endsWith("@mailinator.com")
    ? { is_allowed: false, title: "Disposable e-mail", reason: "Please use a permanent address." }
    : { is_allowed: true },
);
bus.hooks.add("oidc.jwt.pre_create", (event) => ({ is_allowed: true, mutations: { jwt: { payload: { ...event.payload.jwt.payload, "https://example.com/plan": "pro" } } } }));

/** Better Auth needs its base URL (origin checks, JWT issuer), so it is built once the port is known. */
function createAuth(baseURL: string) {
  const options = {
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET ?? "example-secret-change-me-0123456789abcdef",
    database: new Database(path.join(dir, "better-auth-example.db")),
    emailAndPassword: { enabled: true },
    plugins: [authbusPlugin(bus), jwt({ jwt: { definePayload: authbusJwtPayload(bus) } })],
  };
  return { options, auth: betterAuth(options) };
}

let handle: ReturnType<typeof toNodeHandler> | undefined;
const server = http.createServer(async (req, res) => {
  if (req.url?.startsWith("/api/auth") && handle) return handle(req, res);
  if (req.url === "/events") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(await bus.query({ limit: 100 })));
    return;
  }
  res.writeHead(404).end();
});

server.listen(selfTest ? 0 : Number(process.env.PORT ?? 3001), "127.0.0.1", () => {
  const base = process.env.BETTER_AUTH_URL ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { options, auth } = createAuth(base);
  getMigrations(options)
    .then((m) => m.runMigrations())
    .then(() => {
      handle = toNodeHandler(auth);
      if (!selfTest) {
        console.log(`Better Auth on ${base}/api/auth`);
        return true;
      }
      return runSelfTest(base);
    })
    .catch((error) => {
      console.error(error);
      return false;
    })
    .then(async (ok) => {
      if (!selfTest && ok) return;
      server.close();
      await bus.close();
      if (selfTest) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(ok ? 0 : 1);
    });
});

async function runSelfTest(base: string): Promise<boolean> {
  let cookie = "";
  const call = async (p: string, body?: unknown) => {
    const res = await fetch(`${base}/api/auth${p}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", origin: base, cookie, "user-agent": "example-self-test" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const set = res.headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) => c && !c.endsWith("="));
    if (set.length) cookie = set.join("; ");
    return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  const refused = await call("/sign-up/email", { email: "temp@mailinator.com", password: "password1234", name: "Temp" });
  await call("/sign-up/email", { email: "ada@example.com", password: "password1234", name: "Ada" });
  await call("/sign-out", {});
  const wrong = await call("/sign-in/email", { email: "ada@example.com", password: "not-the-password" });
  const unknown = await call("/sign-in/email", { email: "eve@example.com", password: "not-the-password" });
  await call("/sign-in/email", { email: "ada@example.com", password: "password1234" });
  const token = await call("/token");
  await call("/sign-out", {});
  const claims = JSON.parse(Buffer.from(String(token.json?.token).split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
  const types = (await bus.query({ limit: 100 })).map((e) => e.type);
  console.log("recorded:", types.join(", "));
  console.log("JWT plan claim:", claims["https://example.com/plan"]);
  const expected = ["auth.error", "user.created", "user.authenticated", "user.signed_out", "authentication.primary.password.failed", "authentication.identity.login_id.failed", "user.authenticated", "user.signed_out"];
  const pass =
    refused.status === 403 &&
    refused.json?.code === "hook_denied" &&
    wrong.status === unknown.status &&
    JSON.stringify(wrong.json) === JSON.stringify(unknown.json) &&
    claims["https://example.com/plan"] === "pro" &&
    JSON.stringify(types) === JSON.stringify(expected);
  console.log(pass ? "self-test passed" : "self-test FAILED");
  return pass;
}
