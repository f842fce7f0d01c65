import type dns from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthbus, HookDeniedError, InvalidHookError, SsrfRefusedError } from "../../src/index.js";
import { createGuardedAgent, findSsrfRefusal, sendRequest } from "../../src/net/http-client.js";
import { classifyAddress, createGuardedLookup } from "../../src/net/ssrf-guard.js";
import { tempDbPath, user } from "../helpers.js";
import { json, startHookServer, type HookServer } from "./hook-server.js";

const payload = () => ({ user: user("u1"), identities: [] });

describe("address classification", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"], // cloud metadata
    ["100.64.0.1", "carrierGradeNat"],
    ["100.100.100.200", "carrierGradeNat"], // Alibaba Cloud metadata
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fd00:ec2::254", "uniqueLocal"], // AWS metadata over IPv6
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"], // IPv4-mapped, dotted
    ["::ffff:7f00:1", "loopback"], // IPv4-mapped, hex
    ["::ffff:169.254.169.254", "linkLocal"],
    ["[::ffff:10.0.0.1]", "private"],
    ["::127.0.0.1", "loopback"],
    ["::7f00:1", "ipv4Compatible"], // deprecated IPv4-compatible form
    ["::a00:1", "ipv4Compatible"],
    ["64:ff9b::7f00:1", "rfc6052"], // NAT64
    ["2002:7f00:1::", "6to4"],
    ["2001:db8::1", "reserved"],
    ["not-an-ip", "unparseable"],
  ])("%s is refused (%s)", (ip, range) => {
    expect(classifyAddress(ip)).toMatchObject({ allowed: false, range });
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "[2606:4700:4700::1111]", "::ffff:8.8.8.8"])("%s is public", (ip) => {
    expect(classifyAddress(ip)).toMatchObject({ allowed: true, range: "unicast" });
  });
});

describe("guarded lookup", () => {
  const fake = (answers: dns.LookupAddress[]) =>
    ((_host: string, _opts: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) => cb(null, answers)) as unknown as typeof dns.lookup;
  const run = (answers: dns.LookupAddress[], all: boolean) =>
    new Promise<{ err: unknown; address: unknown; family?: number }>((resolve) =>
      createGuardedLookup(fake(answers))("hooks.example.com", { all }, (err, address, family) => resolve({ err, address, family })),
    );

  it("refuses a name whose every address is non-public", async () => {
    const r = await run([{ address: "127.0.0.1", family: 4 }, { address: "::1", family: 6 }], true);
    expect(r.err).toBeInstanceOf(SsrfRefusedError);
    expect((r.err as Error).message).toContain("hooks.example.com (127.0.0.1)");
  });

  it("keeps only the public addresses of a mixed answer", async () => {
    const answers = [{ address: "10.0.0.7", family: 4 }, { address: "93.184.216.34", family: 4 }];
    expect(await run(answers, true)).toEqual({ err: null, address: [{ address: "93.184.216.34", family: 4 }], family: undefined });
    expect(await run(answers, false)).toEqual({ err: null, address: "93.184.216.34", family: 4 });
  });
});

describe("the guarded HTTP client", () => {
  let server: HookServer;
  beforeAll(async () => {
    server = await startHookServer(json({ ok: true }));
  });
  afterAll(() => server.close());

  const attempt = async (url: string, resolve?: typeof dns.lookup) => {
    const agent = createGuardedAgent({ allowPrivateNetworks: false, resolve });
    try {
      return await sendRequest(agent, { url, headers: {}, body: "{}", maxResponseBytes: 1024 }).catch((e: unknown) => e);
    } finally {
      await agent.close();
    }
  };

  it("refuses loopback by IP literal and by name, after DNS, before sending anything", async () => {
    const before = server.requests.length;
    for (const url of [`http://127.0.0.1:${server.port}/`, `http://localhost:${server.port}/`, `http://[::ffff:127.0.0.1]:${server.port}/`]) {
      const r = await attempt(url);
      expect(findSsrfRefusal(r), url).toBeInstanceOf(SsrfRefusedError);
    }
    expect(server.requests.length).toBe(before);
  });

  it("refuses a name that resolves to a private address at connect time (DNS rebinding)", async () => {
    // The name looks public and would pass any check made at registration; the answer at connect time decides.
    const rebinding = ((host: string, opts: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) => cb(null, [{ address: "127.0.0.1", family: 4 }])) as unknown as typeof dns.lookup;
    const before = server.requests.length;
    const r = await attempt(`http://hooks.example.com:${server.port}/`, rebinding);
    expect(findSsrfRefusal(r)?.message).toContain("hooks.example.com (127.0.0.1)");
    expect(server.requests.length).toBe(before);
  });

  it("lets everything through with allowPrivateNetworks", async () => {
    const agent = createGuardedAgent({ allowPrivateNetworks: true });
    const r = await sendRequest(agent, { url: `http://localhost:${server.port}/`, headers: {}, body: "{}", maxResponseBytes: 1024 });
    expect(r.status).toBe(200);
    await agent.close();
  });
});

describe("SSRF guard on HTTP hooks", () => {
  let server: HookServer;
  beforeAll(async () => {
    server = await startHookServer(json({ is_allowed: true, mutations: { user: { custom_attributes: { via: "hook" } } } }));
  });
  afterAll(() => server.close());

  it("refuses non-public IP literals at registration", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    for (const host of ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.8", "100.64.1.1", "2130706433" /* decimal 127.0.0.1 */]) {
      expect(() => bus.hooks.add("user.pre_create", { url: `https://${host}:${server.port}/hook` }), host).toThrow(InvalidHookError);
    }
    expect(bus.hooks.list()).toEqual([]);
    await bus.close();
  });

  it("refuses a name that resolves to loopback when the hook runs, and records why", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}` });
    const { id } = bus.hooks.add("user.pre_create", { url: `https://localhost:${server.port}/hook` });
    const before = server.requests.length;
    const err = await bus.before("user.pre_create", payload()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookDeniedError);
    expect(server.requests.length).toBe(before);
    const [d] = await bus.decisions.query({ hook_id: id });
    expect(d!.hooks[0]).toMatchObject({ outcome: "error", error_kind: "ssrf_refused" });
    expect(d!.hooks[0]!.error).toMatch(/localhost \((127\.0\.0\.1|::1)\)/);
    await bus.close();
  });

  it("with allowPrivateNetworks: true, loopback hooks by IP and by name work", async () => {
    const bus = createAuthbus({ database: `sqlite:${tempDbPath()}`, allowPrivateNetworks: true });
    for (const url of [`http://127.0.0.1:${server.port}/hook`, `http://localhost:${server.port}/hook`]) {
      const { id } = bus.hooks.add("user.pre_create", { url });
      expect((await bus.before("user.pre_create", payload())).user.custom_attributes).toEqual({ via: "hook" });
      bus.hooks.remove(id);
    }
    await bus.close();
  });
});
