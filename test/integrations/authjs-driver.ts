/** Drives @auth/core's real handler in process, the way a browser would, with a cookie jar. */
import { Auth, type AuthConfig } from "@auth/core";
import { runWithRequest } from "../../src/integrations/authjs/index.js";
import { CookieJar } from "./cookie-jar.js";
import type { OidcServer } from "./oidc-server.js";

export const BASE = "http://127.0.0.1:3000";
export const BROWSER = { "user-agent": "AuthbusTest/1.0", "accept-language": "fr-CH, fr;q=0.9, en;q=0.8", "x-forwarded-for": "203.0.113.7" };

export class AuthjsClient {
  readonly jar = new CookieJar();
  constructor(
    private readonly config: AuthConfig,
    private readonly options: { requestContext?: boolean; headers?: Record<string, string> } = {},
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith("http") ? path : `${BASE}${path}`;
    const req = new Request(url, { ...init, redirect: "manual", headers: { ...BROWSER, ...this.options.headers, ...(init.headers as Record<string, string>), cookie: this.jar.header() } });
    const res = this.options.requestContext === false ? await Auth(req, this.config) : await runWithRequest(req, () => Auth(req, this.config));
    this.jar.store(res);
    return res;
  }

  async csrf(): Promise<string> {
    const res = await this.request("/auth/csrf");
    return ((await res.json()) as { csrfToken: string }).csrfToken;
  }

  async post(path: string, fields: Record<string, string>): Promise<Response> {
    const csrfToken = await this.csrf();
    return this.request(path, {
      method: "POST",
      body: new URLSearchParams({ csrfToken, callbackUrl: `${BASE}/home`, ...fields }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
  }

  signInWithCredentials(fields: Record<string, string>): Promise<Response> {
    return this.post("/auth/callback/credentials", fields);
  }

  signOut(): Promise<Response> {
    return this.post("/auth/signout", {});
  }

  async session(): Promise<Record<string, unknown> | null> {
    const res = await this.request("/auth/session");
    return (await res.json()) as Record<string, unknown> | null;
  }

  /** Sign-in with the `local` OIDC provider, through the real OP; answers the RP's final response. */
  async signInWithOidc(op: OidcServer, login: string): Promise<Response> {
    const start = await this.post("/auth/signin/local", {});
    const location = start.headers.get("location");
    if (!location?.startsWith(op.issuer)) throw new Error(`expected a redirect to the OP, got ${start.status} ${location}`);
    const back = await op.authorize(location, login);
    return this.request(back);
  }
}
