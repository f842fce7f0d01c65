import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AppendInput } from "../../src/core/ports/store.js";
import { renderNative } from "../../src/core/formats/native.js";
import { renderCloudEventsStructured } from "../../src/core/formats/cloudevents.js";
import { createSqliteStore } from "../../src/stores/sqlite/sqlite-store.js";
import { tempDbPath } from "../helpers.js";

const stores: ReturnType<typeof createSqliteStore>[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

// Delivery reads events with `forRendering` (the JSON text is kept, and parsed only on demand):
// every rendering must come out exactly as from an ordinary read.
const payloads: unknown[] = [
  { user: { id: "u1", standard_attributes: { email: "zoe@example.com", name: "Zoë 🚀" } } },
  { user: { id: "u2\u2028\"q\"\\", standard_attributes: { n: [0, 1e21, 1.5e-7, -3] } }, nested: { empty: {}, list: [], nul: null } },
  { organization: { id: "org_1", metadata: JSON.parse('{"__proto__": {"x": 1}}') as unknown } },
];

describe("SQLite reads for rendering", () => {
  it("give the same native and CloudEvents bodies, and the same objects, as ordinary reads", async () => {
    const store = createSqliteStore({ filename: tempDbPath() });
    stores.push(store);
    const inputs: AppendInput[] = payloads.map((p, i) => ({
      id: randomUUID(),
      callerId: false,
      app_id: "acme",
      type: i === 2 ? "organization.created" : "user.authenticated",
      user_id: i === 2 ? undefined : `u${i}`,
      timestamp: 1_700_000_000 + i,
      payloadJson: JSON.stringify(p),
      contextJson: JSON.stringify({ app_id: "acme", triggered_by: "user", timestamp: 1_700_000_000 + i, preferred_languages: ["en"], language: "en" }),
    }));
    await store.append(inputs);
    const plain = await store.query({ app_id: "acme", limit: 10 });
    const forRendering = await store.query({ app_id: "acme", limit: 10, forRendering: true });
    expect(forRendering.map((e) => renderNative(e).body)).toEqual(plain.map((e) => renderNative(e).body));
    expect(forRendering.map((e) => renderCloudEventsStructured(e).body)).toEqual(plain.map((e) => renderCloudEventsStructured(e).body));
    expect(JSON.parse(JSON.stringify(forRendering))).toEqual(JSON.parse(JSON.stringify(plain)));
    expect(forRendering.map((e) => e.payload)).toEqual(payloads.map((p) => JSON.parse(JSON.stringify(p)) as unknown));
  });
});
