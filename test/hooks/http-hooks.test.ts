import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, HookDeniedError, type Authbus } from "../../src/index.js";
import { tempDbPath, user } from "../helpers.js";
import { json, startHookServer, type HookServer } from "./hook-server.js";

const payload = (id = "u1") => ({ user: user(id), identities: [{ id: "i1", type: "login_id" }] });

describe("HTTP hooks", () => {
  let server: HookServer;
  let bus: Authbus;
  beforeAll(async () => {
    server = await startHookServer();
    bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: true });
  });
  afterAll(async () => {
    await bus.close();
    await server.close();
  });

  it("POSTs the envelope signed per Standard Webhooks (verified with the official package) and applies the answer", async () => {
    server.reply = json({ is_allowed: true, mutations: { user: { custom_attributes: { crm_id: "c-42" } } } });
    const { id, secret } = bus.hooks.add("user.pre_create", { url: server.url, authgearSignature: true }, { name: "crm" });
    expect(id).toBe("crm");
    expect(secret).toMatch(/^whsec_/);
    const before = server.requests.length;

    const final = await bus.before("user.pre_create", payload(), { ip_address: "198.51.100.4" });
    expect(final.user.custom_attributes).toEqual({ crm_id: "c-42" });

    const req = server.requests[before]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/hook");
    expect(req.headers["content-type"]).toBe("application/json");
    const verified = new Webhook(secret).verify(req.body, {
      "webhook-id": req.headers["webhook-id"] as string,
      "webhook-timestamp": req.headers["webhook-timestamp"] as string,
      "webhook-signature": req.headers["webhook-signature"] as string,
    }) as { id: string; seq: number; type: string; payload: unknown; context: Record<string, unknown> };
    expect(verified.id).toBe(req.headers["webhook-id"]);
    expect(verified).toMatchObject({ seq: 0, type: "user.pre_create", payload: payload(), context: { app_id: "default", ip_address: "198.51.100.4", user_id: "u1" } });
    expect(Math.abs(Number(req.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    // Authgear's header: hex HMAC-SHA256 of the body keyed with the secret string as shown.
    expect(req.headers["x-authgear-body-signature"]).toBe(createHmac("sha256", secret).update(req.body).digest("hex"));
    // A tampered body does not verify.
    expect(() => new Webhook(secret).verify(req.body.replace("u1", "u2"), req.headers as Record<string, string>)).toThrow();

    const [d] = await bus.decisions.query({ hook_id: "crm" });
    expect(d!.event_id).toBe(verified.id);
    expect(d!.hooks[0]).toMatchObject({ hook_id: "crm", kind: "http", outcome: "allow", mutations: { user: { custom_attributes: { crm_id: "c-42" } } } });
    bus.hooks.remove(id);
  });

  it("reuses connections across evaluations (keep-alive)", async () => {
    server.reply = json({ is_allowed: true });
    const { id } = bus.hooks.add("user.profile.pre_update", { url: server.url });
    const start = server.requests.length;
    for (let i = 0; i < 8; i++) await bus.before("user.profile.pre_update", { user: user("u1") });
    const conns = server.requests.slice(start).map((r) => r.connection);
    expect(conns).toHaveLength(8);
    // undici may open a second socket while the first is being released; never one per request.
    expect(new Set(conns).size).toBeLessThanOrEqual(2);
    bus.hooks.remove(id);
  });

  it("an HTTP deny carries the hook's title and reason to the caller", async () => {
    server.reply = json({ is_allowed: false, title: "Blocked", reason: "Disposable e-mail domain" });
    const { id } = bus.hooks.add("user.pre_create", { url: server.url });
    const err = await bus.before("user.pre_create", payload()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookDeniedError);
    expect(err).toMatchObject({ title: "Blocked", reason: "Disposable e-mail domain", hookId: id });
    bus.hooks.remove(id);
  });

  describe("every faulty answer denies, with the reason recorded in the ledger", () => {
    const bigChunk = Buffer.alloc(64 * 1024, 0x20);
    const cases: [string, HookServer["reply"], string, RegExp][] = [
      ["HTTP 500", (_q, res) => void res.writeHead(500).end("database is down"), "http_status", /^HTTP 500: database is down$/],
      ["a redirect (not followed)", (_q, res) => void res.writeHead(302, { location: "http://169.254.169.254/latest" }).end(), "http_status", /^HTTP 302: redirects are not followed \(location: http:\/\/169\.254\.169\.254\/latest\)$/],
      ["a body that is not JSON", (_q, res) => void res.writeHead(200, { "content-type": "text/html" }).end("<html>ok</html>"), "invalid_response", /not JSON.*<html>ok<\/html>/],
      ["an empty body", (_q, res) => void res.writeHead(200).end(), "invalid_response", /not JSON/],
      ["JSON that is not an object", json([{ is_allowed: true }]), "invalid_response", /must be a JSON object/],
      ["JSON outside the response schema", json({ is_allowed: "yes", extra: 1 }), "invalid_response", /\/is_allowed.*\/extra|\/extra.*\/is_allowed/s],
      ["a body that is not UTF-8", (_q, res) => void res.writeHead(200).end(Buffer.from([0x7b, 0xff, 0x7d])), "invalid_response", /not UTF-8/],
      ["a closed connection", (q, res) => void res.socket?.destroy(), "network", /^request failed: /],
      [
        "a declared 10 MB body",
        (_q, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) });
          res.write('{"is_allowed": true, "title": "');
          res.write(bigChunk);
        },
        "response_too_large",
        /larger than 1048576 bytes/,
      ],
    ];
    it.each(cases)("%s", async (_name, reply, kind, message) => {
      server.reply = reply;
      const { id } = bus.hooks.add("user.pre_create", { url: server.url });
      const err = await bus.before("user.pre_create", payload()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HookDeniedError);
      expect((err as HookDeniedError).title).toBeUndefined();
      const [d] = await bus.decisions.query({ hook_id: id });
      expect(d!.decision).toBe("deny");
      expect(d!.denied_by).toBe(id);
      expect(d!.hooks[0]).toMatchObject({ hook_id: id, kind: "http", outcome: "error", error_kind: kind });
      expect(d!.hooks[0]!.error).toMatch(message);
      bus.hooks.remove(id);
    });

    it("a streamed 10 MB body is refused after about 1 MiB, without reading the rest", async () => {
      let sent = 0;
      let finished = false;
      const closed = new Promise<void>((resolve) => {
        server.reply = async (_q, res) => {
          res.on("close", () => resolve());
          res.writeHead(200, { "content-type": "application/json" }); // chunked: no length announced
          res.write('{"is_allowed": true, "title": "');
          while (sent < 10 * 1024 * 1024 && !res.destroyed) {
            if (!res.write(bigChunk)) await new Promise((r) => res.once("drain", r).once("close", r));
            sent += bigChunk.length;
          }
          finished = !res.destroyed;
          res.end('"}');
        };
      });
      const { id } = bus.hooks.add("user.pre_create", { url: server.url });
      const err = await bus.before("user.pre_create", payload()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HookDeniedError);
      await closed;
      expect(finished).toBe(false);
      // Socket buffers on both sides hold some extra; far from the 10 MB offered.
      expect(sent).toBeLessThan(6 * 1024 * 1024);
      const [d] = await bus.decisions.query({ hook_id: id });
      expect(d!.hooks[0]).toMatchObject({ outcome: "error", error_kind: "response_too_large" });
      bus.hooks.remove(id);
    });

    it("a failOpen HTTP hook that fails counts as allow", async () => {
      server.reply = (_q, res) => void res.writeHead(503).end();
      const { id } = bus.hooks.add("user.pre_create", { url: server.url, failOpen: true });
      await expect(bus.before("user.pre_create", payload())).resolves.toEqual(payload());
      const [d] = await bus.decisions.query({ hook_id: id });
      expect(d!.decision).toBe("allow");
      expect(d!.hooks[0]).toMatchObject({ outcome: "error", fail_open: true, error: "HTTP 503" });
      bus.hooks.remove(id);
    });

    it("a slow HTTP hook is cut at its timeout", async () => {
      server.reply = async (_q, res) => {
        await new Promise((r) => setTimeout(r, 2000));
        if (!res.destroyed) json({ is_allowed: true })(_q, res);
      };
      const { id } = bus.hooks.add("user.pre_create", { url: server.url, timeoutMs: 200 });
      const t0 = performance.now();
      const err = await bus.before("user.pre_create", payload()).catch((e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(700);
      expect(err).toBeInstanceOf(HookDeniedError);
      const [d] = await bus.decisions.query({ hook_id: id });
      expect(d!.hooks[0]).toMatchObject({ outcome: "error", error_kind: "timeout" });
      bus.hooks.remove(id);
    });
  });

  it("constructor HTTP hooks use the configured secret", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const s = await startHookServer(json({ is_allowed: true }));
    const b = createAuthbus({
      database: `sqlite:${tempDbPath()}`,
      allowPrivateNetworks: true,
      hooks: { "user.pre_schedule_deletion": [{ url: s.url, secret, name: "retention" }] },
    });
    expect(b.hooks.list()).toEqual([
      { id: "retention", type: "user.pre_schedule_deletion", kind: "http", url: s.url, timeoutMs: 5000, failOpen: false, shadow: false, authgearSignature: false, source: "options" },
    ]);
    await b.before("user.pre_schedule_deletion", { user: user("u9") });
    const req = s.requests[0]!;
    expect(() => new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).not.toThrow();
    expect(req.headers["x-authgear-body-signature"]).toBeUndefined();
    await b.close();
  });
});
