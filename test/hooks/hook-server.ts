import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll } from "vitest";

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Which TCP connection carried it (to see keep-alive at work). */
  connection: number;
}

export type Reply = (req: ReceivedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface HookServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaced per test as needed. */
  reply: Reply;
  close(): Promise<void>;
}

const servers: HookServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

export const json = (value: unknown, status = 200): Reply => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

/** A real HTTP hook receiver on 127.0.0.1, port 0. */
export async function startHookServer(reply: Reply = json({ is_allowed: true })): Promise<HookServer> {
  const requests: ReceivedRequest[] = [];
  let connections = 0;
  const ids = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        connection: ids.get(req.socket) ?? -1,
      };
      requests.push(r);
      Promise.resolve(hs.reply(r, res)).catch((e: unknown) => {
        res.destroy(e as Error);
      });
    });
  });
  server.on("connection", (socket) => ids.set(socket, ++connections));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const hs: HookServer = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    reply,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
  servers.push(hs);
  return hs;
}
