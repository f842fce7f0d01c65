import { describe, expect, it } from "vitest";
import type { Envelope } from "../envelope.js";
import { renderNative } from "./native.js";

// Payload types are strict about optional fields in places; fixtures are built loosely and cast once.
const envelope = {
  context: {
    triggered_by: "user",
    timestamp: 1738413296,
    app_id: "acme",
    user_id: "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c",
    preferred_languages: ["en-GB", "fr"],
    language: "en-GB",
    ip_address: "203.0.113.7",
  },
  payload: { user: { id: "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c", standard_attributes: { email: "zoe@example.com", name: "Zoë Smith" } } },
  type: "user.profile.updated",
  subject_seq: 3,
  seq: 42,
  id: "0194be1a-4f00-7abc-8def-0123456789ab",
} as unknown as Envelope;

describe("renderNative", () => {
  it("is the envelope as minified JSON in the documented key order", () => {
    const out = renderNative(envelope);
    expect(out.contentType).toBe("application/json");
    const parsed = JSON.parse(out.body) as Record<string, unknown>;
    expect(parsed).toEqual(envelope);
    expect(Object.keys(parsed)).toEqual(["id", "seq", "subject_seq", "type", "payload", "context"]);
    expect(out.body).toBe(JSON.stringify(parsed));
    expect(out.body).not.toMatch(/\n/);
  });

  it("keeps a null subject_seq for events without a user", () => {
    const orgEvent = { ...envelope, type: "organization.created", subject_seq: null, payload: { organization: { id: "org_Ab12Cd34Ef56Gh78" } } } as unknown as Envelope;
    expect(JSON.parse(renderNative(orgEvent).body)).toMatchObject({ subject_seq: null, type: "organization.created" });
  });
});
