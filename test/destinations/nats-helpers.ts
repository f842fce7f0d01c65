/**
 * JetStream test helpers: streams of their own (file storage, deleted afterwards), a reader that
 * returns every stored message, and a private nats-server child process that a test may kill and
 * restart without disturbing the shared server on 4222.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { afterAll } from "vitest";
import { until } from "../helpers.js";

export const SHARED_NATS = "nats://127.0.0.1:4222";
export const NATS_SERVER = "/usr/sbin/nats-server";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A unique lowercase name: streams and subjects of one test never meet another test's. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

export async function openNats(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  cleanups.push(() => nc.close());
  return nc;
}

/** A file-storage stream capturing `subjects`, deleted after the file's tests. */
export async function createStream(url: string, name: string, subjects: string[]): Promise<void> {
  const nc = await openNats(url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects, storage: StorageType.File });
  cleanups.push(async () => {
    const c = await connect({ servers: url, timeout: 2000 });
    try {
      await (await jetstreamManager(c)).streams.delete(name);
    } finally {
      await c.close();
    }
  });
}

export async function streamCount(nc: NatsConnection, name: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(name)).state.messages;
}

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  headers: Record<string, string>;
  body: string;
}

/** Every message in the stream, in stream order. */
export async function readStream(nc: NatsConnection, name: string): Promise<StoredMessage[]> {
  const total = await streamCount(nc, name);
  const out: StoredMessage[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(name);
  const messages = await consumer.consume();
  for await (const m of messages) {
    const headers: Record<string, string> = {};
    for (const [k] of m.headers ?? []) headers[k.toLowerCase()] = m.headers!.get(k);
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), headers, body: m.string() });
    if (out.length >= total) break;
  }
  await messages.close();
  return out;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });
}

/** A nats-server of this test only (JetStream, its own store directory), killed after the file. */
export async function startPrivateNats(): Promise<{ url: string; start(): Promise<void>; kill(signal: NodeJS.Signals): Promise<void> }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authbus-nats-"));
  let child: ChildProcess | undefined;
  const kill = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill(signal);
    await exited;
  };
  const start = async () => {
    child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
    await until(() => portOpen(port), 15_000, "the private nats-server to listen");
  };
  cleanups.push(async () => {
    await kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { url: `nats://127.0.0.1:${port}`, start, kill };
}
