/**
 * `authbus listen --forward-to <url>`: deliveries to your local endpoint while it runs, like the
 * Stripe CLI. The server cannot in general reach a port on the developer's machine; here it
 * shares the machine (or at least the loopback) with the CLI, so listen is honest about that:
 * it starts a receiver on 127.0.0.1, subscribes it with a temporary subscription, forwards each
 * signed request unchanged (same body bytes, same webhook-* headers, so it verifies with the
 * secret printed at start) and answers the server with your endpoint's status, so retries and
 * the delivery log behave exactly as they would for the real endpoint. On SIGINT/SIGTERM the
 * subscription is deleted.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { Command } from "commander";
import { request } from "undici";
import { ApiError, createClient } from "./client.js";
import { collectPatterns, serverOptions } from "./options.js";
import { CliError, type Io } from "./output.js";

/** The server gives up on an attempt after 15 s; waiting longer for the local endpoint is pointless. */
const FORWARD_TIMEOUT_MS = 15_000;
/** Headers that describe one hop, not the message: never forwarded. */
const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection"]);

interface Forwarded {
  status?: number;
  error?: string;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

async function forward(target: string, method: string, headers: http.IncomingHttpHeaders, body: Buffer): Promise<Forwarded> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const started = performance.now();
  try {
    const res = await request(target, { method: method as "POST", headers: out, body, headersTimeout: FORWARD_TIMEOUT_MS, bodyTimeout: FORWARD_TIMEOUT_MS });
    const answer = Buffer.from(await res.body.arrayBuffer());
    const keep: Record<string, string> = {};
    const retryAfter = res.headers["retry-after"];
    if (typeof retryAfter === "string") keep["retry-after"] = retryAfter;
    const type = res.headers["content-type"];
    if (typeof type === "string") keep["content-type"] = type;
    return { status: res.statusCode, headers: keep, body: answer, ms: performance.now() - started };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
    return { error: reason, headers: {}, body: Buffer.alloc(0), ms: performance.now() - started };
  }
}

/** The event type, for the printed line: the native body's `type`, or the binary CloudEvents header. */
function typeOf(headers: http.IncomingHttpHeaders, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { type?: unknown; data?: { type?: unknown } };
    if (typeof parsed.type === "string") return parsed.type;
  } catch {
    // not JSON: fall through to headers
  }
  return typeof headers["ce-type"] === "string" ? headers["ce-type"] : "-";
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export function listenCommand(io: Io): Command {
  return serverOptions(
    new Command("listen")
      .description("forward deliveries to a local endpoint while it runs, signed, and print one line per delivery")
      .requiredOption("--forward-to <url>", "your endpoint, e.g. http://localhost:3000/webhooks")
      .option("--filter <pattern>", "type pattern(s) to subscribe to; repeat or comma-separate (default: **, every event)", collectPatterns),
  )
    .addHelpText(
      "after",
      `
listen starts a receiver on 127.0.0.1, creates a temporary subscription (listen-<random>) that
delivers to it, and forwards each request unchanged (body and webhook-* headers) to --forward-to:
verify it there with the signing secret printed at start. Your endpoint's answer goes back to the
server, so retries behave as they will in production. The subscription is deleted on Ctrl-C.

The server must run on this machine and allow private networks (authbus serve
--allow-private-networks; npm start does).

Each delivery prints: <time> <type> <webhook-id> -> <status> (<ms> ms)

Examples:
  authbus listen --forward-to http://localhost:3000/webhooks
  authbus listen --forward-to http://localhost:3000/webhooks --filter 'user.*' --filter 'authentication.**'`,
    )
    .action(async (o: { url: string; key?: string; forwardTo: string; filter?: string[] }) => {
      let target: URL;
      try {
        target = new URL(o.forwardTo);
      } catch {
        throw new CliError(`--forward-to ${JSON.stringify(o.forwardTo)} is not a URL (expected something like http://localhost:3000/webhooks)`);
      }
      if (target.protocol !== "http:" && target.protocol !== "https:") throw new CliError("--forward-to must be an http(s) URL");
      const client = createClient(o);
      if (!isLoopbackUrl(client.baseUrl)) io.err(`note: the server at ${client.baseUrl} must be able to reach 127.0.0.1 on this machine; listen works when it runs here too`);

      const inFlight = new Set<Promise<void>>();
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        const done = new Promise<void>((resolve) => {
          req.on("end", () => {
            const body = Buffer.concat(chunks);
            void forward(target.href, req.method ?? "POST", req.headers, body).then((f) => {
              const at = new Date().toISOString();
              const id = typeof req.headers["webhook-id"] === "string" ? req.headers["webhook-id"] : "-";
              const outcome = f.status !== undefined ? String(f.status) : `failed: ${f.error}`;
              io.out(`${at} ${typeOf(req.headers, body)} ${id} -> ${outcome} (${Math.round(f.ms)} ms)`);
              if (f.status !== undefined) {
                res.writeHead(f.status, f.headers);
                res.end(f.body);
              } else {
                // A network failure at the endpoint is a failed attempt for the server too: it retries.
                res.writeHead(502, { "content-type": "text/plain" });
                res.end(`authbus listen could not reach ${target.href}: ${f.error}`);
              }
              resolve();
            });
          });
          req.on("error", () => resolve());
        });
        inFlight.add(done);
        void done.then(() => inFlight.delete(done));
      });
      await new Promise<void>((resolve, reject) => {
        receiver.once("error", reject);
        receiver.listen(0, "127.0.0.1", () => resolve());
      });
      const closeReceiver = () =>
        new Promise<void>((resolve) => {
          receiver.close(() => resolve());
          receiver.closeIdleConnections();
        });
      const port = (receiver.address() as AddressInfo).port;

      let sub: { id: string; secret: string };
      try {
        sub = await client.call("POST", "/v1/subscriptions", {
          name: `listen-${randomBytes(4).toString("hex")}`,
          filter: o.filter?.length ? o.filter : ["**"],
          destination: { type: "webhook", url: `http://127.0.0.1:${port}/` },
        });
      } catch (e) {
        await closeReceiver();
        if (e instanceof ApiError && e.code === "ssrf_refused") {
          throw new CliError("the server refuses to deliver to 127.0.0.1 (its SSRF guard is on): restart it with authbus serve --allow-private-networks (or AUTHBUS_ALLOW_PRIVATE_NETWORKS=1), for local development only");
        }
        throw e;
      }
      io.out(`Ready! Your webhook signing secret is ${sub.secret} (^C to quit)`);
      io.err(`Forwarding ${(o.filter?.length ? o.filter : ["**"]).join(", ")} events to ${target.href} through subscription ${sub.id}`);

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      io.err(`${signal}: deleting subscription ${sub.id}`);
      try {
        await client.call("DELETE", `/v1/subscriptions/${encodeURIComponent(sub.id)}`);
      } catch (e) {
        throw new CliError(`could not delete the temporary subscription ${sub.id} (${(e as Error).message}): delete it with authbus subscriptions delete ${sub.id}`);
      } finally {
        await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 2000))]);
        receiver.closeAllConnections();
        await closeReceiver();
      }
    });
}
