import { describe, expect, it } from "vitest";
import { createAuthbus, InvalidSubscriptionError } from "../../src/index.js";
import { createNatsPublisher } from "../../src/destinations/nats/nats-publisher.js";
import { tempDbPath, until, user } from "../helpers.js";
import { createStream, openNats, readStream, SHARED_NATS, streamCount, uniqueName } from "./nats-helpers.js";

const FAST_RETRIES = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1];

/** Every delivery of `eventId` (fanned out or replayed) is delivered. */
async function delivered(bus: ReturnType<typeof createAuthbus>, id: string, eventId: string, count = 1): Promise<void> {
  await until(async () => {
    const ds = (await bus.deliveries.query({ subscription_id: id, event_id: eventId })).data;
    return ds.length === count && ds.every((d) => d.state === "delivered");
  }, 20_000, `the deliveries of ${eventId}`);
}

describe("NATS JetStream destination", () => {
  it("publishes emitted events to the subscription's subject with the event id as Nats-Msg-Id", async () => {
    const root = uniqueName("abt");
    const stream = root.toUpperCase();
    await createStream(SHARED_NATS, stream, [`${root}.>`]);
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, app: "acme", nats: { url: SHARED_NATS } });
    try {
      const sub = await bus.subscriptions.create({ name: "js", filter: ["user.**"], destination: { type: "nats", subject: `${root}.{app}.{type}` }, retry_schedule: FAST_RETRIES });
      const a = await bus.emit("user.created", { user: user("u1"), identities: [] });
      const b = await bus.emit("user.disabled", { user: user("u1") });
      await delivered(bus, sub.id, a.id);
      await delivered(bus, sub.id, b.id);

      const msgs = await readStream(await openNats(SHARED_NATS), stream);
      expect(msgs.map((m) => m.subject)).toEqual([`${root}.acme.user.created`, `${root}.acme.user.disabled`]);
      expect(msgs.map((m) => m.msgId)).toEqual([a.id, b.id]);
      expect(msgs[0]!.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(msgs[0]!.body);
      expect(body).toMatchObject({ id: a.id, seq: a.seq, type: "user.created", payload: { user: { id: "u1" } } });
      const [delivery] = (await bus.deliveries.query({ subscription_id: sub.id, event_id: a.id })).data;
      expect(delivery).toMatchObject({ state: "delivered" });
      expect(delivery!.attempts[0]!.response_head).toMatch(new RegExp(`^stream ${stream} seq 1$`));
    } finally {
      await bus.close();
    }
  });

  it("renders CloudEvents binary mode as ce-* headers and the data as the body", async () => {
    const root = uniqueName("abt");
    const stream = root.toUpperCase();
    await createStream(SHARED_NATS, stream, [`${root}.>`]);
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, nats: { url: SHARED_NATS } });
    try {
      const sub = await bus.subscriptions.create({ name: "ce", filter: ["user.created"], format: "cloudevents-binary", destination: { type: "nats", subject: `${root}.events` } });
      const e = await bus.emit("user.created", { user: user("u2"), identities: [] });
      await delivered(bus, sub.id, e.id);
      const [m] = await readStream(await openNats(SHARED_NATS), stream);
      expect(m!.subject).toBe(`${root}.events`);
      expect(m!.headers).toMatchObject({ "ce-id": e.id, "ce-type": "user.created", "ce-specversion": "1.0", "ce-datacontenttype": "application/json", "nats-msg-id": e.id });
      expect(JSON.parse(m!.body)).toMatchObject({ object: { user: { id: "u2" } } });
    } finally {
      await bus.close();
    }
  });

  it("JetStream drops a second publish of the same event (Nats-Msg-Id), and a replay within the window is recorded as a duplicate", async () => {
    const root = uniqueName("abt");
    const stream = root.toUpperCase();
    await createStream(SHARED_NATS, stream, [`${root}.>`]);
    const nc = await openNats(SHARED_NATS);

    const publisher = createNatsPublisher({ url: SHARED_NATS });
    try {
      const message = { subject: `${root}.raw`, body: "{}", headers: { "Nats-Msg-Id": "evt-1" } };
      const first = await publisher.publish(message);
      const second = await publisher.publish(message);
      expect(first.error).toBeUndefined();
      expect(first.responseHead).toBe(`stream ${stream} seq 1`);
      expect(second.error).toBeUndefined();
      expect(second.responseHead).toMatch(/^duplicate: already in stream .* seq 1/);
      expect(await streamCount(nc, stream)).toBe(1);
    } finally {
      await publisher.close();
    }

    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, nats: { url: SHARED_NATS } });
    try {
      const sub = await bus.subscriptions.create({ name: "dup", filter: ["user.**"], destination: { type: "nats", subject: `${root}.{type}` } });
      const e = await bus.emit("user.created", { user: user("u3"), identities: [] });
      await delivered(bus, sub.id, e.id);
      expect((await bus.subscriptions.replay(sub.id, { from_seq: 1 })).queued).toBe(1);
      await delivered(bus, sub.id, e.id, 2);
      expect(await streamCount(nc, stream)).toBe(2);
      const deliveries = (await bus.deliveries.query({ subscription_id: sub.id, event_id: e.id })).data;
      expect(deliveries).toHaveLength(2);
      expect(deliveries.every((d) => d.state === "delivered")).toBe(true);
      expect(deliveries.map((d) => d.attempts[0]!.response_head).filter((h) => h?.startsWith("duplicate:"))).toHaveLength(1);
    } finally {
      await bus.close();
    }
  });

  it("an attempt to a subject no stream captures fails with a clear error and is retried", async () => {
    const subject = `${uniqueName("abtnone")}.x`;
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, nats: { url: SHARED_NATS, timeoutMs: 2000 } });
    try {
      const sub = await bus.subscriptions.create({ name: "nostream", filter: ["user.**"], destination: { type: "nats", subject }, retry_schedule: [0, 3600] });
      const e = await bus.emit("user.created", { user: user("u4"), identities: [] });
      let d: Awaited<ReturnType<typeof bus.deliveries.get>>;
      await until(async () => ((d = (await bus.deliveries.query({ subscription_id: sub.id, event_id: e.id })).data[0]), (d?.attempts.length ?? 0) > 0), 10_000, "the first attempt");
      expect(d!.state).toBe("pending");
      expect(d!.attempts[0]!.error).toContain(`no stream matches subject ${subject}`);
      expect(d!.next_attempt_at).not.toBeNull();
    } finally {
      await bus.close();
    }
  });

  it("refuses a nats subscription when no NATS URL is configured, and stores nothing", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    try {
      const err = await bus.subscriptions.create({ name: "nonats", filter: ["user.**"], destination: { type: "nats", subject: "authbus.{app}.{type}" } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidSubscriptionError);
      expect((err as InvalidSubscriptionError).issues[0]!.message).toContain("NATS is not configured");
      expect((await bus.subscriptions.list()).data).toHaveLength(0);
    } finally {
      await bus.close();
    }
  });

  it("refuses subjects NATS cannot publish to", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, nats: { url: SHARED_NATS } });
    try {
      for (const subject of ["authbus.*", "authbus.>", "a..b", ".a", "a.", "a b", "authbus.{tenant}", "$JS.API.x"]) {
        const err = await bus.subscriptions.create({ name: "bad", filter: ["user.**"], destination: { type: "nats", subject } }).catch((e: unknown) => e);
        expect(err, subject).toBeInstanceOf(InvalidSubscriptionError);
        expect((err as InvalidSubscriptionError).issues[0]!.pointer).toBe("/destination/subject");
      }
      expect((await bus.subscriptions.list()).data).toHaveLength(0);
    } finally {
      await bus.close();
    }
  });
});
