/**
 * Issue 6 benchmark: JetStream publish throughput. Events/s from recorded events into a JetStream
 * stream through Authbus's `nats` destination (fan-out, rendering, awaited PubAck, attempt
 * recording) against the raw `@nats-io/jetstream` client publishing the same bodies with the same
 * number of awaited publishes in flight. Both in one run, so the ratio holds on a noisy machine.
 * Needs a NATS server with JetStream (BENCH_NATS_URL, default nats://127.0.0.1:4222).
 */
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { createAuthbus } from "../src/index.js";
import type { Envelope } from "../src/core/envelope.js";
import { buildNatsMessage } from "../src/core/delivery/nats-message.js";
import { fmt, tempDir } from "./lib.js";

const URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const EVENTS = Number(process.env.BENCH_NATS_EVENTS ?? 20_000);
const IN_FLIGHT = 64;
const payload = (i: number) => ({
  user: { id: `user-${i % 1000}`, standard_attributes: { email: `user-${i % 1000}@example.com`, email_verified: true, name: "Ada Lovelace" } },
  session: { id: `sess-${i}`, type: "idp", amr: ["pwd"] },
});
const context = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (bench)", preferred_languages: ["en"] };

async function withStream<T>(nc: NatsConnection, name: string, f: () => Promise<T>): Promise<T> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], storage: StorageType.File });
  try {
    return await f();
  } finally {
    await jsm.streams.delete(name).catch(() => undefined);
  }
}

async function count(nc: NatsConnection, stream: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
}

/** Authbus: record with the subscription paused, then time resume() until the stream holds every event. */
async function throughAuthbus(nc: NatsConnection, dir: string): Promise<{ perSecond: number; envelopes: Envelope[] }> {
  const stream = `BENCHAB${process.pid}`;
  return withStream(nc, stream, async () => {
    const bus = createAuthbus({ database: `sqlite:${path.join(dir, "nats.db")}`, nats: { url: URL }, delivery: { maxInFlight: IN_FLIGHT } });
    try {
      const sub = await bus.subscriptions.create({ name: "bench", filter: ["user.**"], destination: { type: "nats", subject: `${stream.toLowerCase()}.{app}.{type}` } });
      await bus.subscriptions.pause(sub.id);
      let next = 0;
      await Promise.all(Array.from({ length: 256 }, async () => {
        while (next < EVENTS) await bus.emit("user.authenticated", payload(next++), context);
      }));
      const envelopes: Envelope[] = [];
      for (let after = 0; ; ) {
        const page = (await bus.query({ after_seq: after, limit: 1000 })) as Envelope[];
        envelopes.push(...page);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.seq;
      }
      const start = performance.now();
      await bus.subscriptions.resume(sub.id);
      while ((await count(nc, stream)) < EVENTS) await new Promise((r) => setTimeout(r, 10));
      const perSecond = (EVENTS / (performance.now() - start)) * 1000;
      return { perSecond, envelopes };
    } finally {
      await bus.close();
    }
  });
}

/** The raw client: the same bodies and headers, IN_FLIGHT publishers each awaiting its PubAck. */
async function rawClient(nc: NatsConnection, envelopes: Envelope[]): Promise<number> {
  const stream = `BENCHRAW${process.pid}`;
  return withStream(nc, stream, async () => {
    const js = jetstream(nc);
    const messages = envelopes.map((e) => {
      const m = buildNatsMessage(e, { id: "sub_bench", format: "native", subject: `${stream.toLowerCase()}.{app}.{type}` });
      if (!m.ok) throw new Error(m.skip);
      return m;
    });
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < messages.length) {
        const m = messages[next++]!;
        const h = natsHeaders();
        for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
        await js.publish(m.subject, m.body, { headers: h });
      }
    }));
    const perSecond = (messages.length / (performance.now() - start)) * 1000;
    if ((await count(nc, stream)) !== messages.length) throw new Error("raw client: stream count mismatch");
    return perSecond;
  });
}

export async function runNatsBenchmark(): Promise<{ markdown: string }> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: URL, timeout: 2000 });
  } catch (e) {
    return { markdown: `Skipped: no NATS server at ${URL} (${e instanceof Error ? e.message : String(e)}).` };
  }
  const dir = tempDir("authbus-bench-nats-");
  try {
    const authbus = await throughAuthbus(nc, dir);
    const raw = await rawClient(nc, authbus.envelopes);
    return {
      markdown: [
        `${fmt(EVENTS)} recorded \`user.authenticated\` events (native format, ~${fmt(authbus.envelopes[0] ? JSON.stringify(authbus.envelopes[0]).length : 0)} B each), ${IN_FLIGHT} publishes in flight, file-storage stream on ${URL}.`,
        "",
        "| Publisher | events/s | vs raw client |",
        "| --- | ---: | ---: |",
        `| Authbus \`nats\` destination (pending deliveries → render, awaited PubAck, attempts recorded) | ${fmt(authbus.perSecond)} | ${fmt(authbus.perSecond / raw, 2)}× |`,
        `| raw \`@nats-io/jetstream\` \`publish\`, awaited acks | ${fmt(raw)} | 1.00× |`,
      ].join("\n"),
    };
  } finally {
    await nc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log((await runNatsBenchmark()).markdown);
}
