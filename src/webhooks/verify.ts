/**
 * Receiver side of Standard Webhooks (`authbus/webhooks`): check that a request was signed by
 * Authbus with one of your secrets, recently, before trusting its body. Framework-agnostic: it
 * takes a Web `Request`, a Node `IncomingMessage` or the raw parts, recognised by shape so no
 * framework or `node:http` type is needed. The HMAC runs over the raw bytes received; a body
 * that was parsed and re-serialised will not verify, which is the point.
 */
import type { AnyEnvelope } from "../core/envelope.js";
import { WebhookMalformedError, WebhookSignatureInvalidError, WebhookTimestampStaleError } from "../core/errors.js";
import { decodeSecret, verifyStandardWebhookSignature } from "../core/signing/standard-webhooks.js";

/** Standard Webhooks' recommended window, both directions. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Authbus events are at most 1 MiB as native JSON; renderings add little. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface VerifyWebhookOptions {
  /** Accepted distance between `webhook-timestamp` and now, in seconds, past or future. Default 300. */
  toleranceSeconds?: number;
  /** The current time (tests, or a trusted clock). Default `new Date()`. */
  now?: Date;
  /** When reading a Request or IncomingMessage, larger bodies are refused with `webhook_malformed` before being buffered. Default 2 MiB. */
  maxBodyBytes?: number;
}

/** A `Headers` object, or a plain object with header names in any case (Node's `req.headers` included). */
export type HeaderSource = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookParts {
  headers: HeaderSource;
  /** The raw body exactly as received (a Buffer is a Uint8Array). */
  body: string | Uint8Array;
}

/** What `verifyWebhook` needs of a Web `Request` (Fetch API, Hono, Next.js route handlers, Deno, Bun). */
export interface FetchRequestLike {
  headers: { get(name: string): string | null };
  readonly bodyUsed?: boolean;
  readonly body?: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(reason?: unknown): Promise<void> } } | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What `verifyWebhook` needs of a Node `http.IncomingMessage` (Express, Fastify's `req.raw`, Koa's `ctx.req`). */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly readableEnded?: boolean;
}

export type WebhookInput = FetchRequestLike | NodeRequestLike | WebhookParts;

/**
 * Verifies and parses a webhook. Resolves to the JSON body: an `AnyEnvelope` for `native`
 * subscriptions (the default type parameter); for `cloudevents` / `auth0` renderings pass the
 * shape you expect, e.g. `verifyWebhook<AuthbusCloudEvent>(...)`. Rejects with
 * `WebhookMalformedError`, `WebhookSignatureInvalidError` or `WebhookTimestampStaleError`
 * (all `WebhookVerificationError`) for an untrusted request, and with `TypeError` for misuse
 * (bad secret, body already consumed by a body parser).
 */
export async function verifyWebhook<T = AnyEnvelope>(input: WebhookInput, secret: string | readonly string[], options: VerifyWebhookOptions = {}): Promise<T> {
  const keys = checkSecrets(secret);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return verifyParts<T>(await readParts(input, limit), keys, options);
}

/** The same check for raw parts already in memory, without a Promise. */
export function verifyWebhookSync<T = AnyEnvelope>(parts: WebhookParts, secret: string | readonly string[], options: VerifyWebhookOptions = {}): T {
  if (!isParts(parts)) throw new TypeError("verifyWebhookSync expects { headers, body } with body a string or Uint8Array");
  return verifyParts<T>(parts, checkSecrets(secret), options);
}

function checkSecrets(secret: string | readonly string[]): readonly string[] {
  const list = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError("verifyWebhook: pass the subscription's secret (whsec_...) or a non-empty array of them");
  list.forEach((s: unknown, i) => {
    // The secret itself is never echoed: error messages end up in logs.
    if (typeof s !== "string" || decodeSecret(s) === undefined) throw new TypeError(`verifyWebhook: secret ${i} is not a Standard Webhooks secret (whsec_ followed by base64 of 24 to 64 bytes)`);
  });
  return list;
}

function verifyParts<T>(parts: WebhookParts, secrets: readonly string[], options: VerifyWebhookOptions): T {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError("verifyWebhook: toleranceSeconds must be a non-negative number");
  const id = headerOf(parts.headers, "webhook-id");
  const rawTimestamp = headerOf(parts.headers, "webhook-timestamp");
  const signature = headerOf(parts.headers, "webhook-signature");
  const missing = [id ? "" : "webhook-id", rawTimestamp ? "" : "webhook-timestamp", signature ? "" : "webhook-signature"].filter(Boolean);
  if (missing.length > 0) throw new WebhookMalformedError(`Missing header${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);
  // Strict digits, no leading zero: the signed text is the header as sent, and a lenient parse
  // (parseInt("12abc")) would sign something other than what arrived.
  if (!/^(?:0|[1-9]\d{0,14})$/.test(rawTimestamp!)) throw new WebhookMalformedError("webhook-timestamp is not UNIX seconds");
  const timestamp = Number(rawTimestamp);
  const entries = signature!.split(" ").filter((e) => e.length > 0);
  if (entries.length === 0 || !entries.every((e) => /^[A-Za-z0-9_-]+,\S+$/.test(e))) {
    throw new WebhookMalformedError("webhook-signature is not a space-separated list of <version>,<signature>");
  }
  if (!entries.some((e) => e.startsWith("v1,"))) throw new WebhookSignatureInvalidError("webhook-signature has no v1 entry (only v1 HMAC-SHA256 is supported)");
  // Stopping at the first matching secret reveals only which of the caller's own secrets matched,
  // nothing about the expected MAC; each comparison itself is constant-time.
  if (!secrets.some((s) => verifyStandardWebhookSignature(s, id!, timestamp, parts.body, entries.join(" ")))) {
    throw new WebhookSignatureInvalidError();
  }
  // After the signature, so a forged request is reported as forged, not as merely late.
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const skew = timestamp - nowSeconds;
  if (Math.abs(skew) > tolerance) throw new WebhookTimestampStaleError(timestamp, skew, tolerance);
  return parseBody(parts.body) as T;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseBody(body: string | Uint8Array): unknown {
  let text: string;
  try {
    text = typeof body === "string" ? body : utf8.decode(body);
  } catch {
    throw new WebhookMalformedError("The body is not UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new WebhookMalformedError("The body is not JSON");
  }
}

function headerOf(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (typeof value === "string") values.push(value);
    else values.push(...value);
  }
  // Repeated headers are joined as a Fetch `Headers` would; for id and timestamp that makes them malformed.
  return values.length === 0 ? undefined : values.join(", ");
}

function isParts(input: unknown): input is WebhookParts {
  const p = input as Partial<WebhookParts> | null;
  return typeof p === "object" && p !== null && typeof p.headers === "object" && p.headers !== null && (typeof p.body === "string" || p.body instanceof Uint8Array);
}

async function readParts(input: WebhookInput, limit: number): Promise<WebhookParts> {
  if (typeof (input as FetchRequestLike).arrayBuffer === "function") {
    const req = input as FetchRequestLike;
    if (req.bodyUsed) throw new TypeError("verifyWebhook: the Request body was already read; pass the Request before reading it, or { headers, body: rawText }");
    checkDeclaredLength(headerOf(req.headers, "content-length"), limit);
    return { headers: req.headers, body: await readWebBody(req, limit) };
  }
  // Express with express.raw() (or any framework that kept the raw bytes) lands here.
  if (isParts(input)) return input;
  if (typeof input === "object" && input !== null && Symbol.asyncIterator in input) {
    const req = input as NodeRequestLike;
    if (req.readableEnded) {
      throw new TypeError("verifyWebhook: the request body was already consumed (a JSON body parser ran first); keep the raw body, e.g. express.raw({ type: '*/*' }), and pass { headers, body }");
    }
    checkDeclaredLength(headerOf(req.headers, "content-length"), limit);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of req) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
      size += bytes.length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(bytes);
    }
    return { headers: req.headers, body: Buffer.concat(chunks, size) };
  }
  throw new TypeError("verifyWebhook expects a Request, an http.IncomingMessage or { headers, body }");
}

async function readWebBody(req: FetchRequestLike, limit: number): Promise<Uint8Array> {
  if (!req.body || typeof req.body.getReader !== "function") {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.length > limit) throw tooLarge(limit);
    return bytes;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!value) continue;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function checkDeclaredLength(value: string | undefined, limit: number): void {
  if (value !== undefined && /^\d+$/.test(value) && Number(value) > limit) throw tooLarge(limit);
}

function tooLarge(limit: number): WebhookMalformedError {
  return new WebhookMalformedError(`The body is larger than ${limit} bytes`);
}

