/**
 * A small client for the server's HTTP API. Its one job beyond sending requests is turning every
 * failure (problem+json answers, refused connections, missing keys) into a CliError whose message
 * says what to do, so each command can just let errors propagate to main.
 */
import { request, type Dispatcher } from "undici";
import { CliError } from "./output.js";

export const DEFAULT_URL = "http://127.0.0.1:8790";

export interface ServerOptions {
  url: string;
  key?: string;
}

export interface Problem {
  status: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: { pointer: string; message: string }[];
}

/** The server answered with an error; `problem` is its problem+json body (or what could be made of it). */
export class ApiError extends CliError {
  constructor(readonly problem: Problem) {
    super(describeProblem(problem));
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

function describeProblem(p: Problem): string {
  const what = p.detail ?? p.title ?? "request failed";
  // The first pointer tells which field to fix; the rest would not fit on one line.
  const where = p.errors?.[0] && !what.includes(p.errors[0].pointer) ? ` at ${p.errors[0].pointer}: ${p.errors[0].message}` : "";
  return `${what}${where} (${p.status}${p.code ? ` ${p.code}` : ""})`;
}

export interface Client {
  readonly baseUrl: string;
  /** JSON in and out; undefined for 204. Throws ApiError for any non-2xx answer. */
  call<T = unknown>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T>;
  /** Every item of a paged list (`{data, next_cursor}`). */
  list<T = unknown>(path: string): Promise<T[]>;
  /** A streaming GET (server-sent events); the caller reads and closes the body. */
  stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Dispatcher.ResponseData["body"]>;
}

export function createClient(o: ServerOptions): Client {
  let base: URL;
  try {
    base = new URL(o.url);
  } catch {
    throw new CliError(`--url ${JSON.stringify(o.url)} is not a URL (expected something like ${DEFAULT_URL})`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new CliError(`--url must be an http(s) URL, not ${o.url}`);
  const key = o.key;
  if (!key) throw new CliError("no API key: pass --key or set AUTHBUS_KEY (authbus serve prints an admin key on first start; authbus keys create makes more)");
  const baseUrl = base.href.replace(/\/+$/, "");
  const auth = { authorization: `Bearer ${key}` };

  const send = async (method: Dispatcher.HttpMethod, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; streaming?: boolean }) => {
    const headers: Record<string, string> = { ...auth, accept: "application/json", ...init.headers };
    let payload: string | undefined;
    if (init.body !== undefined) {
      payload = JSON.stringify(init.body);
      headers["content-type"] = "application/json";
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(baseUrl + path, { method, headers, body: payload, signal: init.signal, headersTimeout: 30_000, bodyTimeout: init.streaming ? 0 : 30_000 });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? "";
      const reason = code ? `${code}` : (e as Error).message;
      throw new CliError(`cannot reach the Authbus server at ${baseUrl} (${reason}): is authbus serve running? Set --url or AUTHBUS_URL`);
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => "");
      let problem: Problem = { status: res.statusCode };
      try {
        problem = { ...(JSON.parse(text) as Problem), status: res.statusCode };
      } catch {
        if (text) problem.detail = text.slice(0, 200);
      }
      throw new ApiError(problem);
    }
    return res;
  };

  const client: Client = {
    baseUrl,
    async call<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown) {
      const res = await send(method, path, { body });
      const text = await res.body.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async list<T>(path: string) {
      const out: T[] = [];
      const sep = path.includes("?") ? "&" : "?";
      for (let cursor: string | null = null; ; ) {
        const page: { data: T[]; next_cursor: string | null } = await client.call("GET", `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        out.push(...page.data);
        cursor = page.next_cursor;
        if (!cursor) return out;
      }
    },
    async stream(path, headers, signal) {
      return (await send("GET", path, { headers: { accept: "text/event-stream", ...headers }, signal, streaming: true })).body;
    },
  };
  return client;
}
