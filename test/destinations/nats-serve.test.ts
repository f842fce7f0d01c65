import { describe, expect, it } from "vitest";
import { tempDbPath, until } from "../helpers.js";
import { startServeProcess } from "../server/serve-process.js";
import { createStream, openNats, readStream, SHARED_NATS, streamCount, uniqueName } from "./nats-helpers.js";

const ADMIN = "abk_nats_serve_admin_key_0123456789";

describe("authbus serve with AUTHBUS_NATS_URL", () => {
  it("publishes the events of a nats subscription created over HTTP to JetStream", async () => {
    const root = uniqueName("abs");
    const stream = root.toUpperCase();
    await createStream(SHARED_NATS, stream, [`${root}.>`]);
    const nc = await openNats(SHARED_NATS);
    const srv = await startServeProcess(tempDbPath(), ADMIN, { AUTHBUS_NATS_URL: SHARED_NATS });
    try {
      const created = await srv.call("POST", "/v1/subscriptions", { name: "js", filter: ["user.**"], destination: { type: "nats", subject: `${root}.{app}.{type}` } });
      expect(created.status).toBe(201);
      const emitted = await srv.call("POST", "/v1/events", { type: "user.created", payload: { user: { id: "u1" }, identities: [] } });
      expect(emitted.status).toBeLessThan(300);
      await until(async () => (await streamCount(nc, stream)) === 1, 20_000, "the event in the stream");
      const [m] = await readStream(nc, stream);
      expect(m!.subject).toBe(`${root}.default.user.created`);
      expect(m!.msgId).toBe(emitted.body.id);
    } finally {
      srv.child.kill("SIGTERM");
      await srv.exited;
    }
  });
});
