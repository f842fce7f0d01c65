import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import {
  decodeSecret,
  generateSecret,
  isValidSecret,
  signAuthgearBody,
  signStandardWebhook,
  signStandardWebhookAll,
  verifyStandardWebhookSignature,
} from "./standard-webhooks.js";

// The published vector (standard-webhooks Go and C# library tests; notes/wire-formats.md §3).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("Standard Webhooks signing", () => {
  it("reproduces the published test vector", () => {
    expect(signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
    expect(verifyStandardWebhookSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body, `v1a,xyz ${VECTOR.signature}`)).toBe(true);
    expect(verifyStandardWebhookSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body, VECTOR.signature)).toBe(false);
  });

  it("agrees with the official standardwebhooks package for generated secrets", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(decodeSecret(secret)).toHaveLength(32);
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: "user.pre_create", payload: { user: { id: "ü" } } });
    const sig = signStandardWebhook(secret, "evt-1", now, body);
    expect(sig).toBe(new Webhook(secret).sign("evt-1", new Date(now * 1000), body));
    expect(new Webhook(secret).verify(body, { "webhook-id": "evt-1", "webhook-timestamp": String(now), "webhook-signature": sig })).toEqual(JSON.parse(body));
  });

  it("signs with every secret during rotation", () => {
    const a = generateSecret();
    const b = generateSecret();
    const header = signStandardWebhookAll([a, b], "id", 1, "{}");
    expect(header.split(" ")).toEqual([signStandardWebhook(a, "id", 1, "{}"), signStandardWebhook(b, "id", 1, "{}")]);
    expect(verifyStandardWebhookSignature(b, "id", 1, "{}", header)).toBe(true);
  });

  it("refuses malformed secrets instead of deriving a different key", () => {
    expect(isValidSecret(VECTOR.secret)).toBe(true);
    for (const bad of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_abc", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw", `whsec_${Buffer.alloc(16).toString("base64")}`, `whsec_${Buffer.alloc(65).toString("base64")}`]) {
      expect(isValidSecret(bad), bad).toBe(false);
    }
    expect(() => signStandardWebhook("whsec_nope", "id", 1, "{}")).toThrow(TypeError);
  });

  it("computes Authgear's body signature keyed with the secret string as shown", () => {
    // HMAC-SHA256("whsec_MfKQ...", body) in hex, computed independently with openssl:
    // printf '%s' '{"test": 2432232314}' | openssl dgst -sha256 -hmac 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    expect(signAuthgearBody(VECTOR.secret, VECTOR.body)).toMatch(/^[0-9a-f]{64}$/);
    expect(signAuthgearBody(VECTOR.secret, VECTOR.body)).toBe(AUTHGEAR_EXPECTED);
  });
});

const AUTHGEAR_EXPECTED = "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c";
