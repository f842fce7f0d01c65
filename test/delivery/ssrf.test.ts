import { afterEach, describe, expect, it } from "vitest";
import { createAuthbus } from "../../src/index.js";
import { tempDbPath, until, user } from "../helpers.js";
import { startReceiver } from "./receiver.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

describe("SSRF guard on webhook delivery", () => {
  it("refuses a literal private address when the subscription is created", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    open.push(bus);
    for (const url of ["http://127.0.0.1:9/x", "http://10.0.0.8/x", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x"]) {
      await expect(bus.subscriptions.create({ name: "x", filter: ["user.**"], destination: { type: "webhook", url } })).rejects.toMatchObject({ code: "ssrf_refused" });
    }
  });

  it("refuses a DNS name resolving to 127.0.0.1 at connect time: the receiver sees nothing", async () => {
    const receiver = await startReceiver();
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    open.push(bus, receiver);
    const sub = await bus.subscriptions.create({ name: "rebind", filter: ["user.**"], destination: { type: "webhook", url: `http://localhost:${receiver.port}/hook` }, retry_schedule: [0] });
    await bus.emit("user.disabled", { user: user("u") });
    await until(async () => (await bus.deliveries.query({ subscription_id: sub.id, state: "dead" })).data.length === 1, 10_000, "refused delivery");
    const [d] = (await bus.deliveries.query({ subscription_id: sub.id })).data;
    expect(d!.attempts[0]!.status_code).toBeNull();
    expect(d!.attempts[0]!.error).toMatch(/refused|not public|loopback/i);
    expect(receiver.received).toHaveLength(0);
    // The test event is refused the same way.
    const t = await bus.subscriptions.test(sub.id);
    expect(t.error).toMatch(/refused|loopback/i);
    expect(receiver.received).toHaveLength(0);
  });

  it("never follows a redirect, so a redirect to a private address reaches nothing", async () => {
    const target = await startReceiver();
    const receiver = await startReceiver(() => ({ status: 302, headers: { location: target.url } }));
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: true });
    open.push(bus, receiver, target);
    const sub = await bus.subscriptions.create({ name: "redirect", filter: ["user.**"], destination: { type: "webhook", url: receiver.url }, retry_schedule: [0] });
    await bus.emit("user.disabled", { user: user("u") });
    await until(async () => (await bus.deliveries.query({ subscription_id: sub.id, state: "dead" })).data.length === 1, 10_000, "dead after 302");
    const [d] = (await bus.deliveries.query({ subscription_id: sub.id })).data;
    expect(d!.attempts[0]!.status_code).toBe(302);
    expect(d!.flagged).toBe("redirect");
    expect(target.received).toHaveLength(0);
  });
});
