/**
 * The bytes and headers of one webhook attempt (SPEC §4): the subscription's rendering, signed per
 * Standard Webhooks with every valid secret. Pure: the sender only moves what this builds, so
 * what is signed is exactly what is sent.
 */
import type { Envelope } from "../envelope.js";
import type { ValidationIssue } from "../errors.js";
import { renderAuth0 } from "../formats/auth0.js";
import { renderCloudEventsBinary, renderCloudEventsStructured, type CloudEventOptions } from "../formats/cloudevents.js";
import { renderNative } from "../formats/native.js";
import { signAuthgearBody, signStandardWebhookAll } from "../signing/standard-webhooks.js";

export type WebhookFormat = "native" | "cloudevents" | "cloudevents-binary" | "auth0";

export interface WebhookTarget {
  /** The subscription id; also Auth0's `a0stream` seed. */
  id: string;
  format: WebhookFormat;
  /** Current secret first, then rotated-but-still-valid ones; each signs (SPEC §4 rotation). */
  secrets: readonly string[];
  /** Extra headers such as `authorization: Bearer ...`. They never replace a header set here. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Also send `x-authgear-body-signature`, keyed with the current secret. */
  authgearSignature?: boolean | undefined;
  cloudEvents?: CloudEventOptions | undefined;
}

export interface WebhookRequestOptions {
  /** UNIX seconds of this attempt: `webhook-timestamp` is re-generated on every retry. */
  nowSeconds: number;
  userAgent: string;
}

export type WebhookRequest = { ok: true; body: string; headers: Record<string, string> } | { ok: false; skip: string };

export const WEBHOOK_USER_AGENT_URL = "https://github.com/authbus";

export function webhookUserAgent(version: string): string {
  return `Authbus/${version} (+${WEBHOOK_USER_AGENT_URL})`;
}

/**
 * Header names a subscription may not set: what the rendering and signature own, and hop-by-hop
 * or framing headers the HTTP client manages (undici refuses several of them outright).
 */
const RESERVED_EXACT = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "host",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "user-agent",
  "x-authgear-body-signature",
]);
const RESERVED_PREFIXES = ["webhook-", "ce-", "proxy-"];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isReservedWebhookHeader(name: string): boolean {
  const n = name.toLowerCase();
  return RESERVED_EXACT.has(n) || RESERVED_PREFIXES.some((p) => n.startsWith(p));
}

/** For subscription create/update: problems with extra headers, as pointers relative to the headers object. */
export function validateWebhookHeaders(headers: unknown): ValidationIssue[] {
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) return [{ pointer: "", message: "must be an object of header names to strings" }];
  const issues: ValidationIssue[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const pointer = `/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (!TOKEN.test(name)) issues.push({ pointer, message: "is not a valid header name" });
    else if (isReservedWebhookHeader(name)) issues.push({ pointer, message: "is set by Authbus and cannot be overridden" });
    if (typeof value !== "string" || !FIELD_VALUE.test(value)) issues.push({ pointer, message: "must be a string without control characters" });
  }
  return issues;
}

export function buildWebhookRequest(envelope: Envelope, target: WebhookTarget, options: WebhookRequestOptions): WebhookRequest {
  if (target.secrets.length === 0) throw new TypeError(`subscription ${target.id} has no secret to sign with`);
  const rendered = renderBody(envelope, target);
  if (!rendered.ok) return rendered;
  const { body } = rendered;
  const headers: Record<string, string> = {};
  // Extras first, ours after: a stored header cannot shadow the signature or the content type,
  // whatever its case (validateWebhookHeaders refuses such names at write time; this is the backstop).
  for (const [name, value] of Object.entries(target.headers ?? {})) {
    if (!isReservedWebhookHeader(name)) headers[name.toLowerCase()] = value;
  }
  Object.assign(headers, rendered.headers);
  headers["user-agent"] = options.userAgent;
  headers["webhook-id"] = envelope.id;
  headers["webhook-timestamp"] = String(options.nowSeconds);
  headers["webhook-signature"] = signStandardWebhookAll(target.secrets, envelope.id, options.nowSeconds, body);
  // Authgear's header holds one value, so only the current secret signs it.
  if (target.authgearSignature) headers["x-authgear-body-signature"] = signAuthgearBody(target.secrets[0]!, body);
  return { ok: true, body, headers };
}

export type Rendered = { ok: true; body: string; headers: Record<string, string> } | { ok: false; skip: string };

/** The body and content headers of an event in a subscription's format (HTTP and NATS alike). */
export function renderBody(envelope: Envelope, target: { id: string; format: WebhookFormat; cloudEvents?: CloudEventOptions | undefined }): Rendered {
  switch (target.format) {
    case "native": {
      const r = renderNative(envelope);
      return { ok: true, body: r.body, headers: { "content-type": r.contentType } };
    }
    case "cloudevents": {
      const r = renderCloudEventsStructured(envelope, target.cloudEvents);
      return { ok: true, body: r.body, headers: { ...r.headers } };
    }
    case "cloudevents-binary": {
      const r = renderCloudEventsBinary(envelope, target.cloudEvents);
      return { ok: true, body: r.body, headers: { ...r.headers } };
    }
    case "auth0": {
      const r = renderAuth0(envelope, { streamId: target.id });
      return r.ok ? { ok: true, body: r.body, headers: { ...r.headers } } : { ok: false, skip: r.reason };
    }
    default:
      throw new TypeError(`unknown format ${JSON.stringify(target.format as string)}`);
  }
}
