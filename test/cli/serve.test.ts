/** authbus serve as a real process: flags over AUTHBUS_* variables, the bootstrap key, the SSRF switch, shutdown. */
import { existsSync } from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { tempDbPath } from "../helpers.js";
import { expectOneLineError, runCli, startCli } from "./helpers.js";

const LISTENING = /^Authbus is listening on (http:\/\/127\.0\.0\.1:\d+)$/m;

async function subscribeLoopback(url: string, key: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "local", filter: ["**"], destination: { type: "webhook", url: "http://127.0.0.1:3000/webhooks" } }),
  });
  return { status: res.status, code: ((await res.json()) as { code?: string }).code };
}

describe("authbus serve", () => {
  it("starts on the --database given (over AUTHBUS_DATABASE_URL), prints the URL and a bootstrap admin key once, allows private networks when asked, exits 0 on SIGTERM", async () => {
    const flagDb = tempDbPath();
    const envDb = tempDbPath();
    const env = { AUTHBUS_DATABASE_URL: `sqlite:${envDb}`, AUTHBUS_PORT: "not-a-port-but-the-flag-wins", AUTHBUS_LOG_LEVEL: "silent" };
    const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--database", `sqlite:${flagDb}`];
    const first = startCli([...args, "--allow-private-networks"], env);
    const url = (await first.waitFor(LISTENING))[1]!;
    const key = (await first.waitFor(/^Admin key for app "default" \(shown only this once; keep it\): (abk_\S+)$/m))[1]!;
    await first.waitFor(/^Private networks are allowed: .* local development only\.$/m, "stderr");
    expect(existsSync(flagDb)).toBe(true);
    expect(existsSync(envDb)).toBe(false);
    expect(await subscribeLoopback(url, key)).toEqual({ status: 201, code: undefined });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // Same database: no new key is printed; without the switch the SSRF guard refuses loopback.
    const second = startCli(args, env);
    const url2 = (await second.waitFor(LISTENING))[1]!;
    expect(await subscribeLoopback(url2, key)).toEqual({ status: 422, code: "ssrf_refused" });
    expect(second.stdout()).not.toContain("Admin key");
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
    expect(second.stderr()).toBe("");
  });

  it("reads AUTHBUS_* variables: port, database, app, admin key and the private networks switch", async () => {
    const db = tempDbPath();
    const admin = "operator-chosen-admin-key";
    const s = startCli(["serve"], { AUTHBUS_PORT: "0", AUTHBUS_HOST: "127.0.0.1", AUTHBUS_DATABASE_URL: `sqlite:${db}`, AUTHBUS_APP_ID: "acme", AUTHBUS_ADMIN_KEY: admin, AUTHBUS_ALLOW_PRIVATE_NETWORKS: "1", AUTHBUS_LOG_LEVEL: "silent" });
    const url = (await s.waitFor(LISTENING))[1]!;
    expect(await subscribeLoopback(url, admin)).toEqual({ status: 201, code: undefined });
    expect(s.stdout()).not.toContain("Admin key");
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(existsSync(db)).toBe(true);
  });

  it("fails with one line: a bad port, a port in use, a bad AUTHBUS_PORT", async () => {
    expect(expectOneLineError(await runCli(["serve", "--port", "99999"]))).toBe("error: option '--port <port>' argument '99999' is invalid. expected a port number from 0 to 65535");
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    try {
      const port = String((blocker.address() as net.AddressInfo).port);
      expect(expectOneLineError(await runCli(["serve", "--port", port, "--host", "127.0.0.1", "--database", `sqlite:${tempDbPath()}`], { AUTHBUS_LOG_LEVEL: "silent" }))).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
    expect(expectOneLineError(await runCli(["serve"], { AUTHBUS_PORT: "http" }))).toBe('error: AUTHBUS_PORT must be a port number, not "http"');
  });
});
