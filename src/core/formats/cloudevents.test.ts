import { CloudEvent, HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../envelope.js";
import {
  decodeCloudEventsHeaderValue,
  encodeCloudEventsHeaderValue,
  renderCloudEventsBinary,
  renderCloudEventsStructured,
  toCloudEvent,
} from "./cloudevents.js";

const USER_ID = "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c";
const TS = 1738413296; // 2025-02-01T12:34:56Z

function envelope(type: string, payload: Record<string, unknown>, context: Record<string, unknown> = {}, seq = 42): Envelope {
  return {
    id: `0194be1a-4f00-7abc-8def-${String(seq).padStart(12, "0")}`,
    seq,
    subject_seq: "user_id" in context ? 1 : null,
    type,
    payload,
    context: { app_id: "acme", timestamp: TS, triggered_by: "user", preferred_languages: ["en"], language: "en", ...context },
  } as unknown as Envelope;
}

const userCreated = envelope(
  "user.created",
  {
    user: {
      id: USER_ID,
      created_at: "2025-02-01T12:34:56Z",
      updated_at: "2025-02-01T12:34:56Z",
      is_disabled: false,
      standard_attributes: { email: "zoe@example.com", email_verified: true, name: "Zoë Smith" },
      custom_attributes: { plan: "pro" },
    },
    identities: [
      {
        id: "0190f1b2-0000-7000-8000-000000000001",
        type: "login_id",
        claims: { email: "zoe@example.com", "https://authgear.com/claims/login_id/type": "email", "https://authgear.com/claims/login_id/value": "zoe@example.com" },
      },
      {
        id: "0190f1b2-0000-7000-8000-000000000002",
        type: "oauth",
        claims: { "https://authgear.com/claims/oauth/provider_type": "google", "https://authgear.com/claims/oauth/subject_id": "109876543210" },
      },
    ],
  },
  { user_id: USER_ID, client_id: "portal", ip_address: "203.0.113.7", user_agent: "Mozilla/5.0" },
);

const orgCreated = envelope("organization.created", { organization: { id: "org_Ab12Cd34Ef56Gh78", name: "acme-eu", display_name: "Acme EU" } }, { triggered_by: "admin_api" }, 43);
const botFailed = envelope("bot_protection.verification.failed", {}, { ip_address: "198.51.100.9" }, 44);

function asEvent(message: { headers: Record<string, string>; body: string }): CloudEvent<unknown> {
  const ce = HTTP.toEvent({ headers: message.headers, body: message.body });
  if (Array.isArray(ce)) throw new Error("expected a single event");
  return ce as CloudEvent<unknown>;
}

describe("toCloudEvent", () => {
  it("maps the envelope onto CloudEvents 1.0 attributes", () => {
    expect(toCloudEvent(userCreated)).toEqual({
      specversion: "1.0",
      id: userCreated.id,
      source: "urn:authbus:acme",
      type: "user.created",
      time: "2025-02-01T12:34:56.000Z",
      subject: USER_ID,
      datacontenttype: "application/json",
      dataschema: "urn:authbus:catalog:user.created",
      authbusseq: 42,
      data: { object: userCreated.payload, context: userCreated.context },
    });
  });

  it("uses the configured schema base URL and omits subject when there is no user", () => {
    const ce = toCloudEvent(orgCreated, { schemaBaseUrl: "https://authbus.example.com/v1/catalog/" });
    expect(ce.dataschema).toBe("https://authbus.example.com/v1/catalog/organization.created");
    expect(ce).not.toHaveProperty("subject");
  });

  it("percent-encodes an app id that would not be a valid URI", () => {
    const ce = toCloudEvent(envelope("user.created", { user: { id: "u1" }, identities: [] }, { app_id: "acme corp/eu" }));
    expect(ce.source).toBe("urn:authbus:acme%20corp%2Feu");
    expect(new CloudEvent(ce as never).validate()).toBe(true);
  });
});

describe("structured mode", () => {
  for (const [name, env] of [["user.created", userCreated], ["organization.created", orgCreated], ["bot_protection.verification.failed", botFailed]] as const) {
    it(`round-trips ${name} through the cloudevents SDK`, () => {
      const message = renderCloudEventsStructured(env);
      expect(message.headers).toEqual({ "content-type": "application/cloudevents+json; charset=utf-8" });
      const ce = asEvent(message);
      expect(ce.validate()).toBe(true);
      expect(ce.specversion).toBe("1.0");
      expect(ce.id).toBe(env.id);
      expect(ce.source).toBe("urn:authbus:acme");
      expect(ce.type).toBe(env.type);
      expect(ce.time).toBe(new Date(TS * 1000).toISOString());
      expect(ce.subject).toBe(env.context.user_id);
      expect(ce.datacontenttype).toBe("application/json");
      expect(ce.dataschema).toBe(`urn:authbus:catalog:${env.type}`);
      expect(ce.data).toEqual({ object: env.payload, context: env.context });
      expect(ce["authbusseq"]).toBe(env.seq);
      // What the SDK would re-serialise is what we sent: time in particular is not rewritten.
      expect(ce.toJSON()).toEqual(JSON.parse(message.body));
    });
  }
});

describe("binary mode", () => {
  it("puts every attribute in a ce-* header and data in the body", () => {
    const message = renderCloudEventsBinary(userCreated);
    expect(message.headers).toEqual({
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": userCreated.id,
      "ce-source": "urn:authbus:acme",
      "ce-type": "user.created",
      "ce-time": "2025-02-01T12:34:56.000Z",
      "ce-subject": USER_ID,
      "ce-dataschema": "urn:authbus:catalog:user.created",
      "ce-authbusseq": "42",
    });
    expect(JSON.parse(message.body)).toEqual({ object: userCreated.payload, context: userCreated.context });

    const ce = asEvent(message);
    expect(ce.validate()).toBe(true);
    expect(ce.id).toBe(userCreated.id);
    expect(ce.source).toBe("urn:authbus:acme");
    expect(ce.type).toBe("user.created");
    expect(ce.time).toBe("2025-02-01T12:34:56.000Z");
    expect(ce.subject).toBe(USER_ID);
    expect(ce.dataschema).toBe("urn:authbus:catalog:user.created");
    expect(ce.datacontenttype).toBe("application/json");
    expect(ce.data).toEqual({ object: userCreated.payload, context: userCreated.context });
    // Headers are strings: the integer arrives as its canonical string form.
    expect(ce["authbusseq"]).toBe("42");
  });

  it("sends no ce-subject and no ce-datacontenttype for an event without a user", () => {
    const { headers } = renderCloudEventsBinary(orgCreated);
    expect(headers).not.toHaveProperty("ce-subject");
    expect(headers).not.toHaveProperty("ce-datacontenttype");
    expect(asEvent(renderCloudEventsBinary(orgCreated)).subject).toBeUndefined();
  });

  it("percent-encodes header values and our decoder restores every attribute", () => {
    const env = envelope("user.profile.updated", { user: { id: "Zoë Smith" } }, { user_id: "Zoë Smith" });
    const { headers } = renderCloudEventsBinary(env);
    expect(headers["ce-subject"]).toBe("Zo%C3%AB%20Smith");
    const structured = toCloudEvent(env) as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith("ce-")) continue;
      expect(decodeCloudEventsHeaderValue(value)).toBe(String(structured[name.slice(3)]));
    }
    // The SDK passes header values through undecoded (wire-formats.md §4), so it sees the encoded form.
    expect(asEvent({ headers, body: "{}" }).subject).toBe("Zo%C3%AB%20Smith");
  });
});

describe("header value encoding", () => {
  it("matches the binding's example and encodes space, quote and percent", () => {
    expect(encodeCloudEventsHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(encodeCloudEventsHeaderValue('a "b" 100%')).toBe("a%20%22b%22%20100%25");
    expect(encodeCloudEventsHeaderValue("tab\tnl\n\u007f")).toBe("tab%09nl%0A%7F");
    expect(encodeCloudEventsHeaderValue("urn:authbus:acme/~!#$&'()*+,;=?@[]^_`{|}")).toBe("urn:authbus:acme/~!#$&'()*+,;=?@[]^_`{|}");
  });

  it("decodes quoted strings, and round-trips arbitrary text", () => {
    expect(decodeCloudEventsHeaderValue('"Zo%C3%AB \\"S\\""')).toBe('Zoë "S"');
    for (const s of ["Zoë Smith", "Euro € 😀", "100% \"quoted\"", "日本語", "plain"]) {
      expect(decodeCloudEventsHeaderValue(encodeCloudEventsHeaderValue(s))).toBe(s);
    }
  });

  it("rejects malformed escapes and invalid UTF-8 such as overlong forms", () => {
    expect(() => decodeCloudEventsHeaderValue("%C0%A0")).toThrow(URIError);
    expect(() => decodeCloudEventsHeaderValue("%E2%82")).toThrow(URIError);
    expect(() => decodeCloudEventsHeaderValue("100%")).toThrow(URIError);
  });
});
