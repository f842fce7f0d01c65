import { describe, expect, it } from "vitest";
import { buildNatsMessage, classifyPublish, natsSubjectFor, validateNatsSubject } from "../../src/core/delivery/nats-message.js";
import type { Envelope } from "../../src/core/envelope.js";

const envelope = {
  id: "0190d5b2-4a35-7c1e-8a1b-2f1f3c4d5e6f",
  seq: 7,
  subject_seq: 2,
  type: "user.created",
  payload: { user: { id: "u1" }, identities: [] },
  context: { timestamp: 1_790_000_000, app_id: "acme", user_id: "u1", triggered_by: "user", language: "en", preferred_languages: [] },
} as unknown as Envelope;

describe("NATS message rendering (pure)", () => {
  it("substitutes {app} and {type}; the dots of a type become subject tokens", () => {
    expect(natsSubjectFor("authbus.{app}.{type}", envelope)).toBe("authbus.acme.user.created");
    expect(natsSubjectFor("events", envelope)).toBe("events");
    expect(natsSubjectFor("t-{app}.x", envelope)).toBe("t-acme.x");
  });

  it("validates subject templates as publishable NATS subjects", () => {
    for (const ok of ["authbus.{app}.{type}", "a", "a.b-c_d.{type}", "x{app}y"]) expect(validateNatsSubject(ok), ok).toEqual([]);
    for (const bad of ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "a.{user}", "a.{", "$JS.API.x", "a\tb"]) expect(validateNatsSubject(bad).length, bad).toBeGreaterThan(0);
  });

  it("sets Nats-Msg-Id to the event id (or the id asked for) and renders the format", () => {
    const native = buildNatsMessage(envelope, { id: "sub_1", format: "native", subject: "authbus.{app}.{type}" });
    expect(native).toMatchObject({ ok: true, subject: "authbus.acme.user.created", headers: { "Nats-Msg-Id": envelope.id, "content-type": "application/json" } });
    expect(JSON.parse((native as { body: string }).body)).toMatchObject({ id: envelope.id, seq: 7, type: "user.created" });

    const structured = buildNatsMessage(envelope, { id: "sub_1", format: "cloudevents", subject: "s" }, { msgId: "custom" });
    expect(structured).toMatchObject({ ok: true, headers: { "Nats-Msg-Id": "custom", "content-type": "application/cloudevents+json; charset=utf-8" } });
    expect(JSON.parse((structured as { body: string }).body)).toMatchObject({ specversion: "1.0", id: envelope.id, type: "user.created" });

    const binary = buildNatsMessage(envelope, { id: "sub_1", format: "cloudevents-binary", subject: "s" });
    expect(binary).toMatchObject({ ok: true, headers: { "ce-id": envelope.id, "ce-type": "user.created", "ce-datacontenttype": "application/json", "Nats-Msg-Id": envelope.id } });
  });

  it("skips what Auth0 cannot carry, like the webhook rendering", () => {
    const r = buildNatsMessage({ ...envelope, type: "user.authenticated" } as Envelope, { id: "sub_1", format: "auth0", subject: "s" });
    expect(r.ok).toBe(false);
  });

  it("a PubAck (duplicate or not) is delivered; any error is retried", () => {
    expect(classifyPublish({}).outcome).toBe("delivered");
    expect(classifyPublish({ error: "no PubAck within 5000 ms" })).toEqual({ outcome: "retry", reason: "NATS: no PubAck within 5000 ms" });
  });
});
