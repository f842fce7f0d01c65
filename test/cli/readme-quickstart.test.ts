/**
 * The README's quick start, run as written: its ```sh quickstart blocks go to bash unchanged
 * except for what a reader fills in themselves: the port (a free one instead of 8790), the key
 * npm start printed (for `abk_...`) and the port of their app (a verifying endpoint instead of
 * localhost:3000). The blocks are terminals: the first two keep running, the third finishes.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/webhooks/index.js";
import { tempDbPath, until } from "../helpers.js";
import { ROOT, startCli, type RunningCli } from "./helpers.js";

function quickstartBlocks(): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/^```sh quickstart\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** The reader's app on localhost:3000: verifies every request with the secret listen printed. */
async function startApp() {
  const verified: { type: string; id: string }[] = [];
  const rejected: string[] = [];
  let secret = "";
  const server = http.createServer(async (req, res) => {
    try {
      const event = await verifyWebhook(req, secret);
      verified.push({ type: event.type, id: String(req.headers["webhook-id"]) });
      res.writeHead(204).end();
    } catch (e) {
      rejected.push((e as Error).message);
      res.writeHead(400).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, verified, rejected, setSecret: (s: string) => (secret = s), close: () => new Promise((r) => server.close(r)) };
}

/** SIGINT to the whole terminal (bash, npm, tsx, node), as Ctrl-C does. */
function ctrlC(t: RunningCli): void {
  try {
    process.kill(-t.child.pid!, "SIGINT");
  } catch {
    // already gone
  }
}

describe("README quick start", () => {
  it("runs as written: npm start, listen --forward-to, then curl creates a subscription and records an event whose signed delivery reaches the app through listen", async () => {
    const blocks = quickstartBlocks();
    expect(blocks).toHaveLength(3);
    expect(blocks[0]!.trim()).toBe("npm start");
    const port = await freePort();
    const app = await startApp();
    const env = { AUTHBUS_PORT: String(port), AUTHBUS_URL: `http://127.0.0.1:${port}`, AUTHBUS_DATABASE_URL: `sqlite:${tempDbPath()}` };
    let key = "";
    const fill = (block: string) => block.replaceAll("localhost:8790", `localhost:${port}`).replaceAll("abk_...", key).replaceAll("localhost:3000", `localhost:${app.port}`);
    const terminals: RunningCli[] = [];
    try {
      const server = startCli([], env, { shell: fill(blocks[0]!) });
      terminals.push(server);
      await server.waitFor(new RegExp(`^Authbus is listening on http://127\\.0\\.0\\.1:${port}$`, "m"), "stdout", 60_000);
      key = (await server.waitFor(/^Admin key for app "default" \(shown only this once; keep it\): (abk_\S+)$/m))[1]!;

      const listen = startCli([], env, { shell: fill(blocks[1]!) });
      terminals.push(listen);
      app.setSecret((await listen.waitFor(/^Ready! Your webhook signing secret is (whsec_\S+) \(\^C to quit\)$/m, "stdout", 60_000))[1]!);

      const third = startCli([], env, { shell: `set -euo pipefail\n${fill(blocks[2]!)}` });
      terminals.push(third);
      const code = await third.exited;
      expect(code, third.stderr()).toBe(0);
      // curl -s prints each answer without a final newline: the two JSON bodies share a line.
      const [subscription, receipt] = third.stdout().replaceAll("}{", "}\n{").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      expect(subscription).toMatchObject({ name: "crm", filter: ["user.*"], secret: expect.stringMatching(/^whsec_/) });
      expect(receipt).toEqual({ id: expect.any(String), seq: 1 });
      expect(third.stdout()).toMatch(/^sub_\S+\s+crm\s+enabled\s+user\.\*\s+native\s+https:\/\/crm\.example\/webhooks$/m);
      expect(third.stdout()).toMatch(/^sub_\S+\s+listen-[0-9a-f]{8}\s+enabled\s+\*\*\s+native\s+http:\/\/127\.0\.0\.1:\d+\/$/m);

      await listen.waitFor(new RegExp(`^\\S+ user\\.created ${receipt.id} -> 204 \\(\\d+ ms\\)$`, "m"));
      expect(app.verified).toEqual([{ type: "user.created", id: receipt.id }]);
      expect(app.rejected).toEqual([]);

      ctrlC(listen);
      await listen.waitFor(/^SIGINT: deleting subscription sub_\S+$/m, "stderr");
      await until(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/v1/subscriptions`, { headers: { authorization: `Bearer ${key}` } });
          return ((await res.json()) as { data: { name: string }[] }).data.every((s) => !s.name.startsWith("listen-"));
        },
        20_000,
        "listen to delete its subscription",
      );
      ctrlC(server);
      await until(() => server.stdout().includes('"msg":"stopped"'), 20_000, "the server to stop");
    } finally {
      for (const t of terminals) if (t.child.exitCode === null) ctrlC(t);
      await app.close();
    }
  });
});
