import { describe, expect, it } from "vitest";
import { until } from "../helpers.js";
import { startTestServer, userPayload } from "./helpers.js";

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A minimal EventSource over fetch: collects events until aborted. */
function openStream(url: string, key: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const abort = new AbortController();
  let status = 0;
  const done = (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: "text/event-stream", ...headers }, signal: abort.signal });
    status = res.status;
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: SseEvent = { data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line);
            else if (line.startsWith("id: ")) e.id = line.slice(4);
            else if (line.startsWith("event: ")) e.event = line.slice(7);
            else if (line.startsWith("data: ")) e.data += line.slice(6);
          }
          if (e.data) events.push(e);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, comments, status: () => status, close: async () => (abort.abort(), await done.catch(() => undefined)) };
}

describe("GET /v1/events/stream (server-sent events)", () => {
  it("streams id: seq, event: type, data: envelope, and resumes from Last-Event-ID without loss", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "admin");
    const emit = (n: number, from: number) =>
      t.call("POST", "/v1/events", { key, body: { events: Array.from({ length: n }, (_, i) => ({ type: i % 2 ? "user.disabled" : "user.reenabled", payload: { user: { id: `u${from + i}` } } })) } });

    const first = openStream(`${t.url}/v1/events/stream?after_seq=0`, key);
    await emit(5, 0);
    await until(() => first.events.length === 5, 10_000, "first five");
    expect(first.status()).toBe(200);
    expect(first.events.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5"]);
    expect(first.events[0]!.event).toBe("user.reenabled");
    expect(JSON.parse(first.events[4]!.data)).toMatchObject({ seq: 5, type: "user.reenabled", payload: { user: { id: "u4" } }, context: { app_id: "acme" } });
    await first.close();

    // Events recorded while no one listens are not lost: the client resumes from the last id it saw.
    await emit(7, 5);
    const resumed = openStream(`${t.url}/v1/events/stream`, key, { "last-event-id": first.events[4]!.id! });
    await until(() => resumed.events.length === 7, 10_000, "the seven recorded meanwhile");
    await emit(3, 12);
    await until(() => resumed.events.length === 10, 10_000, "live ones after them");
    expect(resumed.events.map((e) => Number(e.id))).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    await resumed.close();
  });

  it("filters by type pattern and starts at the head without Last-Event-ID", async () => {
    const t = await startTestServer({ delivery: false });
    const key = await t.key("acme", "read");
    const ingest = await t.key("acme", "ingest");
    await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.created", payload: userPayload("old") } });
    const s = openStream(`${t.url}/v1/events/stream?filter=authentication.**`, key);
    await until(() => s.status() === 200, 5000, "connected");
    await new Promise((r) => setTimeout(r, 100));
    await t.call("POST", "/v1/events", { key: ingest, body: { type: "user.created", payload: userPayload("new") } });
    await t.call("POST", "/v1/events", { key: ingest, body: { type: "authentication.primary.password.failed", payload: { user: { id: "new" } } } });
    await until(() => s.events.length === 1, 10_000, "the matching event");
    expect(s.events[0]).toMatchObject({ id: "3", event: "authentication.primary.password.failed" });
    await s.close();
    expect((await t.call("GET", "/v1/events/stream", { key, headers: { "last-event-id": "abc" } })).status).toBe(422);
    expect((await t.call("GET", "/v1/events/stream", { key: ingest })).status).toBe(403);
  });
});
