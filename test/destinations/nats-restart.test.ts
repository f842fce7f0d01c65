import { describe, expect, it } from "vitest";
import { createAuthbus } from "../../src/index.js";
import { tempDbPath, until } from "../helpers.js";
import { createStream, openNats, readStream, startPrivateNats, streamCount, uniqueName } from "./nats-helpers.js";

const EVENTS = 5000;

describe("NATS JetStream destination: server restart", () => {
  it("a nats-server killed mid-load loses nothing, and copies are dropped by Nats-Msg-Id", async () => {
    const nats = await startPrivateNats();
    const root = uniqueName("abr");
    const stream = root.toUpperCase();
    await createStream(nats.url, stream, [`${root}.>`]);
    const watcher = await openNats(nats.url);

    const errors: unknown[] = [];
    const bus = createAuthbus({
      database: `sqlite:${tempDbPath()}`,
      nats: { url: nats.url, timeoutMs: 1000 },
      // A bounded number in flight, so the kill lands while most events are still to be published.
      delivery: { maxInFlight: 16 },
      onError: (e) => errors.push(e),
    });
    try {
      const sub = await bus.subscriptions.create({ name: "restart", filter: ["user.**"], destination: { type: "nats", subject: `${root}.{app}.{type}` }, retry_schedule: [0, ...Array(19).fill(1)] });
      const ids: string[] = [];
      for (let i = 0; i < EVENTS; i += 500) {
        const batch = await Promise.all(Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => bus.emit("user.authenticated", { user: { id: `user-${(i + j) % 50}` }, session: { id: `s-${i + j}` } })));
        ids.push(...batch.map((r) => r.id));
      }

      await until(async () => (await streamCount(watcher, stream)) >= 500, 30_000, "publishing to start");
      expect(await streamCount(watcher, stream)).toBeLessThan(EVENTS);
      await nats.kill("SIGKILL");
      // Publishes fail while it is down (they are retried on the schedule); the bus keeps running.
      await new Promise((r) => setTimeout(r, 1500));
      await nats.start();

      await until(async () => (await bus.subscriptions.health(sub.id)).backlog === 0 && (await streamCount(watcher, stream).catch(() => 0)) >= EVENTS, 50_000, "every delivery to finish");
      const failed = (await bus.deliveries.query({ subscription_id: sub.id, state: "dead" })).data;
      expect(failed).toHaveLength(0);

      const stored = await readStream(watcher, stream);
      expect(stored).toHaveLength(EVENTS);
      const msgIds = new Set(stored.map((m) => m.msgId));
      expect(msgIds.size).toBe(EVENTS);
      expect(ids.every((id) => msgIds.has(id))).toBe(true);
      // The outage was seen: some attempts failed and were retried.
      const health = await bus.subscriptions.health(sub.id);
      expect(health.last_failure_at).not.toBeNull();

      // Every event published again (a replay inside the duplicate window): JetStream keeps one copy each.
      expect((await bus.subscriptions.replay(sub.id, { from_seq: 1 })).queued).toBe(EVENTS);
      await until(async () => (await bus.subscriptions.health(sub.id)).backlog === 0, 50_000, "the replay to finish");
      expect(await streamCount(watcher, stream)).toBe(EVENTS);
    } finally {
      await bus.close();
    }
  });
});
