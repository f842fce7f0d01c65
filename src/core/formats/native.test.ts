import { describe, expect, it } from "vitest";
import type { Envelope } from "../envelope.js";
import { keepStoredJson, renderNative } from "./native.js";

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

  it("splices stored JSON text into the same bytes as serialising the parsed objects", () => {
    // What a store reads back: text JSON.stringify wrote at emit, parsed into the envelope's objects.
    const awkward = {
      user: { id: "u\u2028\"quoted\"\\", standard_attributes: { name: "Zoë 🚀 \ud800", n: [0, -0, 1e21, 1.5e-7, 123456789012345680000] } },
      nested: { empty: {}, list: [], nul: null, t: true },
      // An own "__proto__" key, as JSON.parse makes it (a literal would set the prototype instead).
      ...(JSON.parse('{"__proto__": {"x": 1}}') as object),
    };
    for (const e of [envelope, { ...envelope, subject_seq: null, payload: awkward }] as Envelope[]) {
      const payloadText = JSON.stringify(e.payload);
      const contextText = JSON.stringify(e.context);
      const read = { ...e, payload: JSON.parse(payloadText), context: JSON.parse(contextText) } as Envelope;
      const plain = renderNative(read).body;
      const spliced = renderNative(keepStoredJson({ ...read }, payloadText, contextText)).body;
      expect(spliced).toBe(plain);
    }
  });

  it("uses stored text only for the envelope object it was kept for", () => {
    const kept = keepStoredJson({ ...envelope } as Envelope, JSON.stringify({ stale: true }), JSON.stringify(envelope.context));
    // A copy (spread, changed) is serialised from its own objects.
    expect(JSON.parse(renderNative({ ...kept, payload: { fresh: true } } as unknown as Envelope).body).payload).toEqual({ fresh: true });
    expect(JSON.parse(renderNative(kept).body).payload).toEqual({ stale: true });
  });
});
