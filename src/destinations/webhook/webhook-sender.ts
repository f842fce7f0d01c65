/**
 * Moves one webhook attempt over HTTP and reports what happened; deciding what it means is
 * core/delivery/classify's job. Every outcome, including refusals and timeouts, is a result and
 * never a throw, because each one is logged as an attempt. Connections are pooled per origin
 * (keep-alive) on the shared SSRF-guarded agent; redirects are never followed.
 */
import type { Agent } from "undici";
import { createGuardedAgent, findSsrfRefusal } from "../../net/http-client.js";

export interface WebhookSenderOptions {
  /** Lifts the SSRF guard (development and tests only). */
  allowPrivateNetworks: boolean;
  /** TCP + TLS connect. Default 10 s. */
  connectTimeoutMs?: number;
  /** Whole attempt: connect, send, response head and the bytes read of the body. Default 15 s (Standard Webhooks: 15-30 s). */
  totalTimeoutMs?: number;
  /** Bytes of the response body kept for the attempt log. Default 1024. */
  maxResponseHeadBytes?: number;
  /** Bytes of response body read and discarded to keep the connection reusable; beyond this it is closed. Default 64 KiB. */
  maxDrainBytes?: number;
  /** Concurrent connections per origin. Default 64. */
  connectionsPerOrigin?: number;
  /** Idle keep-alive time. Default 30 s. */
  keepAliveTimeoutMs?: number;
}

export type WebhookSendErrorKind = "timeout" | "ssrf_refused" | "network" | "invalid_request";

export interface WebhookSendResult {
  /** Final status when a response arrived (a 3xx is final: it is not followed). */
  status?: number;
  /** From the start of the attempt to the end of reading the response head. */
  latencyMs: number;
  /** The first bytes of the response body as UTF-8 (an incomplete trailing character is dropped). */
  responseHead?: string;
  /** True when the body was longer than `responseHead`. */
  responseTruncated?: boolean;
  retryAfter?: string;
  location?: string;
  /** Why there is no (complete) response: network error, timeout, SSRF refusal, invalid URL. */
  error?: string;
  errorKind?: WebhookSendErrorKind;
}

export interface WebhookSendRequest {
  body: string | Uint8Array;
  headers: Record<string, string>;
}

export interface WebhookSender {
  send(url: string, request: WebhookSendRequest): Promise<WebhookSendResult>;
  /** Lets in-flight attempts finish, then closes pooled connections. */
  close(): Promise<void>;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const totalTimeoutMs = options.totalTimeoutMs ?? 15_000;
  const headLimit = options.maxResponseHeadBytes ?? 1024;
  const drainLimit = Math.max(headLimit, options.maxDrainBytes ?? 64 * 1024);
  const agent: Agent = createGuardedAgent({
    allowPrivateNetworks: options.allowPrivateNetworks,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    connections: options.connectionsPerOrigin,
  });

  const deadlines = createDeadlines(totalTimeoutMs);
  const targets = new Map<string, Target | string>();

  function send(url: string, req: WebhookSendRequest): Promise<WebhookSendResult> {
    const started = performance.now();
    const target = targetOf(targets, url);
    if (typeof target === "string") return Promise.resolve({ latencyMs: round(performance.now() - started), error: target, errorKind: "invalid_request" });
    return new Promise((resolve) => {
      const attempt = new Attempt(started, headLimit, drainLimit, totalTimeoutMs, (r) => (deadlines.remove(attempt), resolve(r)));
      deadlines.add(attempt);
      // Dispatched directly with our own handler rather than through request(): no URL parsing,
      // AbortSignal, Readable body or async iterator per attempt, which showed up in the delivery
      // profile. The guarded agent has no redirect interceptor, so a 3xx comes back as the response.
      // Our deadline bounds the whole attempt, so undici's own headers and body timers (a timer
      // swapped twice per request, also in the profile) are off for these requests.
      agent.dispatch({ origin: target.origin, path: target.path, method: "POST", headers: req.headers, body: req.body, headersTimeout: 0, bodyTimeout: 0 }, attempt);
    });
  }

  return { send, close: () => (deadlines.stop(), agent.close()) };
}

interface Target {
  origin: string;
  path: string;
}

/** Subscriptions post to few URLs, each many times: each is parsed once (the cache is dropped when it grows large). */
function targetOf(cache: Map<string, Target | string>, url: string): Target | string {
  let t = cache.get(url);
  if (t !== undefined) return t;
  try {
    const parsed = new URL(url);
    t = parsed.protocol !== "https:" && parsed.protocol !== "http:" ? `unsupported protocol ${parsed.protocol}` : { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
  } catch {
    t = "invalid URL";
  }
  if (cache.size >= 1024) cache.clear();
  cache.set(url, t);
  return t;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const RETRY_AFTER = "retry-after";
const LOCATION = "location";

/**
 * One attempt as an undici dispatch handler: keeps the status, Retry-After, Location and the first
 * bytes of the body, reads up to the drain limit (so the connection can be reused) and settles once,
 * whichever comes first of the end of the response, an error, the drain limit or the deadline.
 */
class Attempt {
  at: number;
  private abort: ((reason?: Error) => void) | undefined;
  private settled = false;
  private timedOut = false;
  private status: number | undefined;
  private retryAfter: string | undefined;
  private location: string | undefined;
  private head: Buffer[] = [];
  private kept = 0;
  private seen = 0;

  constructor(
    private readonly started: number,
    private readonly headLimit: number,
    private readonly drainLimit: number,
    private readonly totalTimeoutMs: number,
    private readonly done: (r: WebhookSendResult) => void,
  ) {
    this.at = started + totalTimeoutMs;
  }

  /** The deadline passed: settle now; the request is aborted now or as soon as it gets a connection. */
  expire(): void {
    this.timedOut = true;
    this.abort?.(new Error("webhook attempt timed out"));
    this.fail(new Error("timeout"));
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.timedOut) abort(new Error("webhook attempt timed out"));
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx (such as 103 Early Hints) are informational; the final response follows.
    if (statusCode < 200) return true;
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      // Only names of the right length are decoded: most responses carry neither header.
      if (name.length === RETRY_AFTER.length && this.retryAfter === undefined && name.toString("latin1").toLowerCase() === RETRY_AFTER) {
        this.retryAfter = rawHeaders[i + 1]!.toString("latin1");
      } else if (name.length === LOCATION.length && this.location === undefined && name.toString("latin1").toLowerCase() === LOCATION) {
        this.location = rawHeaders[i + 1]!.toString("latin1").slice(0, 2048);
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.kept < this.headLimit) {
      const part = chunk.subarray(0, this.headLimit - this.kept);
      this.head.push(part);
      this.kept += part.length;
    }
    this.seen += chunk.length;
    if (this.seen > this.drainLimit) {
      // Closing the connection is cheaper than reading a large body to the end.
      this.succeed();
      this.abort?.(new Error("response body beyond the drain limit"));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.succeed();
  }

  onError(e: Error): void {
    this.fail(e);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.done(this.response());
  }

  private fail(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const failure = describeFailure(e, this.timedOut, this.totalTimeoutMs);
    // Once the status arrived it stands; a broken body is reported alongside it.
    this.done(this.status === undefined ? { latencyMs: round(performance.now() - this.started), ...failure } : { ...this.response(), ...failure });
  }

  private response(): WebhookSendResult {
    const result: WebhookSendResult = { status: this.status, latencyMs: round(performance.now() - this.started) };
    if (this.retryAfter !== undefined) result.retryAfter = this.retryAfter;
    if (this.location !== undefined) result.location = this.location;
    // stream: true holds back a multi-byte character cut by the limit instead of emitting U+FFFD.
    result.responseHead = this.kept === 0 ? "" : new TextDecoder().decode(this.head.length === 1 ? this.head[0] : Buffer.concat(this.head, this.kept), { stream: true });
    if (this.seen > this.kept) result.responseTruncated = true;
    return result;
  }
}

/**
 * Total timeouts for many concurrent attempts on one coarse timer (a tenth of the timeout, at most
 * 100 ms late) instead of a timer per attempt: `AbortSignal.timeout` per request showed up in the
 * delivery profile (a timer and its cleanup for every attempt).
 */
function createDeadlines(totalTimeoutMs: number) {
  const live = new Set<Attempt>();
  let timer: NodeJS.Timeout | undefined;
  const tick = Math.max(5, Math.min(100, Math.floor(totalTimeoutMs / 10)));
  const sweep = () => {
    const now = performance.now();
    for (const d of live) if (d.at <= now) (live.delete(d), d.expire());
    if (live.size === 0) (clearInterval(timer), (timer = undefined));
  };
  return {
    add(d: Attempt): void {
      live.add(d);
      if (!timer) (timer = setInterval(sweep, tick)), timer.unref?.();
    },
    remove(d: Attempt): void {
      live.delete(d);
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeFailure(e: unknown, timedOut: boolean, totalTimeoutMs: number): { error: string; errorKind: WebhookSendErrorKind } {
  if (timedOut) return { error: `timeout: no complete response within ${totalTimeoutMs} ms`, errorKind: "timeout" };
  const ssrf = findSsrfRefusal(e);
  if (ssrf) return { error: ssrf.message, errorKind: "ssrf_refused" };
  const err = e as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  if (code === "UND_ERR_CONNECT_TIMEOUT") return { error: `timeout: ${err.message ?? "connect timeout"}`, errorKind: "timeout" };
  if (code === "UND_ERR_INVALID_ARG") return { error: `invalid request: ${err.message ?? String(e)}`, errorKind: "invalid_request" };
  const message = err.message ?? String(e);
  const detail = err.cause?.message && !message.includes(err.cause.message) ? `: ${err.cause.message}` : "";
  return { error: `${message}${detail}${code && !message.includes(code) ? ` (${code})` : ""}`, errorKind: "network" };
}
