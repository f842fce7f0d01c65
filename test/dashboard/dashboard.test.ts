/**
 * The dashboard in a real browser (chromium via playwright-core) against a real `authbus serve`
 * child process on loopback, with a real webhook receiver. Screenshots of every page are written
 * to docs/images/ only when AUTHBUS_SCREENSHOTS=1.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startServeProcess } from "../server/serve-process.js";
import { startReceiver } from "../delivery/receiver.js";
import { startHookServer, json } from "../hooks/hook-server.js";
import { tempDbPath, until } from "../helpers.js";
import { browserMissing, launchBrowser } from "./browser.js";
import { ensureDashboardBuilt } from "./build.js";

const missing = browserMissing();
if (missing) console.warn(`dashboard browser tests skipped: ${missing}`);
const SHOTS = process.env.AUTHBUS_SCREENSHOTS === "1" ? path.resolve(__dirname, "../../docs/images") : undefined;
const ADMIN = "dashboard-admin-key-0123456789";
const nav = (p: Page, name: string) => p.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true });
const userPayload = (id: string) => ({ user: { id, standard_attributes: { email: `${id}@example.com` } }, identities: [] });

describe.skipIf(missing !== undefined)("dashboard (browser)", () => {
  let server: Awaited<ReturnType<typeof startServeProcess>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let subId = "";

  const shot = async (name: string, p: Page = page) => {
    if (!SHOTS) return;
    await p.waitForTimeout(300);
    await p.screenshot({ path: path.join(SHOTS, `dashboard-${name}.png`), fullPage: false });
  };
  const emit = async (type: string, payload: unknown) => {
    const r = await server.call("POST", "/v1/events", { type, payload });
    expect(r.status).toBe(202);
    return r.body as { id: string; seq: number };
  };

  beforeAll(async () => {
    ensureDashboardBuilt();
    receiver = await startReceiver(() => ({ status: 204 }));
    server = await startServeProcess(tempDbPath(), ADMIN, { AUTHBUS_LOG_LEVEL: "silent" });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    server?.child.kill("SIGKILL");
  });

  it("serves the built page and its hashed assets with the right headers", async () => {
    const res = await fetch(server.url + "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(server.url + asset);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(server.url + "/assets/..%2Fpackage.json")).status).toBe(404);
  });

  it("a wrong key shows a clear message", async () => {
    await page.goto(server.url + "/");
    await page.getByLabel("API key").fill("abk_not-a-real-key-at-all-000000000000000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("signin-error").textContent()).toContain("was not accepted");
    expect(await page.evaluate("sessionStorage.getItem('authbus.key')")).toBeNull();
  });

  it("signs in, and an event posted through the API appears in the timeline without a reload", async () => {
    await emit("user.created", userPayload("before-sign-in"));
    await page.getByLabel("API key").fill(ADMIN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.getByTestId("timeline").getByText("before-sign-in").waitFor();
    await page.getByText("● Live").waitFor();
    expect(await page.evaluate("sessionStorage.getItem('authbus.key')")).toBe(ADMIN);
    await page.evaluate("window.marker = 42");

    await emit("user.created", userPayload("arrived-live"));
    await page.getByTestId("timeline").getByText("arrived-live").waitFor({ timeout: 10_000 });
    // The same document: nothing reloaded it.
    expect(await page.evaluate("window.marker")).toBe(42);
  });

  it("creates a subscription from the page and shows its delivery succeed", async () => {
    await nav(page, "Subscriptions").click();
    await page.getByRole("link", { name: "New subscription" }).first().click();
    await page.getByLabel("Name").fill("crm");
    await page.getByLabel("Event types").fill("user.*");
    await page.getByLabel("Webhook URL").fill(receiver.url);
    await page.getByLabel("Retry schedule").fill("0");
    await page.getByRole("button", { name: "Create subscription" }).click();
    expect(await page.getByTestId("new-secret").textContent()).toMatch(/^whsec_/);
    await page.getByRole("link", { name: "Open the subscription" }).click();
    await page.getByRole("heading", { name: "crm" }).waitFor();
    subId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]!);
    expect(subId).toMatch(/^sub_/);

    const { seq } = await emit("user.created", userPayload("delivered-one"));
    await until(() => receiver.received.length >= 1, 10_000, "the receiver to get the event");
    const row = page.locator(`[data-state="delivered"][data-seq="${seq}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getByTestId("attempt-status").first().textContent()).toBe("204");
  });

  it("shows a failing receiver's status code, and a retry from the page delivers once it is fixed", async () => {
    receiver.setReply(() => ({ status: 503, body: "down for maintenance" }));
    const { seq } = await emit("user.created", userPayload("will-fail"));
    const dead = page.locator(`[data-state="dead"][data-seq="${seq}"]`);
    await dead.waitFor({ timeout: 10_000 });
    expect(await dead.getByTestId("attempt-status").first().textContent()).toBe("503");
    await dead.getByText("down for maintenance").waitFor();
    await expect.poll(() => page.getByTestId("last-error").textContent(), { timeout: 10_000 }).toMatch(/503/);
    await dead.scrollIntoViewIfNeeded();
    await shot("subscription-failing");

    receiver.setReply(() => ({ status: 204 }));
    await dead.getByRole("button", { name: /Retry delivery/ }).click();
    const delivered = page.locator(`[data-state="delivered"][data-seq="${seq}"]`);
    await delivered.waitFor({ timeout: 15_000 });
    const statuses = await delivered.getByTestId("attempt-status").allTextContents();
    expect(statuses).toEqual(["503", "204"]);
  });

  it("replays from a seq with visible progress until it completes", async () => {
    await server.call("POST", "/v1/events", { events: Array.from({ length: 25 }, (_, i) => ({ type: "user.created", payload: userPayload(`batch-${i}`) })) });
    await until(async () => (await server.call("GET", `/v1/subscriptions/${subId}/health`)).body.backlog === 0, 20_000, "the batch to be delivered");
    // The receiver holds every answer until the page has shown the replay under way.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    receiver.setReply(async () => (await gate, { status: 204 }));
    const before = receiver.received.length;
    await page.getByLabel("From seq (inclusive)").fill("1");
    await page.getByRole("button", { name: "Replay", exact: true }).click();
    const progress = page.getByTestId("replay-progress");
    await progress.getByText(/^0 of (\d+) done/).waitFor({ timeout: 10_000 });
    const queued = Number(/of (\d+)/.exec((await progress.textContent())!)![1]);
    expect(queued).toBeGreaterThanOrEqual(29);
    expect(await progress.locator("progress").getAttribute("max")).toBe(String(queued));
    release();
    await progress.getByText(`Replay complete: ${queued} of ${queued}`).waitFor({ timeout: 30_000 });
    expect(await progress.locator("progress").getAttribute("value")).toBe(String(queued));
    expect(receiver.received.length - before).toBeGreaterThanOrEqual(queued);
    await shot("subscription");
  });

  it("every page renders; screenshots at 1280 px and 390 px", async () => {
    // Hook decisions for the ledger: an enforced hook that allows and a shadow hook that denies.
    const allow = await startHookServer(json({ is_allowed: true }));
    const deny = await startHookServer(json({ is_allowed: false, reason: "disposable email domain" }));
    try {
      expect((await server.call("POST", "/v1/hooks", { type: "user.pre_create", url: allow.url })).status).toBe(201);
      expect((await server.call("POST", "/v1/hooks", { type: "user.pre_create", url: deny.url, shadow: true })).status).toBe(201);
      for (const id of ["h1", "h2", "h3"]) expect((await server.call("POST", "/v1/evaluate/user.pre_create", { payload: userPayload(id) })).status).toBe(200);
      // A second subscription whose receiver is down, and a paused third, for the health overview.
      const billing = await server.call("POST", "/v1/subscriptions", { name: "billing", filter: ["user.created"], destination: { type: "webhook", url: "http://127.0.0.1:9/down" }, retry_schedule: [0, 1] });
      expect(billing.status).toBe(201);
      const audit = await server.call("POST", "/v1/subscriptions", { name: "audit-archive", filter: ["**"], destination: { type: "webhook", url: receiver.url }, format: "cloudevents", ordering: "seq" });
      expect((await server.call("POST", `/v1/subscriptions/${audit.body.id}/pause`)).status).toBe(200);
      await server.call("POST", "/v1/events", { events: ["ana", "bo", "cy"].map((u) => ({ type: "user.created", payload: userPayload(u) })) });
      await emit("user.profile.updated", { user: userPayload("ana").user });
      await until(async () => (await server.call("GET", `/v1/deliveries?subscription_id=${billing.body.id}&state=dead`)).body.data.length === 3, 15_000, "billing to give up");

      await nav(page, "Subscriptions").click();
      const card = page.getByTestId("subscription-card").filter({ hasText: "crm" });
      await card.waitFor();
      await expect.poll(() => card.getByTestId("success-rate").textContent(), { timeout: 10_000 }).toMatch(/%/);
      await shot("subscriptions");

      await nav(page, "Deliveries").click();
      await page.getByTestId("deliveries").waitFor();
      await shot("deliveries");

      await nav(page, "Events").click();
      await page.getByTestId("timeline").getByText("cy").waitFor();
      await shot("events");
      await page.getByTestId("timeline").getByRole("row").filter({ hasText: "will-fail" }).getByRole("link").click();
      await page.getByRole("heading", { name: "Renderings" }).waitFor();
      await page.getByRole("tab", { name: "CloudEvents" }).click();
      await page.getByText('"specversion": "1.0"').waitFor();
      await page.getByRole("tab", { name: "Auth0" }).click();
      await page.getByRole("tabpanel").getByText(/"type"/).first().waitFor();
      await page.getByRole("tab", { name: /Native/ }).click();
      await page.getByTestId("deliveries").getByRole("link", { name: "crm" }).first().waitFor();
      await shot("event");

      await nav(page, "Hooks").click();
      const summary = page.getByTestId("decision-summary");
      await summary.waitFor();
      await expect.poll(() => summary.textContent()).toContain("Shadow disagreed3");
      await page.getByText("disagrees").first().waitFor();
      await shot("hooks");

      await nav(page, "Catalog").click();
      await page.getByText("user.pre_create").first().click();
      await page.getByLabel("JSON Schema of user.pre_create").waitFor();
      await shot("catalog");

      // Errors in words, never a blank page: an unknown event and an unknown page.
      await page.goto(`${server.url}/#/events/no-such-event`);
      await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/No event "no-such-event"/);
      await page.goto(`${server.url}/#/nowhere`);
      await page.getByText("There is no page “nowhere”").waitFor();

      // Keyboard only: Tab to the Subscriptions link and follow it with Enter.
      await page.reload();
      await nav(page, "Events").waitFor();
      let focused = "";
      for (let i = 0; i < 8 && focused !== "Subscriptions"; i++) {
        await page.keyboard.press("Tab");
        focused = await page.evaluate<string>("document.activeElement?.textContent ?? ''");
      }
      expect(focused).toBe("Subscriptions");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Subscriptions" }).waitFor();

      // 390 px wide, in a new tab: the key was kept for the first tab only, so sign in again.
      const mobile = await context.newPage();
      await mobile.setViewportSize({ width: 390, height: 844 });
      await mobile.goto(`${server.url}/#/subscriptions/${subId}`);
      await mobile.getByLabel("API key").fill(ADMIN);
      await mobile.getByRole("button", { name: "Sign in" }).click();
      await mobile.getByRole("heading", { name: "crm" }).waitFor();
      await mobile.getByTestId("success-rate").waitFor();
      // Nothing wider than the screen: no sideways scrolling of the page itself.
      expect(await mobile.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      await shot("mobile", mobile);
      await mobile.close();
    } finally {
      await allow.close();
      await deny.close();
    }
  });
});
