/**
 * Standard Webhooks signing (spec 1.0.0, symmetric `v1`), plus Authgear's optional body signature.
 * Pure functions: the same bytes in give the same header out, so the HTTP hook client and the
 * webhook delivery engine sign identically and the published test vector pins the format.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SECRET_PREFIX = "whsec_";
/** The spec asks for 24 to 64 random bytes. */
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of a `whsec_<base64>` secret, or undefined when the secret is malformed.
 * Node's base64 decoder skips junk silently, so the alphabet and padding are checked first:
 * a typo must not turn into a different, weaker key.
 */
export function decodeSecret(secret: string): Buffer | undefined {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) return undefined;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(b64)) return undefined;
  const key = Buffer.from(b64, "base64");
  return key.length >= SECRET_MIN_BYTES && key.length <= SECRET_MAX_BYTES ? key : undefined;
}

export function isValidSecret(secret: unknown): secret is string {
  return typeof secret === "string" && decodeSecret(secret) !== undefined;
}

/** A new `whsec_` secret of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

// Senders sign with the same few secrets again and again: decoding (regex + base64) is cached.
const keys = new Map<string, Buffer>();
function keyOf(secret: string): Buffer {
  const cached = keys.get(secret);
  if (cached) return cached;
  const key = decodeSecret(secret);
  if (!key) throw new TypeError(`not a Standard Webhooks secret: expected ${SECRET_PREFIX} + base64 of ${SECRET_MIN_BYTES}-${SECRET_MAX_BYTES} bytes`);
  if (keys.size >= 256) keys.clear(); // bounded: a pure cache, never a source of truth
  keys.set(secret, key);
  return key;
}

/**
 * The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`.
 * `body` must be the exact bytes sent; re-serialising JSON would change them.
 */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): string {
  if (!Number.isInteger(timestampSeconds)) throw new TypeError("timestampSeconds must be an integer (UNIX seconds)");
  const mac = createHmac("sha256", keyOf(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest("base64");
  return `v1,${mac}`;
}

/** Several secrets (rotation) sign with each; the header carries them space-separated. */
export function signStandardWebhookAll(secrets: readonly string[], id: string, timestampSeconds: number, body: string | Uint8Array): string {
  return secrets.map((s) => signStandardWebhook(s, id, timestampSeconds, body)).join(" ");
}

/** Authgear's `x-authgear-body-signature`: hex HMAC-SHA256 of the body keyed with the secret string as shown (`whsec_...`). */
export function signAuthgearBody(secret: string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * True when one `v1` entry of a `webhook-signature` header matches (constant-time compare).
 * Checks only the signature; the caller checks the timestamp tolerance and dedupes on the id.
 */
export function verifyStandardWebhookSignature(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array, header: string): boolean {
  const expected = Buffer.from(signStandardWebhook(secret, id, timestampSeconds, body).slice(3), "base64");
  return header.split(" ").some((entry) => {
    const [version, sig] = entry.split(",", 2);
    if (version !== "v1" || !sig) return false;
    const given = Buffer.from(sig, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
