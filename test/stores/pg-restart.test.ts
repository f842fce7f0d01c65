/**
 * PostgreSQL going away under load (issue 6): a real server restart mid-load, an outage longer than
 * the store's patience, and a COMMIT whose answer is lost. The restarts run on a PRIVATE cluster
 * (pg_createcluster on a free port, dropped afterwards): other test files use the shared one on 5432
 * concurrently and must never see it restart.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AuthbusError } from "../../src/core/errors.js";
import { createAuthbus } from "../../src/index.js";
import { serve } from "../../src/server/serve.js";
import { createLogger } from "../../src/server/logger.js";
import { createPostgresStore, type PostgresStore } from "../../src/stores/postgres/index.js";
import { event, rejection } from "../../src/testing/conformance/fixture.js";
import { startReceiver } from "../delivery/receiver.js";
import { until, user } from "../helpers.js";
import { dropSchema, PG_URL, uniqueSchema } from "./pg-helpers.js";

const run = promisify(execFile);
const VERSION = fs.readdirSync("/etc/postgresql").sort((a, b) => Number(b) - Number(a))[0]!;
const CLUSTER = `authbus_restart_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let port = 0;
let url = "";

const ctl = (action: "start" | "stop" | "restart") => run("pg_ctlcluster", ["--skip-systemctl-redirect", VERSION, CLUSTER, action]);

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port: p } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return p;
}

// Crashes are what this file is about: anything unhandled anywhere in the process is a failure.
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  port = await freePort();
  await run("pg_createcluster", [VERSION, CLUSTER, "-p", String(port), "--", "--auth=trust"]);
  await ctl("start");
  url = `postgres://postgres@127.0.0.1:${port}/postgres`;
}, 60_000);

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
  await run("pg_dropcluster", ["--stop", VERSION, CLUSTER]).catch((e: Error) => console.error(`pg_dropcluster ${CLUSTER}: ${e.message}`));
}, 60_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // A test that failed mid-outage must leave neither its cleanups (closing a store waits for the
  // server) nor the next test without a server: start it first.
  await ctl("start").catch(() => undefined);
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe("PostgreSQL restarting mid-load", () => {
  it("loses nothing acknowledged: every resolved emit is in the log once, handled and delivered; the process neither crashes nor needs a restart", async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const backgroundErrors: unknown[] = [];
    const bus = createAuthbus({ database: url, postgres: { schema: "restart_load" }, allowPrivateNetworks: true, onError: (e) => void backgroundErrors.push(e) });
    cleanups.push(() => bus.close());
    const handled = new Set<string>();
    bus.on("user.**", (e) => void handled.add(e.id), { name: "restart-handler" });
    await bus.subscriptions.create({ name: "restart", filter: ["user.**"], destination: { type: "webhook", url: receiver.url } });

    const resolved: { id: string; seq: number; start: number; end: number }[] = [];
    const rejected: unknown[] = [];
    let restart: { done: boolean; resolvedAfter: number } | undefined;
    // When a fresh connection was refused during the restart (the attempt's start and end).
    const down: { from: number; to: number }[] = [];
    const probe = async () => {
      while (!restart!.done) {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        c.on("error", () => undefined);
        const at = Date.now();
        await c.connect().then(
          () => c.end(),
          () => void down.push({ from: at, to: Date.now() }),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let restarting: Promise<unknown> | undefined;
    let n = 0;
    // 32 emitters; the restart starts after 800 emits and the load goes on until 1,000 more resolved after it.
    const more = () => n < 20_000 && (!restart?.done || restart.resolvedAfter < 1000 || n < 3000);
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (more()) {
          const i = n++;
          const start = Date.now();
          try {
            const r = await bus.emit("user.profile.updated", { user: user(`u${i % 97}`) });
            resolved.push({ id: r.id, seq: r.seq, start, end: Date.now() });
            if (restart?.done) restart.resolvedAfter++;
          } catch (e) {
            rejected.push(e);
          }
          if (!restart && resolved.length >= 800) {
            restart = { done: false, resolvedAfter: 0 };
            restarting = Promise.all([probe(), ctl("restart").then(() => (restart!.done = true))]);
          }
        }
      }),
    );
    await restarting;
    expect(restart!.done).toBe(true);
    expect(restart!.resolvedAfter).toBeGreaterThanOrEqual(1000);
    // Some emits were pending across a moment the server refused a connection: they waited it out.
    expect(down.length).toBeGreaterThan(0);
    expect(resolved.some((r) => down.some((d) => r.start <= d.from && r.end >= d.to))).toBe(true);

    // Every rejection (none expected within the default patience) is typed; every resolution is in the log once.
    for (const e of rejected) expect((e as AuthbusError).code).toBe("store_failed");
    expect(rejected.length).toBeLessThan(n);
    const log = new Map<string, number>();
    for (let after = 0; ; ) {
      const page = await bus.query({ after_seq: after, limit: 1000 });
      for (const e of page) {
        expect(log.has(e.id)).toBe(false);
        log.set(e.id, e.seq);
      }
      if (page.length < 1000) break;
      after = page[page.length - 1]!.seq;
    }
    const seqs = [...log.values()];
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1)); // gap-free, each once
    for (const r of resolved) expect(log.get(r.id)).toBe(r.seq);
    expect(new Set(resolved.map((r) => r.seq)).size).toBe(resolved.length);

    await until(() => resolved.every((r) => handled.has(r.id)), 30_000, "the durable handler to see every event");
    await until(() => {
      const got = new Set(receiver.ids());
      return resolved.every((r) => got.has(r.id));
    }, 30_000, "the receiver to get every event");
    expect(backgroundErrors.length).toBeGreaterThan(0); // the outage was noticed (and survived)
    expect(unhandled).toEqual([]);

    // The same process carries on as if nothing happened.
    const after = await bus.emit("user.profile.updated", { user: user("after") });
    expect(after.seq).toBe(seqs.length + 1);
    await until(() => handled.has(after.id) && receiver.ids().includes(after.id), 10_000, "the post-restart event");
  }, 120_000);

  it("an outage longer than the store's patience rejects appends with store_failed; the same store works once the server is back; /readyz follows", async () => {
    const errors: Error[] = [];
    const store = createPostgresStore({ connectionString: url, schema: "restart_budget", reconnectTimeoutMs: 1500, onError: (e) => void errors.push(e) });
    cleanups.push(() => store.close());
    await store.ready();
    await store.append([event()]);
    const server = await serve({ port: 0, host: "127.0.0.1", database: url, handleSignals: false, stdout: new (await import("node:stream")).PassThrough(), logger: createLogger({ level: "silent" }), runtime: { postgres: { schema: "restart_serve" } } });
    cleanups.push(() => server.close());
    const readyz = async () => (await fetch(`${server.url}/readyz`)).status;
    expect(await readyz()).toBe(200);

    await ctl("stop");
    const t0 = Date.now();
    const err = await rejection(store.append([event(), event()]));
    expect(err).toBeInstanceOf(AuthbusError);
    expect(err.code).toBe("store_failed");
    // It waited its whole patience (1.5 s) for the server before giving up, not just the backoff steps that fit.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1495);
    expect((await rejection(store.ping())).code).toBe("store_failed");
    expect(await readyz()).toBe(503);

    // Appends made while the server is down wait for it instead of failing.
    const waiting = store.append([event()]);
    await new Promise((r) => setTimeout(r, 300));
    await ctl("start");
    expect((await waiting)[0]!.seq).toBe(2);
    await until(async () => (await readyz()) === 200, 10_000, "/readyz to recover");
    expect((await store.append([event()]))[0]!.seq).toBe(3);
    expect(unhandled).toEqual([]);
  }, 60_000);
});

/**
 * A TCP proxy in front of the shared server that can cut one connection at a chosen moment: right
 * after the server answered a COMMIT or the single-statement append (the commit happened, the client
 * never hears of it), or as the INSERT is sent (the transaction never commits).
 */
async function startCuttingProxy(target: { host: string; port: number }) {
  let armed: "after-commit" | "after-fast-append" | "before-insert" | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let started = false;
    let buf = Buffer.alloc(0);
    let cutOnReply = false;
    const cut = () => {
      cuts++;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const out: Buffer[] = [];
      for (;;) {
        // The startup message has no type byte; every later message is type + int32 length.
        const head = started ? 5 : 4;
        if (buf.length < head) break;
        const len = started ? buf.readInt32BE(1) + 1 : buf.readInt32BE(0);
        if (buf.length < len) break;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        const type = started ? String.fromCharCode(msg[0]!) : "";
        started = true;
        const text = msg.toString("utf8", 5);
        // The single-statement append is a named prepared statement: Parse the first time on a connection, then only Bind.
        const freshAppend = (type === "P" || type === "B") && text.includes("authbus_append:");
        if (armed === "before-insert" && ((type === "P" && /INSERT INTO \S+\.events/.test(text)) || freshAppend)) {
          armed = undefined;
          upstream.write(Buffer.concat(out));
          return cut();
        }
        // The fast path (no caller-chosen ids) is one statement in autocommit: it commits as it ends.
        if ((armed === "after-commit" && type === "Q" && /^COMMIT/i.test(text)) || (armed === "after-fast-append" && freshAppend)) {
          armed = undefined;
          cutOnReply = true;
        }
        out.push(msg);
      }
      if (out.length) upstream.write(Buffer.concat(out));
    });
    upstream.on("data", (chunk: Buffer) => (cutOnReply ? cut() : client.write(chunk)));
    for (const s of [client, upstream]) {
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: (what: "after-commit" | "after-fast-append" | "before-insert") => void (armed = what),
    get cuts() {
      return cuts;
    },
    close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
}

describe("a connection lost around COMMIT", () => {
  let store: PostgresStore;
  let proxy: Awaited<ReturnType<typeof startCuttingProxy>>;
  let schema: string;
  beforeAll(async () => {
    const u = new URL(PG_URL);
    proxy = await startCuttingProxy({ host: u.hostname, port: Number(u.port || 5432) });
    schema = uniqueSchema("authbus_cut");
    u.host = `127.0.0.1:${proxy.port}`;
    store = createPostgresStore({ connectionString: u.toString(), schema });
    await store.ready();
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  async function countInLog(ids: string[]): Promise<number> {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return (await c.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE id = ANY($1)`, [ids])).rows[0].n;
    } finally {
      await c.end();
    }
  }

  it("a batch committed whose answer was lost resolves with the seqs it got, and is not written again", async () => {
    const first = await store.append([event()]);
    proxy.arm("after-commit");
    const cutsBefore = proxy.cuts;
    const inputs = [event(), event({ id: "0190a0c0-0000-7000-8000-00000000c0de" }), event({ app: "app2" })];
    const results = await store.append(inputs);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    // Exactly what the lost answer said: fresh events, not duplicates of themselves.
    expect(results.map((r) => [r.seq, r.duplicate])).toEqual([
      [first[0]!.seq + 1, false],
      [first[0]!.seq + 2, false],
      [1, false],
    ]);
    expect(await countInLog(inputs.map((i) => i.id))).toBe(3);
    expect(await store.headSeq("app1")).toBe(first[0]!.seq + 2);
    expect((await store.append([event()]))[0]!.seq).toBe(first[0]!.seq + 3);
  });

  it("a single-statement batch (generated ids) committed whose answer was lost resolves with its seqs, written once", async () => {
    const head = await store.headSeq("app1");
    proxy.arm("after-fast-append");
    const cutsBefore = proxy.cuts;
    const inputs = [event({ user: "u1" }), event(), event({ user: "u1" })];
    const results = await store.append(inputs);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    expect(results.map((r) => [r.seq, r.duplicate])).toEqual([
      [head + 1, false],
      [head + 2, false],
      [head + 3, false],
    ]);
    expect(results[2]!.subject_seq).toBe(results[0]!.subject_seq! + 1);
    expect(await countInLog(inputs.map((i) => i.id))).toBe(3);
    expect((await store.append([event()]))[0]!.seq).toBe(head + 4);
  });

  it("a batch whose connection was cut before COMMIT is written once by the retry", async () => {
    const head = await store.headSeq("app1");
    proxy.arm("before-insert");
    const cutsBefore = proxy.cuts;
    const inputs = [event(), event()];
    const results = await store.append(inputs);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    expect(results.map((r) => r.seq)).toEqual([head + 1, head + 2]);
    expect(await countInLog(inputs.map((i) => i.id))).toBe(2);
  });
});
