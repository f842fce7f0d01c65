/**
 * A real OpenID provider (panva/oidc-provider 8, which supports Node 20) on 127.0.0.1:0, and a
 * browser-less driver for its development login and consent pages. Users are whatever `login`
 * is typed; their claims come from `users`.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { CookieJar } from "./cookie-jar.js";

export interface OidcUser {
  email: string;
  name: string;
}

export interface OidcServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Follows an authorization URL through login (as `login`) and consent; answers the redirect back to the client. */
  authorize(url: string, login: string): Promise<string>;
  close(): Promise<void>;
}

export async function startOidcServer(redirectUris: string[], users: Record<string, OidcUser>): Promise<OidcServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = "authbus-test";
  const clientSecret = "authbus-test-secret-authbus-test-secret";
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, grant_types: ["authorization_code"], response_types: ["code"] }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    conformIdTokenClaims: false,
    cookies: { keys: ["authbus-test-cookie-key"] },
    pkce: { required: () => false },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: users[sub]?.email ?? `${sub}@example.com`, email_verified: true, name: users[sub]?.name ?? sub }),
    }),
  });
  // oidc-provider logs its development-interactions warning once per instance; the tests know.
  provider.on("server_error", (_ctx: unknown, error: Error) => console.error("oidc-provider:", error));
  server.on("request", provider.callback());

  async function authorize(url: string, login: string): Promise<string> {
    const jar = new CookieJar();
    let next: { url: string; init?: RequestInit } = { url };
    for (let step = 0; step < 20; step++) {
      const res = await fetch(next.url, { ...next.init, redirect: "manual", headers: { ...(next.init?.headers as Record<string, string>), cookie: jar.header() } });
      jar.store(res);
      const location = res.headers.get("location");
      if (location) {
        const target = new URL(location, next.url).toString();
        if (!target.startsWith(issuer)) return target;
        next = { url: target };
        continue;
      }
      const html = await res.text();
      const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (!prompt || !action) throw new Error(`unexpected OP page (${res.status}): ${html.slice(0, 300)}`);
      const body = new URLSearchParams(prompt === "login" ? { prompt, login, password: "x" } : { prompt });
      next = { url: new URL(action, issuer).toString(), init: { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } } };
    }
    throw new Error("too many steps at the OP");
  }

  return {
    issuer,
    clientId,
    clientSecret,
    authorize,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
