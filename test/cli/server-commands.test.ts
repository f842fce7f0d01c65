/** emit, tail, subscriptions, replay: real CLI processes against a real server on a loopback port. */
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRuntime } from "../../src/runtime.js";
import { tempDbPath, until } from "../helpers.js";
import { startReceiver } from "../delivery/receiver.js";
import { startTestServer, userPayload, type TestServer } from "../server/helpers.js";
import { MAIN, expectOneLineError, runCli, startCli } from "./helpers.js";

const receivers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function server(): Promise<{ t: TestServer; key: string; env: Record<string, string> }> {
  const t = await startTestServer();
  const key = await t.key("acme", "admin");
  return { t, key, env: { AUTHBUS_URL: t.url, AUTHBUS_KEY: key } };
}

describe("authbus emit", () => {
  it("records an event once it is durable, from inline JSON or @file, idempotent by --id", async () => {
    const { t, key, env } = await server();
    const r = await runCli(["emit", "user.created", "--payload", JSON.stringify(userPayload("u1")), "--context", '{"ip_address": "203.0.113.7"}'], env);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const [, id, seq] = /^Recorded user\.created (\S+) \(seq (\d+)\)\n$/.exec(r.stdout)!;
    const stored = await t.call("GET", `/v1/events/${id}`, { key });
    expect(stored.body).toMatchObject({ seq: Number(seq), type: "user.created", payload: { user: { id: "u1" } }, context: { app_id: "acme", ip_address: "203.0.113.7" } });

    const file = path.join(path.dirname(tempDbPath()), "payload.json");
    writeFileSync(file, JSON.stringify(userPayload("u2")));
    const eventId = "0192f5c4-7a5e-7c3e-9a3b-8d1c2b3a4f5e";
    const first = await runCli(["emit", "user.created", "--payload", `@${file}`, "--id", eventId], env);
    const again = await runCli(["emit", "user.created", "--payload", `@${file}`, "--id", eventId, "--url", t.url, "--key", key], { AUTHBUS_URL: "http://127.0.0.1:1" });
    expect(first.code).toBe(0);
    expect(again.stdout).toBe(first.stdout); // same id, same seq: nothing new recorded
  });

  it("turns every failure into one line on stderr and a non-zero exit", async () => {
    const { t, env } = await server();
    expect(expectOneLineError(await runCli(["emit", "user.created", "--payload", '{"user": {}, "identities": []}'], env))).toMatch(/^error: .*\/payload\/user\/id.*\(422 invalid_payload\)$/);
    expect(expectOneLineError(await runCli(["emit", "user.created", "--payload", "{"], env))).toMatch(/^error: --payload is not valid JSON/);
    expect(expectOneLineError(await runCli(["emit", "user.created", "--payload", "{}"], { AUTHBUS_URL: t.url, AUTHBUS_KEY: "abk_wrong" }))).toMatch(/\(401 unauthorized\)$/);
    expect(expectOneLineError(await runCli(["emit", "user.created", "--payload", "{}"], { AUTHBUS_URL: t.url }))).toMatch(/^error: no API key: pass --key or set AUTHBUS_KEY/);
    expect(expectOneLineError(await runCli(["emit", "user.created", "--payload", "{}", "--url", "http://127.0.0.1:1", "--key", "k"]))).toMatch(/^error: cannot reach the Authbus server at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    expect(expectOneLineError(await runCli(["emit", "user.created"], env))).toBe("error: required option '--payload <json>' not specified");
  });
});

describe("authbus tail", () => {
  it("prints one line per matching event as it is recorded, and exits 0 on SIGINT", async () => {
    const { t, key, env } = await server();
    const tail = startCli(["tail", "--filter", "user.*"], env);
    const json = startCli(["tail", "--json", "--filter", "authentication.**"], env);
    // The stream starts at the head of the log: wait until both are connected before recording.
    await tail.waitFor(/^Tailing user\.\* events from http:\/\/127\.0\.0\.1:\d+ \(\^C to quit\)$/m, "stderr");
    await json.waitFor(/^Tailing /m, "stderr");
    const a = await t.call("POST", "/v1/events", { key, body: { type: "user.created", payload: userPayload("u1") } });
    const b = await t.call("POST", "/v1/events", { key, body: { type: "authentication.primary.password.failed", payload: { user: { id: "u1" } } } });
    const line = await tail.waitFor(/^(\S+)\s+(\d+)\s+user\.created\s+(\S+)\s+user=u1$/m);
    expect(line[2]).toBe(String(a.body.seq));
    expect(line[3]).toBe(a.body.id);
    expect(Date.parse(line[1]!)).not.toBeNaN();
    const envelope = JSON.parse((await json.waitFor(/^\{.*\}$/m))[0]);
    expect(envelope).toMatchObject({ id: b.body.id, type: "authentication.primary.password.failed", context: { app_id: "acme" } });
    tail.child.kill("SIGINT");
    json.child.kill("SIGINT");
    expect(await tail.exited).toBe(0);
    expect(await json.exited).toBe(0);
    expect(tail.stdout()).not.toContain("authentication.primary"); // filtered out
    expect(tail.stdout().trim().split("\n")).toHaveLength(1);
  });

  it("rides out a server restart: reconnects with Last-Event-ID and misses nothing recorded meanwhile", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const database = `sqlite:${tempDbPath()}`;
    const admin = "tail-restart-admin-key-0123";
    const serveArgs = ["serve", "--port", String(port), "--host", "127.0.0.1", "--database", database];
    const serveEnv = { AUTHBUS_ADMIN_KEY: admin, AUTHBUS_LOG_LEVEL: "silent" };
    const emit = (id: string) =>
      fetch(`http://127.0.0.1:${port}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ type: "user.created", payload: userPayload(id) }) });

    const first = startCli(serveArgs, serveEnv);
    await first.waitFor(/listening on/);
    const tail = startCli(["tail"], { AUTHBUS_URL: `http://127.0.0.1:${port}`, AUTHBUS_KEY: admin });
    await tail.waitFor(/^Tailing all events/m, "stderr");
    expect((await emit("before")).status).toBe(202);
    await tail.waitFor(/user\.created\s+\S+\s+user=before$/m);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await tail.waitFor(/^stream ended; reconnecting\.\.\.$/m, "stderr");

    // Recorded while no server runs (another process on the same database).
    const rt = createRuntime({ database, delivery: { enabled: false } });
    await rt.forApp("default").emit("user.created", userPayload("while-down"));
    await rt.close();

    const second = startCli(serveArgs, serveEnv);
    await second.waitFor(/listening on/);
    await tail.waitFor(/user=while-down$/m);
    expect((await emit("after")).status).toBe(202);
    await tail.waitFor(/user=after$/m);
    expect(tail.stdout().trim().split("\n").map((l) => l.split("user=")[1])).toEqual(["before", "while-down", "after"]);
    tail.child.kill("SIGINT");
    expect(await tail.exited).toBe(0);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("fails with one line when the filter is invalid", async () => {
    const { env } = await server();
    expect(expectOneLineError(await runCli(["tail", "--filter", "user.**.x"], env))).toMatch(/\(4\d\d invalid_pattern\)$/);
  });
});

describe("authbus subscriptions", () => {
  it("creates (printing id and secret), lists and deletes; --url before the subcommand names the server for create", async () => {
    const { t, key, env } = await server();
    const created = await runCli(["subscriptions", "create", "--name", "crm", "--url", "https://crm.example.com/hooks", "--filter", "user.*", "--filter", "organization.**", "--format", "cloudevents"], env);
    expect(created.code).toBe(0);
    const [id, secret] = created.stdout.trim().split("\n");
    expect(id).toMatch(/^sub_[0-9a-f]+$/);
    expect(secret).toMatch(/^whsec_/);
    expect((await t.call("GET", `/v1/subscriptions/${id}/secret`, { key })).body.secret).toBe(secret);
    expect((await t.call("GET", `/v1/subscriptions/${id}`, { key })).body).toMatchObject({ name: "crm", filter: ["user.*", "organization.**"], format: "cloudevents", destination: { url: "https://crm.example.com/hooks" } });

    const positional = await runCli(["subscriptions", "--url", t.url, "create", "--name", "audit", "--url", "https://audit.example.com/in", "--filter", "**"], { AUTHBUS_KEY: key, AUTHBUS_URL: "http://127.0.0.1:1" });
    expect(positional.code).toBe(0);
    const auditId = positional.stdout.split("\n")[0];

    const listed = await runCli(["subscriptions", "list"], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+FILTER\s+FORMAT\s+DESTINATION$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${id}\\s+crm\\s+enabled\\s+user\\.\\*,organization\\.\\*\\*\\s+cloudevents\\s+https://crm\\.example\\.com/hooks$`)),
      expect.stringMatching(new RegExp(`^${auditId}\\s+audit\\s+enabled\\s+\\*\\*\\s+native\\s+https://audit\\.example\\.com/in$`)),
    ]);
    // Flags given on the leaf win over the environment.
    expect((await runCli(["subscriptions", "list", "--url", t.url, "--key", key], { AUTHBUS_URL: "http://127.0.0.1:1", AUTHBUS_KEY: "abk_wrong" })).stdout).toBe(listed.stdout);

    expect(await runCli(["subscriptions", "delete", id!], env)).toMatchObject({ code: 0, stdout: `Deleted subscription ${id}\n` });
    expect((await t.call("GET", `/v1/subscriptions/${id}`, { key })).status).toBe(404);
    expect(expectOneLineError(await runCli(["subscriptions", "delete", id!], env))).toBe(`error: No subscription "${id}" in this app (404 not_found)`);
    expect(expectOneLineError(await runCli(["subscriptions", "create", "--name", "x", "--url", "https://x.example.com", "--filter", "nope.**.x"], env))).toMatch(/\(422 /);
    expect(expectOneLineError(await runCli(["subscriptions", "create", "--name", "x", "--url", "https://x.example.com", "--filter", "**", "--format", "xml"], env))).toMatch(/argument 'xml' is invalid/);
    expect(expectOneLineError(await runCli(["subscriptions", "list"], { AUTHBUS_URL: t.url, AUTHBUS_KEY: await t.key("acme", "ingest") }))).toMatch(/\(403 forbidden\)$/);
  });
});

describe("authbus replay", () => {
  it("replays with the original ids: plain progress lines when stdout is not a terminal, a bar redrawn in place when it is", async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { t, key, env } = await server();
    const sub = await t.call("POST", "/v1/subscriptions", { key, body: { name: "r", filter: ["user.*"], destination: { type: "webhook", url: receiver.url } } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.call("POST", "/v1/events", { key, body: { type: "user.created", payload: userPayload(`u${i}`) } })).body.id);
    expect((await t.call("POST", "/v1/events", { key, body: { type: "organization.created", payload: { organization: { id: "org_1", name: "acme" } } } })).status).toBe(202);
    await until(() => receiver.received.length === 5, 10_000, "the first deliveries");

    const r = await runCli(["replay", "--subscription", sub.body.id, "--from-seq", "3"], env);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.at(-2)).toBe("replay: 3/3 done");
    expect(lines.at(-1)).toBe(`Replayed 3 events to subscription ${sub.body.id}`);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^replay: \d\/3 done/);
    expect(receiver.ids().slice(5).sort()).toEqual(ids.slice(2).sort()); // the original ids, once each

    // On a terminal (a pseudo-terminal from script(1)) the bar is redrawn in place instead.
    const tty = startCli([], env, { shell: `script -qec ${JSON.stringify(`${process.execPath} --import tsx ${MAIN} replay --subscription ${sub.body.id} --since 0`)} /dev/null` });
    expect(await tty.exited, tty.stdout()).toBe(0);
    expect(tty.stdout()).toMatch(/\r\[#{30}\] 5\/5\u001b\[K\r?\n/);
    expect(tty.stdout()).toMatch(/Replayed 5 events/);
    expect(tty.stdout()).not.toMatch(/^replay: /m);
    expect(await runCli(["replay", "--subscription", sub.body.id, "--from-seq", "100"], env)).toMatchObject({ code: 0, stdout: `Nothing to replay: no recorded event in that range matches subscription ${sub.body.id}\n` });

    expect(expectOneLineError(await runCli(["replay", "--subscription", sub.body.id], env))).toBe("error: give exactly one of --from-seq and --since");
    expect(expectOneLineError(await runCli(["replay", "--subscription", sub.body.id, "--from-seq", "0"], env))).toMatch(/'--from-seq <n>' argument '0' is invalid/);
    expect(expectOneLineError(await runCli(["replay", "--subscription", "sub_missing", "--from-seq", "1"], env))).toMatch(/\(404 not_found\)$/);

    await t.call("POST", `/v1/subscriptions/${sub.body.id}/pause`, { key });
    expect(expectOneLineError(await runCli(["replay", "--subscription", sub.body.id, "--from-seq", "1"], env))).toBe("error: subscription is paused: 5 replayed deliveries wait until it is resumed");
  });
});
