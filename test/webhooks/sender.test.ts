import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HTTP, type CloudEvent } from "cloudevents";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { classifyResponse } from "../../src/core/delivery/classify.js";
import { buildWebhookRequest, webhookUserAgent, type WebhookTarget } from "../../src/core/delivery/webhook-request.js";
import type { Envelope } from "../../src/core/envelope.js";
import { generateSecret } from "../../src/core/signing/standard-webhooks.js";
import { createWebhookSender, type WebhookSender, type WebhookSenderOptions } from "../../src/destinations/webhook/webhook-sender.js";
import { readAuthbusVersion } from "../../src/version.js";

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  connections: () => number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real HTTP server on a loopback port; `handle` answers after the body was read. */
async function receiver(handle: (req: IncomingMessage, res: ServerResponse, r: Received) => void = (_q, res) => res.writeHead(204).end()): Promise<Receiver> {
  const received: Received[] = [];
  let connections = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
    received.push(r);
    handle(req, res, r);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks`, port, received, connections: () => connections };
}

function sender(options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const s = createWebhookSender({ allowPrivateNetworks: true, ...options });
  cleanups.push(() => s.close());
  return s;
}

const plain = { body: '{"hello":"world"}', headers: { "content-type": "application/json" } };

describe("createWebhookSender against real loopback receivers", () => {
  it("2xx: status, latency and the response head, truncated to the limit on a character boundary", async () => {
    const long = "a" + "é".repeat(1500);
    const r = await receiver((_q, res) => res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(long));
    const result = await sender().send(r.url, plain);
    expect(result.status).toBe(200);
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.latencyMs).toBeLessThan(5_000);
    // 1024 bytes = "a" + 511 × "é" (2 bytes each) + half a character, which is dropped.
    expect(result.responseHead).toBe("a" + "é".repeat(511));
    expect(result.responseTruncated).toBe(true);
    expect(classifyResponse({ status: result.status, now: Date.now() }).outcome).toBe("delivered");
    expect(r.received).toHaveLength(1);
    expect(r.received[0]).toMatchObject({ method: "POST", body: plain.body });

    const short = await receiver((_q, res) => res.writeHead(202).end("queued"));
    expect(await sender({ maxResponseHeadBytes: 16 }).send(short.url, plain)).toMatchObject({ status: 202, responseHead: "queued" });
  });

  it("does not follow a 302: the redirect target receives nothing", async () => {
    const target = await receiver();
    const redirecting = await receiver((_q, res) => res.writeHead(302, { location: target.url }).end());
    const result = await sender().send(redirecting.url, plain);
    expect(result).toMatchObject({ status: 302, location: target.url });
    expect(target.received).toHaveLength(0);
    expect(target.connections()).toBe(0);
    expect(classifyResponse({ status: result.status, locationHeader: result.location, now: Date.now() })).toMatchObject({ outcome: "retry", flagged: "redirect" });
  });

  it("410, 429 with Retry-After and 500 come back as results that classify as disable, throttled retry, retry", async () => {
    const gone = await receiver((_q, res) => res.writeHead(410).end("gone"));
    const throttled = await receiver((_q, res) => res.writeHead(429, { "retry-after": "7" }).end());
    const broken = await receiver((_q, res) => res.writeHead(500).end("boom"));
    const s = sender();
    const now = Date.now();
    const [a, b, c] = await Promise.all([s.send(gone.url, plain), s.send(throttled.url, plain), s.send(broken.url, plain)]);
    expect(a).toMatchObject({ status: 410, responseHead: "gone" });
    expect(classifyResponse({ status: a.status, now }).outcome).toBe("disable");
    expect(b).toMatchObject({ status: 429, retryAfter: "7" });
    expect(classifyResponse({ status: b.status, retryAfterHeader: b.retryAfter, now })).toMatchObject({ outcome: "retry", retryAfterMs: 7_000 });
    expect(c).toMatchObject({ status: 500, responseHead: "boom" });
    expect(classifyResponse({ status: c.status, now }).outcome).toBe("retry");
  });

  it("a receiver that destroys the socket: a network error result, no status", async () => {
    const r = await receiver((req) => req.socket.destroy());
    const result = await sender().send(r.url, plain);
    expect(result.status).toBeUndefined();
    expect(result.errorKind).toBe("network");
    expect(result.error).toMatch(/closed|reset|socket/i);
    expect(classifyResponse({ status: result.status, error: result.error, now: Date.now() }).outcome).toBe("retry");
  });

  it("a receiver that never answers: a timeout result after totalTimeoutMs", async () => {
    const r = await receiver(() => undefined);
    const started = Date.now();
    const result = await sender({ totalTimeoutMs: 300 }).send(r.url, plain);
    expect(result.status).toBeUndefined();
    expect(result).toMatchObject({ errorKind: "timeout", error: expect.stringContaining("300 ms") });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("keeps connections alive: sequential sends reuse one connection; a huge response is cut and its connection dropped", async () => {
    const r = await receiver((_q, res) => res.writeHead(200).end("ok ".repeat(100)));
    const one = sender({ connectionsPerOrigin: 1 });
    for (let i = 0; i < 5; i++) expect((await one.send(r.url, plain)).status).toBe(200);
    expect(r.received).toHaveLength(5);
    expect(r.connections()).toBe(1);
    // With the default pool, a send issued in the same tick as the previous response ends may
    // find that connection not yet released and open a second one, but not one per send.
    const pooled = await receiver((_q, res) => res.writeHead(200).end("ok"));
    const s = sender();
    for (let i = 0; i < 20; i++) expect((await s.send(pooled.url, plain)).status).toBe(200);
    expect(pooled.connections()).toBeLessThanOrEqual(2);

    // A body past the head limit but within the drain limit is read to the end, keeping the connection.
    const medium = await receiver((_q, res) => res.writeHead(200).end(Buffer.alloc(4 * 1024, 0x61)));
    const m = sender({ connectionsPerOrigin: 1 });
    expect(await m.send(medium.url, plain)).toMatchObject({ status: 200, responseTruncated: true });
    expect((await m.send(medium.url, plain)).status).toBe(200);
    expect(medium.connections()).toBe(1);

    const huge = await receiver((_q, res) => res.writeHead(200).end(Buffer.alloc(512 * 1024, 0x61)));
    const h = sender({ maxDrainBytes: 8 * 1024, connectionsPerOrigin: 1 });
    const first = await h.send(huge.url, plain);
    expect(first).toMatchObject({ status: 200, responseTruncated: true });
    expect(first.responseHead).toHaveLength(1024);
    expect((await h.send(huge.url, plain)).status).toBe(200);
    expect(huge.connections()).toBe(2);
  });

  it("SSRF guard on: 127.0.0.1 and localhost are refused with an error result and nothing reaches the server", async () => {
    const r = await receiver();
    const guarded = sender({ allowPrivateNetworks: false });
    for (const url of [r.url, `http://localhost:${r.port}/hooks`, `http://[::ffff:127.0.0.1]:${r.port}/hooks`]) {
      const result = await guarded.send(url, plain);
      expect(result.status, url).toBeUndefined();
      expect(result.errorKind, url).toBe("ssrf_refused");
      expect(result.error, url).toMatch(/Refused to connect to .*loopback.*allowPrivateNetworks/);
    }
    expect(r.connections()).toBe(0);
    expect(r.received).toHaveLength(0);

    const open = sender({ allowPrivateNetworks: true });
    expect((await open.send(`http://localhost:${r.port}/hooks`, plain)).status).toBe(204);
    expect((await open.send(r.url, plain)).status).toBe(204);
    expect(r.received).toHaveLength(2);
  });

  it("refuses unusable URLs as results", async () => {
    const s = sender();
    expect(await s.send("not a url", plain)).toMatchObject({ errorKind: "invalid_request" });
    expect(await s.send("ftp://127.0.0.1/x", plain)).toMatchObject({ errorKind: "invalid_request", error: expect.stringContaining("ftp:") });
  });
});

describe("buildWebhookRequest + sender, checked on the receiving side", () => {
  const secret = generateSecret();
  const rotated = generateSecret();
  const USER_ID = "0190f1b2-7c3d-7e2a-9b1c-2d3e4f5a6b7c";
  const envelope = {
    id: "0194be1a-4f00-7abc-8def-000000000042",
    seq: 42,
    subject_seq: 1,
    type: "user.created",
    payload: { user: { id: USER_ID, created_at: "2025-02-01T12:34:56Z", updated_at: "2025-02-01T12:34:56Z", is_disabled: false, standard_attributes: { name: "Zoë € 😀" } }, identities: [] },
    context: { app_id: "acme", timestamp: 1738413296, triggered_by: "user", preferred_languages: ["en"], language: "en", user_id: USER_ID },
  } as unknown as Envelope;
  const userAgent = webhookUserAgent(readAuthbusVersion());

  function build(target: Partial<WebhookTarget>) {
    const built = buildWebhookRequest(envelope, { id: "sub_1", format: "native", secrets: [secret, rotated], ...target }, { nowSeconds: Math.floor(Date.now() / 1000), userAgent });
    if (!built.ok) throw new Error(built.skip);
    return built;
  }

  it("the signed request verifies with standardwebhooks against the bytes received, with either secret", async () => {
    const r = await receiver();
    const built = build({ headers: { authorization: "Bearer t0k" } });
    expect((await sender().send(r.url, built)).status).toBe(204);
    const got = r.received[0]!;
    const headers = got.headers as Record<string, string>;
    expect(new Webhook(secret).verify(got.body, headers)).toEqual(JSON.parse(built.body));
    expect(new Webhook(rotated).verify(got.body, headers)).toEqual(JSON.parse(built.body));
    expect(headers).toMatchObject({ "webhook-id": envelope.id, authorization: "Bearer t0k", "content-type": "application/json" });
    expect(headers["user-agent"]).toMatch(/^Authbus\/\d+\.\d+\.\d+\S* \(\+https:\/\/github\.com\/authbus\)$/);
  });

  it("the CloudEvents binary rendering received by the server parses with the cloudevents SDK", async () => {
    const r = await receiver();
    const built = build({ format: "cloudevents-binary" });
    expect((await sender().send(r.url, built)).status).toBe(204);
    const got = r.received[0]!;
    const ce = HTTP.toEvent({ headers: got.headers, body: got.body }) as CloudEvent<{ object: { user: { id: string } } }>;
    expect(ce).toMatchObject({ specversion: "1.0", id: envelope.id, type: "user.created", source: "urn:authbus:acme", subject: USER_ID, authbusseq: "42" });
    expect(ce.data?.object.user.id).toBe(USER_ID);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(ce.data);
  });
});
