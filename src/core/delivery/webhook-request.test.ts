import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../envelope.js";
import { generateSecret, signAuthgearBody } from "../signing/standard-webhooks.js";
import { buildWebhookRequest, isReservedWebhookHeader, validateWebhookHeaders, webhookUserAgent, type WebhookTarget } from "./webhook-request.js";

const USER_ID = "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c";
const envelope = {
  id: "0194be1a-4f00-7abc-8def-000000000042",
  seq: 42,
  subject_seq: 1,
  type: "user.created",
  payload: {
    user: { id: USER_ID, created_at: "2025-02-01T12:34:56Z", updated_at: "2025-02-01T12:34:56Z", is_disabled: false, standard_attributes: { email: "zoe@example.com" } },
    identities: [],
  },
  context: { app_id: "acme", timestamp: 1738413296, triggered_by: "user", preferred_languages: ["en"], language: "en", user_id: USER_ID },
} as unknown as Envelope;
const noAuth0 = { ...envelope, type: "bot_protection.verification.failed", payload: {} } as unknown as Envelope;

const now = Math.floor(Date.now() / 1000);
const opts = { nowSeconds: now, userAgent: webhookUserAgent("1.2.3") };
const current = generateSecret();
const previous = generateSecret();

function target(extra: Partial<WebhookTarget> = {}): WebhookTarget {
  return { id: "sub_1", format: "native", secrets: [current], ...extra };
}

function build(env: Envelope, t: WebhookTarget) {
  const r = buildWebhookRequest(env, t, opts);
  if (!r.ok) throw new Error(`skipped: ${r.skip}`);
  return r;
}

describe("buildWebhookRequest", () => {
  it("sets the Standard Webhooks headers over the exact body, verifiable by the official library", () => {
    const r = build(envelope, target());
    expect(r.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Authbus/1.2.3 (+https://github.com/authbus)",
      "webhook-id": envelope.id,
      "webhook-timestamp": String(now),
    });
    expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(current).verify(r.body, r.headers)).toEqual(JSON.parse(r.body));
  });

  it("signs with every secret during rotation, each verifying on its own", () => {
    const r = build(envelope, target({ secrets: [current, previous] }));
    expect(r.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(r.body, r.headers)).toBeTruthy();
    expect(new Webhook(previous).verify(r.body, r.headers)).toBeTruthy();
    expect(() => new Webhook(generateSecret()).verify(r.body, r.headers)).toThrow("No matching signature");
  });

  it("uses the rendering's content type and headers", () => {
    expect(build(envelope, target({ format: "cloudevents" })).headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
    const binary = build(envelope, target({ format: "cloudevents-binary" }));
    expect(binary.headers).toMatchObject({ "content-type": "application/json", "ce-id": envelope.id, "ce-type": "user.created", "ce-specversion": "1.0" });
    const auth0 = build(envelope, target({ format: "auth0" }));
    expect(JSON.parse(auth0.body)).toMatchObject({ type: "user.created", a0tenant: "acme" });
    expect(auth0.headers["webhook-id"]).toBe(envelope.id);
  });

  it("skips an event the Auth0 rendering cannot represent", () => {
    expect(buildWebhookRequest(noAuth0, target({ format: "auth0" }), opts)).toEqual({ ok: false, skip: expect.stringContaining("bot_protection.verification.failed") });
    expect(buildWebhookRequest(noAuth0, target({ format: "native" }), opts).ok).toBe(true);
  });

  it("adds Authgear's body signature with the current secret", () => {
    const r = build(envelope, target({ secrets: [current, previous], authgearSignature: true }));
    expect(r.headers["x-authgear-body-signature"]).toBe(signAuthgearBody(current, r.body));
    expect(build(envelope, target())).not.toHaveProperty(["headers", "x-authgear-body-signature"]);
  });

  it("adds extra headers but never lets them replace ours, whatever their case", () => {
    const r = build(envelope, target({
      format: "cloudevents-binary",
      headers: { Authorization: "Bearer t0k", "X-Tenant": "acme", "Content-Type": "text/plain", "WEBHOOK-ID": "forged", "webhook-signature": "v1,forged", "ce-id": "x", "User-Agent": "x", Connection: "close" },
    }));
    expect(r.headers).toMatchObject({ authorization: "Bearer t0k", "x-tenant": "acme", "content-type": "application/json", "webhook-id": envelope.id, "ce-id": envelope.id });
    expect(r.headers["webhook-signature"]).not.toContain("forged");
    expect(r.headers["user-agent"]).toBe(opts.userAgent);
    expect(Object.keys(r.headers).filter((k) => k.toLowerCase() === "content-type" || k.toLowerCase() === "webhook-id")).toEqual(["content-type", "webhook-id"]);
    expect(r.headers).not.toHaveProperty("connection");
  });

  it("treats missing secrets and bad timestamps as programmer errors", () => {
    expect(() => buildWebhookRequest(envelope, target({ secrets: [] }), opts)).toThrow(TypeError);
    expect(() => buildWebhookRequest(envelope, target({ secrets: ["whsec_short"] }), opts)).toThrow(TypeError);
    expect(() => buildWebhookRequest(envelope, target(), { ...opts, nowSeconds: 1.5 })).toThrow(TypeError);
  });
});

describe("validateWebhookHeaders", () => {
  it("accepts ordinary headers and refuses reserved, invalid or non-string ones", () => {
    expect(validateWebhookHeaders({ authorization: "Bearer x", "X-Api-Key": "k" })).toEqual([]);
    expect(validateWebhookHeaders({ "Webhook-Signature": "x", "content-type": "x", "bad name": "x", "x-ok": "a\r\nb", "x-num": 5 }).map((i) => i.pointer)).toEqual([
      "/Webhook-Signature",
      "/content-type",
      "/bad name",
      "/x-ok",
      "/x-num",
    ]);
    expect(validateWebhookHeaders(null)).toHaveLength(1);
    expect(isReservedWebhookHeader("CE-Type")).toBe(true);
    expect(isReservedWebhookHeader("authorization")).toBe(false);
  });
});
