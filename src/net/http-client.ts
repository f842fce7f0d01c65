/**
 * The outgoing HTTP client shared by HTTP hooks and webhook delivery: keep-alive connections
 * (undici Agent), the SSRF guard at connect time, no redirects, and a response size cap enforced
 * while reading, so a hostile receiver cannot make us buffer an unbounded body.
 */
import type dns from "node:dns";
import { Agent, buildConnector, request, type Dispatcher } from "undici";
import { SsrfRefusedError } from "../core/errors.js";
import { classifyAddress, createGuardedLookup, ipLiteralOf } from "./ssrf-guard.js";

export interface GuardedAgentOptions {
  /** Lifts the SSRF guard (development and tests only). */
  allowPrivateNetworks: boolean;
  /** TCP + TLS connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept. Default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Connections per origin. Default 64. */
  connections?: number;
  /** The resolver behind the guard (tests simulate DNS rebinding with it). Default: dns.lookup. */
  resolve?: typeof dns.lookup;
}

/**
 * An undici Agent whose sockets can only reach public addresses (unless allowed): IP literals are
 * judged before connecting, names through a guarded `lookup`, and the connected peer once more,
 * so nothing between resolution and connection can slip a private address in.
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  const agentOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs ?? 30_000, 60_000),
    connections: options.connections ?? 64,
    // The caller's AbortSignal bounds each request; these are backstops only.
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  };
  if (options.allowPrivateNetworks) return new Agent({ ...agentOptions, connect: { timeout } });
  const connector = buildConnector({ timeout, lookup: createGuardedLookup(options.resolve) } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) => {
    const literal = ipLiteralOf(opts.hostname);
    if (literal !== undefined) {
      const v = classifyAddress(literal);
      if (!v.allowed) return callback(new SsrfRefusedError(v.address, v.range), null);
    }
    connector(opts, (err, socket) => {
      if (err) return callback(err, null);
      const remote = socket!.remoteAddress;
      const v = remote ? classifyAddress(remote) : { allowed: false, range: "unknown peer", address: "unknown" };
      if (!v.allowed) {
        socket!.destroy();
        return callback(new SsrfRefusedError(v.address, v.range), null);
      }
      callback(null, socket!);
    });
  };
  return new Agent({ ...agentOptions, connect });
}

/** The response body exceeded the cap; nothing beyond the cap was read. */
export class ResponseTooLargeError extends Error {
  readonly code = "response_too_large";
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

export interface HttpRequest {
  url: string;
  method?: "POST" | "PUT" | "GET";
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Largest body read. */
  maxResponseBytes: number;
  /** `error` (default): throw ResponseTooLargeError; `truncate`: keep the first bytes (a delivery log's "response head"). */
  oversize?: "error" | "truncate";
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  truncated: boolean;
}

/** One request, redirects not followed (a 3xx is returned as is), body read up to the cap. */
export async function sendRequest(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  const res = await request(req.url, {
    dispatcher,
    method: req.method ?? "POST",
    headers: req.headers,
    body: req.body,
    signal: req.signal,
  });
  const limit = req.maxResponseBytes;
  const truncate = req.oversize === "truncate";
  const declared = Number(res.headers["content-length"]);
  if (!truncate && Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) {
      // Leaving the loop destroys the stream and the connection: the rest is never read.
      if (!truncate) throw new ResponseTooLargeError(limit);
      chunks.push(chunk.subarray(0, limit - size));
      size = limit;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, size), truncated };
}

/** Finds an SSRF refusal anywhere in an error's cause chain (undici may wrap connect errors). */
export function findSsrfRefusal(e: unknown): SsrfRefusedError | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (cur instanceof SsrfRefusedError) return cur;
  }
  return undefined;
}
