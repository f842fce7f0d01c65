import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Reply = (req: Received, n: number) => { status: number; headers?: Record<string, string>; body?: string } | "destroy" | Promise<{ status: number; headers?: Record<string, string>; body?: string } | "destroy">;

/** A real HTTP receiver on loopback that records every request and answers as told. */
export async function startReceiver(reply: Reply = () => ({ status: 204 })) {
  const received: Received[] = [];
  let answer = reply;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const r: Received = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      const out = await answer(r, received.length);
      if (out === "destroy") return req.socket.destroy();
      res.writeHead(out.status, out.headers ?? {});
      res.end(out.body ?? "");
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    setReply(r: Reply) {
      answer = r;
    },
    ids: () => received.map((r) => String(r.headers["webhook-id"])),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
