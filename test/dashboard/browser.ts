/** The browser for the dashboard tests: Debian's chromium driven by playwright-core. */
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.AUTHBUS_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. Under CI a missing browser is a failure, not a skip. */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  const why = `chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set AUTHBUS_CHROMIUM)`;
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(`${why}: the dashboard tests must run under CI`);
  return why;
}

export function launchBrowser(): Promise<Browser> {
  // Root in a container cannot use chromium's sandbox.
  const args = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}
