/**
 * The request facts that go into an event's `context` (ip, user agent, languages). Auth libraries
 * do not hand the request to their callbacks and events, so the app's route runs the library
 * inside `runWithRequest(request, ...)` (or the integration gets it where the library gives it,
 * such as a Credentials `authorize`).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ContextInput } from "../../index.js";

export type RequestContext = Pick<ContextInput, "ip_address" | "user_agent" | "preferred_languages">;

/** A Web `Request`, a Node `IncomingMessage` (Express, Next.js pages) or anything with headers. */
export type RequestLike =
  | { headers: Headers | Record<string, string | string[] | undefined> | undefined; ip?: string | undefined; socket?: { remoteAddress?: string | undefined } | undefined }
  | null
  | undefined;

const storage = new AsyncLocalStorage<RequestContext>();

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) return value.map(String).join(", ");
  return typeof value === "string" ? value : undefined;
}

/** `Accept-Language` tags, best first (`q` order, then header order), without wildcards. */
export function parseAcceptLanguage(value: string | undefined): string[] {
  if (!value) return [];
  const tags = value
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((t) => t.tag && t.tag !== "*" && t.weight > 0 && /^[A-Za-z0-9-]{1,35}$/.test(t.tag));
  tags.sort((a, b) => b.weight - a.weight || a.index - b.index);
  return tags.slice(0, 20).map((t) => t.tag);
}

/**
 * Context from a request. The address is the first `X-Forwarded-For` hop when present (the app
 * decides whether its proxy is trusted; the value is only recorded), else the socket's.
 */
export function contextFromRequest(request: RequestLike): RequestContext {
  if (!request) return {};
  const headers = request.headers;
  const forwarded = header(headers, "x-forwarded-for")?.split(",")[0]?.trim();
  const ip = forwarded || header(headers, "x-real-ip") || request.ip || request.socket?.remoteAddress;
  const ua = header(headers, "user-agent");
  const context: RequestContext = { preferred_languages: parseAcceptLanguage(header(headers, "accept-language")) };
  if (ip) context.ip_address = ip;
  if (ua) context.user_agent = ua;
  return context;
}

/**
 * Runs `fn` (the auth library's handler) with this request's facts available to the integration,
 * e.g. `app.use("/auth/*", (req, _res, next) => runWithRequest(req, next), ExpressAuth(config))`.
 */
export function runWithRequest<R>(request: RequestLike, fn: () => R): R {
  return storage.run(contextFromRequest(request), fn);
}

/** The facts of the request being handled, when the app used runWithRequest. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
