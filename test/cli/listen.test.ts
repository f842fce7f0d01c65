/** authbus listen --forward-to: a temporary subscription whose signed deliveries reach a local endpoint that verifies them. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/webhooks/index.js";
import { createRuntime } from "../../src/runtime.js";
import { createServer } from "../../src/server/server.js";
import { createLogger } from "../../src/server/logger.js";
import { tempDbPath, until } from "../helpers.js";
import { startTestServer, userPayload } from "../server/helpers.js";
import { expectOneLineError, runCli, startCli } from "./helpers.js";

interface Verified {
  ok: boolean;
  type?: string;
  id?: string;
  error?: string;
}

/** The developer's app: verifies each request with the secret it is given, answers `status`. */
async function startEndpoint(status: () => number) {
  let secret = "";
  const seen: Verified[] = [];
  const server = http.createServer(async (req, res) => {
    try {
      const event = await verifyWebhook(req, secret);
      seen.push({ ok: true, type: event.type, id: String(req.headers["webhook-id"]) });
    } catch (e) {
      seen.push({ ok: false, error: (e as Error).message });
    }
    res.writeHead(status(), { "content-type": "text/plain" });
    res.end("handled by the test endpoint");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/webhooks`,
    seen,
    setSecret: (s: string) => (secret = s),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const endpoints: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

describe("authbus listen --forward-to", () => {
  it("forwards each signed delivery unchanged (it verifies at the local endpoint), prints a line per delivery, and removes its subscription on SIGINT", async () => {
    let status = 200;
    const endpoint = await startEndpoint(() => status);
    endpoints.push(endpoint);
    const t = await startTestServer();
    const key = await t.key("acme", "admin");
    const listen = startCli(["listen", "--forward-to", endpoint.url, "--filter", "user.*"], { AUTHBUS_URL: t.url, AUTHBUS_KEY: key });
    const secret = (await listen.waitFor(/^Ready! Your webhook signing secret is (whsec_\S+) \(\^C to quit\)$/m))[1]!;
    endpoint.setSecret(secret);

    const subs = (await t.call("GET", "/v1/subscriptions", { key })).body.data as { id: string; name: string; filter: string[]; destination: { url: string } }[];
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ name: expect.stringMatching(/^listen-[0-9a-f]{8}$/), filter: ["user.*"], destination: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) } });
    expect((await t.call("GET", `/v1/subscriptions/${subs[0]!.id}/secret`, { key })).body.secret).toBe(secret);

    const sent = await t.call("POST", "/v1/events", { key, body: { type: "user.created", payload: userPayload("u1") } });
    const other = await t.call("POST", "/v1/events", { key, body: { type: "organization.created", payload: { organization: { id: "org_1", name: "acme" } } } });
    expect(other.status).toBe(202); // recorded, but not in the filter
    const line = await listen.waitFor(/^(\S+) user\.created (\S+) -> 200 \((\d+) ms\)$/m);
    expect(Date.parse(line[1]!)).not.toBeNaN();
    expect(line[2]).toBe(sent.body.id);
    expect(endpoint.seen).toEqual([{ ok: true, type: "user.created", id: sent.body.id }]);

    // The endpoint's answer is the server's answer: a 500 there is a failed attempt in the delivery log, retried.
    status = 500;
    const failed = await t.call("POST", "/v1/events", { key, body: { type: "user.disabled", payload: { user: { id: "u1" } } } });
    await listen.waitFor(new RegExp(`user\\.disabled ${failed.body.id} -> 500 \\(\\d+ ms\\)`));
    await until(async () => (await t.call("GET", `/v1/deliveries?event_id=${failed.body.id}`, { key })).body.data[0]?.attempts.length >= 1, 10_000, "the attempt to be recorded");
    const delivery = (await t.call("GET", `/v1/deliveries?event_id=${failed.body.id}`, { key })).body.data[0];
    expect(delivery).toMatchObject({ state: "pending", attempts: [{ status_code: 500, response_head: "handled by the test endpoint" }] });
    status = 204;
    await listen.waitFor(new RegExp(`user\\.disabled ${failed.body.id} -> 204`), "stdout", 20_000); // the retry, 5 s later by default
    expect(endpoint.seen.filter((s) => s.id === failed.body.id)).toHaveLength(2);
    expect(endpoint.seen.every((s) => s.ok)).toBe(true);
    expect(listen.stdout()).not.toContain("organization.created");

    listen.child.kill("SIGINT");
    expect(await listen.exited).toBe(0);
    expect(listen.stderr()).toContain(`SIGINT: deleting subscription ${subs[0]!.id}`);
    expect((await t.call("GET", "/v1/subscriptions", { key })).body.data).toEqual([]);
  });

  it("prints the endpoint's failure when nothing listens there, and answers the server 502 so it retries", async () => {
    const t = await startTestServer();
    const key = await t.key("acme", "admin");
    const listen = startCli(["listen", "--forward-to", "http://127.0.0.1:1/webhooks"], { AUTHBUS_URL: t.url, AUTHBUS_KEY: key });
    await listen.waitFor(/^Ready!/m);
    const sent = await t.call("POST", "/v1/events", { key, body: { type: "user.created", payload: userPayload("u1") } });
    await listen.waitFor(new RegExp(`^\\S+ user\\.created ${sent.body.id} -> failed: .*ECONNREFUSED.* \\(\\d+ ms\\)$`, "m"));
    await until(async () => (await t.call("GET", `/v1/deliveries?event_id=${sent.body.id}`, { key })).body.data[0]?.attempts.length >= 1, 10_000, "the attempt to be recorded");
    expect((await t.call("GET", `/v1/deliveries?event_id=${sent.body.id}`, { key })).body.data[0].attempts[0].status_code).toBe(502);
    listen.child.kill("SIGTERM");
    expect(await listen.exited).toBe(0);
  });

  it("says what to do, in one line, when the server's SSRF guard refuses loopback", async () => {
    const runtime = createRuntime({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: false, delivery: { enabled: false } });
    const server = createServer(runtime, { logger: createLogger({ level: "silent" }) });
    try {
      const { port } = await server.listen(0, "127.0.0.1");
      await runtime.apps.ensure("default");
      const key = (await runtime.keys.create("default", "admin")).key;
      const r = await runCli(["listen", "--forward-to", "http://localhost:3000/webhooks", "--url", `http://127.0.0.1:${port}`, "--key", key]);
      expect(expectOneLineError(r)).toBe(
        "error: the server refuses to deliver to 127.0.0.1 (its SSRF guard is on): restart it with authbus serve --allow-private-networks (or AUTHBUS_ALLOW_PRIVATE_NETWORKS=1), for local development only",
      );
      expect(r.stdout).toBe("");
    } finally {
      await server.close();
      await runtime.close();
    }
    expect(expectOneLineError(await runCli(["listen", "--forward-to", "not a url", "--key", "k"]))).toMatch(/^error: --forward-to "not a url" is not a URL/);
    expect(expectOneLineError(await runCli(["listen", "--key", "k"]))).toBe("error: required option '--forward-to <url>' not specified");
  });
});
