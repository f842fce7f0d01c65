/**
 * Drives next-auth 4.24's real Pages Router API handler, `NextAuth(req, res, options)`, with a
 * Node-style request and response, the way Next.js calls it (Next.js itself is not needed).
 */
import { createRequire } from "node:module";
import { runWithRequest } from "../../src/integrations/nextauth-v4/index.js";
import { CookieJar } from "./cookie-jar.js";
import type { OidcServer } from "./oidc-server.js";

const require = createRequire(import.meta.url);
// next-auth is CommonJS with `exports.default`. Its types are not imported: they pull in Next.js's globals.
const NextAuth = require("next-auth").default as (req: unknown, res: unknown, options: object) => Promise<unknown>;

export const BASE = "http://127.0.0.1:3000";
export const BROWSER = { "user-agent": "AuthbusTest/4.24", "accept-language": "es, en;q=0.5", "x-forwarded-for": "192.0.2.44" };

export interface V4Response {
  status: number;
  location: string | undefined;
  body: unknown;
}

class FakeResponse {
  statusCode = 200;
  readonly headers = new Map<string, string | string[]>();
  body: unknown;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string | string[]) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  end(body?: unknown) {
    this.body = body;
    return this;
  }
  send(body: unknown) {
    this.body = body;
    return this;
  }
  json(body: unknown) {
    this.body = body;
    return this;
  }
}

export class V4Client {
  readonly jar = new CookieJar();
  constructor(private readonly options: object) {}

  /** `path` is below /api/auth, e.g. `/callback/credentials?x=1`. */
  async request(path: string, method = "GET", form?: Record<string, string>): Promise<V4Response> {
    const url = new URL(`${BASE}/api/auth${path}`);
    const [, ...segments] = url.pathname.replace("/api/auth", "").split("/");
    const cookieHeader = this.jar.header();
    const req = {
      method,
      url: url.pathname + url.search,
      query: { ...Object.fromEntries(url.searchParams), nextauth: segments },
      body: form ?? {},
      headers: { host: url.host, ...BROWSER, cookie: cookieHeader, ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      cookies: Object.fromEntries(cookieHeader ? cookieHeader.split("; ").map((c) => [c.slice(0, c.indexOf("=")), decodeURIComponent(c.slice(c.indexOf("=") + 1))]) : []),
    };
    const res = new FakeResponse();
    await runWithRequest(req, () => NextAuth(req, res, this.options));
    const setCookie = res.getHeader("set-cookie");
    this.jar.storeLines(setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]);
    const location = res.getHeader("location");
    return { status: res.statusCode, location: typeof location === "string" ? location : undefined, body: res.body };
  }

  async csrf(): Promise<string> {
    const res = await this.request("/csrf");
    return (res.body as { csrfToken: string }).csrfToken;
  }

  async post(path: string, fields: Record<string, string>): Promise<V4Response> {
    return this.request(path, "POST", { csrfToken: await this.csrf(), callbackUrl: `${BASE}/home`, ...fields });
  }

  session() {
    return this.request("/session");
  }

  /** Sign-in with the `local` OAuth provider, through the real OP; answers next-auth's final response. */
  async signInWithOidc(op: OidcServer, login: string): Promise<V4Response> {
    const start = await this.post("/signin/local", {});
    if (!start.location?.startsWith(op.issuer)) throw new Error(`expected a redirect to the OP, got ${start.status} ${start.location}`);
    const back = await op.authorize(start.location, login);
    if (!back.startsWith(`${BASE}/api/auth/`)) throw new Error(`the OP sent the browser elsewhere: ${back}`);
    return this.request(back.slice(`${BASE}/api/auth`.length));
  }
}
