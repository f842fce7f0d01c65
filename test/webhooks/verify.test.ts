import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, describe, expect, it } from "vitest";
import { generateSecret, signStandardWebhook, signStandardWebhookAll } from "../../src/core/signing/standard-webhooks.js";
import {
  AuthbusError,
  verifyWebhook,
  verifyWebhookSync,
  WebhookMalformedError,
  WebhookSignatureInvalidError,
  WebhookTimestampStaleError,
  WebhookVerificationError,
  type AnyEnvelope,
} from "../../src/webhooks/index.js";

const secret = generateSecret();
const other = generateSecret();
const now = new Date("2025-02-01T12:00:00Z");
const ts = Math.floor(now.getTime() / 1000);
const id = "0194be1a-4f00-7abc-8def-000000000042";
const body = JSON.stringify({ id, seq: 42, subject_seq: null, type: "user.created", payload: { user: { id: "u1", name: "Zoë" } }, context: { app_id: "acme" } });

function headersFor(opts: { secrets?: string[]; timestamp?: number; msgId?: string; payload?: string } = {}): Record<string, string> {
  const t = opts.timestamp ?? ts;
  const msgId = opts.msgId ?? id;
  return { "webhook-id": msgId, "webhook-timestamp": String(t), "webhook-signature": signStandardWebhookAll(opts.secrets ?? [secret], msgId, t, opts.payload ?? body) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("interoperability with the official libraries", () => {
  it("our signatures verify with standardwebhooks and with svix (svix-* header names)", () => {
    const nowHeaders = headersFor({ timestamp: Math.floor(Date.now() / 1000) });
    expect(new StandardWebhook(secret).verify(body, nowHeaders)).toEqual(JSON.parse(body));
    expect(
      new SvixWebhook(secret).verify(body, {
        "svix-id": nowHeaders["webhook-id"]!,
        "svix-timestamp": nowHeaders["webhook-timestamp"]!,
        "svix-signature": nowHeaders["webhook-signature"]!,
      }),
    ).toEqual(JSON.parse(body));
  });

  it("verifyWebhook accepts signatures made by standardwebhooks' sign and by svix's sign", async () => {
    const official = new StandardWebhook(secret).sign(id, now, body);
    const svix = new SvixWebhook(secret).sign(id, now, body);
    for (const signature of [official, svix]) {
      const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature };
      await expect(verifyWebhook({ headers, body }, secret, { now })).resolves.toEqual(JSON.parse(body));
    }
  });

  it("reproduces the published test vector", () => {
    const vector = { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", ts: 1614265330, body: '{"test": 2432232314}' };
    const headers = { "webhook-id": vector.id, "webhook-timestamp": String(vector.ts), "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" };
    expect(verifyWebhookSync({ headers, body: vector.body }, vector.secret, { now: new Date(vector.ts * 1000) })).toEqual({ test: 2432232314 });
  });
});

describe("verifyWebhook refuses what it must, with the right error", () => {
  const expectError = (e: unknown, cls: abstract new (...args: never[]) => WebhookVerificationError, code: string) => {
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(WebhookVerificationError);
    expect(e).toBeInstanceOf(AuthbusError);
    expect((e as AuthbusError).code).toBe(code);
  };

  it("a tampered body", async () => {
    const e = await rejection(verifyWebhook({ headers: headersFor(), body: body.replace("Zoë", "Eve") }, secret, { now }));
    expectError(e, WebhookSignatureInvalidError, "webhook_signature_invalid");
  });

  it("a tampered id or timestamp", async () => {
    const forgedId = { ...headersFor(), "webhook-id": "0194be1a-4f00-7abc-8def-000000000043" };
    expectError(await rejection(verifyWebhook({ headers: forgedId, body }, secret, { now })), WebhookSignatureInvalidError, "webhook_signature_invalid");
    const forgedTs = { ...headersFor(), "webhook-timestamp": String(ts + 1) };
    expectError(await rejection(verifyWebhook({ headers: forgedTs, body }, secret, { now })), WebhookSignatureInvalidError, "webhook_signature_invalid");
  });

  it("a wrong secret, and a header with only unsupported versions", async () => {
    expectError(await rejection(verifyWebhook({ headers: headersFor(), body }, other, { now })), WebhookSignatureInvalidError, "webhook_signature_invalid");
    const v1a = { ...headersFor(), "webhook-signature": "v1a,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=" };
    expectError(await rejection(verifyWebhook({ headers: v1a, body }, secret, { now })), WebhookSignatureInvalidError, "webhook_signature_invalid");
  });

  it("a timestamp more than 5 minutes old or in the future, even correctly signed", async () => {
    for (const [offset, skew] of [
      [-301, -301],
      [301, 301],
      [-3600, -3600],
    ] as const) {
      const e = await rejection(verifyWebhook({ headers: headersFor({ timestamp: ts + offset }), body }, secret, { now }));
      expectError(e, WebhookTimestampStaleError, "webhook_timestamp_stale");
      expect((e as WebhookTimestampStaleError).skewSeconds).toBe(skew);
      expect((e as WebhookTimestampStaleError).timestamp).toBe(ts + offset);
    }
    // The bounds themselves are inside the window.
    await expect(verifyWebhook({ headers: headersFor({ timestamp: ts - 300 }), body }, secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook({ headers: headersFor({ timestamp: ts + 300 }), body }, secret, { now })).resolves.toBeTruthy();
    // A custom tolerance.
    const e = await rejection(verifyWebhook({ headers: headersFor({ timestamp: ts - 31 }), body }, secret, { now, toleranceSeconds: 30 }));
    expectError(e, WebhookTimestampStaleError, "webhook_timestamp_stale");
  });

  it("missing or malformed headers and bodies", async () => {
    const good = headersFor();
    const cases: [string, Record<string, string>, string | Uint8Array][] = [
      ["no webhook-id", { ...good, "webhook-id": "" }, body],
      ["no headers at all", {}, body],
      ["no webhook-signature", { "webhook-id": id, "webhook-timestamp": String(ts) }, body],
      ["timestamp not a number", { ...good, "webhook-timestamp": "2025-02-01T12:00:00Z" }, body],
      ["timestamp with junk", { ...good, "webhook-timestamp": `${ts}abc` }, body],
      ["timestamp with a leading zero", { ...good, "webhook-timestamp": `0${ts}` }, body],
      ["signature without version", { ...good, "webhook-signature": good["webhook-signature"]!.slice(3) }, body],
      ["signature list of spaces", { ...good, "webhook-signature": "   " }, body],
    ];
    for (const [what, headers, b] of cases) {
      const e = await rejection(verifyWebhook({ headers, body: b }, secret, { now }));
      expect(e, what).toBeInstanceOf(WebhookMalformedError);
      expect((e as AuthbusError).code, what).toBe("webhook_malformed");
    }
    // Correctly signed, but not JSON / not UTF-8: still refused.
    const notJson = "not json";
    expectError(await rejection(verifyWebhook({ headers: headersFor({ payload: notJson }), body: notJson }, secret, { now })), WebhookMalformedError, "webhook_malformed");
    const latin1 = Buffer.from([0x7b, 0xff, 0x7d]);
    const h = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signStandardWebhook(secret, id, ts, latin1) };
    expectError(await rejection(verifyWebhook({ headers: h, body: latin1 }, secret, { now })), WebhookMalformedError, "webhook_malformed");
  });

  it("programmer mistakes are TypeErrors, and never echo the secret", () => {
    expect(thrown(() => verifyWebhookSync({ headers: headersFor(), body }, "whsec_tooshort", { now }))).toBeInstanceOf(TypeError);
    expect(String(thrown(() => verifyWebhookSync({ headers: headersFor(), body }, "whsec_tooshort", { now })))).not.toContain("tooshort");
    expect(thrown(() => verifyWebhookSync({ headers: headersFor(), body }, [], { now }))).toBeInstanceOf(TypeError);
    expect(thrown(() => verifyWebhookSync({ headers: headersFor(), body }, secret, { now, toleranceSeconds: -1 }))).toBeInstanceOf(TypeError);
  });
});

describe("accepted inputs", () => {
  it("{ headers, body } with a string, a Buffer or a Uint8Array body, header names in any case", async () => {
    const headers = Object.fromEntries(Object.entries(headersFor()).map(([k, v]) => [k.toUpperCase(), v]));
    const expected = JSON.parse(body);
    await expect(verifyWebhook({ headers, body }, secret, { now })).resolves.toEqual(expected);
    await expect(verifyWebhook({ headers, body: Buffer.from(body) }, secret, { now })).resolves.toEqual(expected);
    await expect(verifyWebhook({ headers, body: new TextEncoder().encode(body) }, secret, { now })).resolves.toEqual(expected);
    const env = verifyWebhookSync<AnyEnvelope>({ headers: new Headers(headersFor()), body }, secret, { now });
    expect(env.type).toBe("user.created");
  });

  it("a Web Request, whose body is read once", async () => {
    const request = new Request("https://receiver.example/hooks", { method: "POST", headers: headersFor(), body });
    await expect(verifyWebhook(request, secret, { now })).resolves.toEqual(JSON.parse(body));
    expect(request.bodyUsed).toBe(true);
    // A second call cannot read it again: a clear TypeError, not a signature error.
    expect(await rejection(verifyWebhook(request, secret, { now }))).toBeInstanceOf(TypeError);
    const tampered = new Request("https://receiver.example/hooks", { method: "POST", headers: headersFor(), body: body + " " });
    expect(await rejection(verifyWebhook(tampered, secret, { now }))).toBeInstanceOf(WebhookSignatureInvalidError);
    const big = new Request("https://receiver.example/hooks", { method: "POST", headers: headersFor(), body });
    expect(await rejection(verifyWebhook(big, secret, { now, maxBodyBytes: 16 }))).toBeInstanceOf(WebhookMalformedError);
  });

  it("rotation: a header with two signatures verifies with either secret, or with a list of secrets", async () => {
    const headers = headersFor({ secrets: [secret, other] });
    await expect(verifyWebhook({ headers, body }, secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook({ headers, body }, other, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook({ headers: headersFor({ secrets: [other] }), body }, [secret, other], { now })).resolves.toBeTruthy();
    expect(await rejection(verifyWebhook({ headers, body }, generateSecret(), { now }))).toBeInstanceOf(WebhookSignatureInvalidError);
  });
});

describe("a Node IncomingMessage on a real loopback server", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function receiver(handle: (req: IncomingMessage) => Promise<unknown>): Promise<string> {
    const server = createServer((req, res) => {
      handle(req).then(
        (value) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, value })),
        (e: Error & { code?: string }) => res.writeHead(e instanceof WebhookVerificationError ? 400 : 500, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, name: e.name, code: e.code })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  }

  it("verifies a real POST, refuses a tampered one, and says so when a body parser consumed the body", async () => {
    const url = await receiver((req) => verifyWebhook(req, secret, { now }));
    const good = await fetch(url, { method: "POST", headers: headersFor(), body });
    expect(await good.json()).toEqual({ ok: true, value: JSON.parse(body) });
    const bad = await fetch(url, { method: "POST", headers: headersFor(), body: body.replace("42", "43") });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ ok: false, name: "WebhookSignatureInvalidError", code: "webhook_signature_invalid" });
    const stale = await fetch(url, { method: "POST", headers: headersFor({ timestamp: ts - 600 }), body });
    expect(await stale.json()).toMatchObject({ code: "webhook_timestamp_stale" });
    await close!();

    const smallUrl = await receiver((req) => verifyWebhook(req, secret, { now, maxBodyBytes: 16 }));
    const tooLarge = await fetch(smallUrl, { method: "POST", headers: headersFor(), body });
    expect(await tooLarge.json()).toMatchObject({ code: "webhook_malformed" });
    await close!();

    const consumedUrl = await receiver(async (req) => {
      for await (const _ of req) void _;
      return verifyWebhook(req, secret, { now });
    });
    const consumed = await fetch(consumedUrl, { method: "POST", headers: headersFor(), body });
    expect(consumed.status).toBe(500);
    expect(await consumed.json()).toMatchObject({ name: "TypeError" });
  });
});
