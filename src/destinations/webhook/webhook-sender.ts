/**
 * Moves one webhook attempt over HTTP and reports what happened; deciding what it means is
 * core/delivery/classify's job. Every outcome, including refusals and timeouts, is a result and
 * never a throw, because each one is logged as an attempt. Connections are pooled per origin
 * (keep-alive) on the shared SSRF-guarded agent; redirects are never followed.
 */
import { readFileSync } from "node:fs";
import { request, type Agent } from "undici";
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

  async function send(url: string, req: WebhookSendRequest): Promise<WebhookSendResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { latencyMs: elapsed(), error: "invalid URL", errorKind: "invalid_request" };
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      return { latencyMs: elapsed(), error: `unsupported protocol ${parsed.protocol}`, errorKind: "invalid_request" };
    }
    const deadline = deadlines.add();
    const signal = deadline.signal;
    try {
      return await exchange(parsed, req, signal);
    } finally {
      deadlines.remove(deadline);
    }
  }

  async function exchange(parsed: URL, req: WebhookSendRequest, signal: AbortSignal): Promise<WebhookSendResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      // undici's request() has no redirect handling unless a redirect interceptor is composed in,
      // and the guarded agent has none: a 3xx comes back as the response.
      res = await request(parsed, { dispatcher: agent, method: "POST", headers: req.headers, body: req.body, signal });
    } catch (e) {
      return { latencyMs: elapsed(), ...describeFailure(e, signal, totalTimeoutMs) };
    }
    const result: WebhookSendResult = { status: res.statusCode, latencyMs: 0 };
    const retryAfter = firstHeader(res.headers["retry-after"]);
    if (retryAfter !== undefined) result.retryAfter = retryAfter;
    const location = firstHeader(res.headers.location);
    if (location !== undefined) result.location = location.slice(0, 2048);
    const head: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (kept < headLimit) {
          const part = chunk.subarray(0, headLimit - kept);
          head.push(part);
          kept += part.length;
        }
        seen += chunk.length;
        // Leaving the loop destroys the body and its connection: cheaper than reading a large body to the end.
        if (seen > drainLimit) break;
      }
    } catch (e) {
      // The status already arrived and stands; the broken body is reported alongside it.
      Object.assign(result, describeFailure(e, signal, totalTimeoutMs));
    }
    result.latencyMs = elapsed();
    // stream: true holds back a multi-byte character cut by the limit instead of emitting U+FFFD.
    result.responseHead = new TextDecoder().decode(Buffer.concat(head, kept), { stream: true });
    if (seen > kept) result.responseTruncated = true;
    return result;
  }

  return { send, close: () => (deadlines.stop(), agent.close()) };
}

interface Deadline {
  readonly signal: AbortSignal;
  abort(): void;
  at: number;
}

/**
 * Total timeouts for many concurrent attempts on one coarse timer (a tenth of the timeout, at most
 * 100 ms late) instead of a timer per attempt: `AbortSignal.timeout` per request showed up in the
 * delivery profile (a timer and its cleanup for every attempt).
 */
function createDeadlines(totalTimeoutMs: number) {
  const live = new Set<Deadline>();
  let timer: NodeJS.Timeout | undefined;
  const tick = Math.max(5, Math.min(100, Math.floor(totalTimeoutMs / 10)));
  const sweep = () => {
    const now = performance.now();
    for (const d of live) if (d.at <= now) (live.delete(d), d.abort());
    if (live.size === 0) (clearInterval(timer), (timer = undefined));
  };
  return {
    add(): Deadline {
      const c = new AbortController();
      const d: Deadline = { signal: c.signal, abort: () => c.abort(), at: performance.now() + totalTimeoutMs };
      live.add(d);
      if (!timer) (timer = setInterval(sweep, tick)), timer.unref?.();
      return d;
    },
    remove(d: Deadline): void {
      live.delete(d);
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * The package version for the `user-agent` (`webhookUserAgent(readAuthbusVersion())`). The path
 * is the same from src/ and dist/: both sit one level below the package root.
 */
export function readAuthbusVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error("package.json has no version");
  return pkg.version;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeFailure(e: unknown, signal: AbortSignal, totalTimeoutMs: number): { error: string; errorKind: WebhookSendErrorKind } {
  if (signal.aborted) return { error: `timeout: no complete response within ${totalTimeoutMs} ms`, errorKind: "timeout" };
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
