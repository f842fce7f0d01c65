/** vitest globalSetup: the dashboard is built (when missing or stale) before any test asks the server for `/`. */
import { ensureDashboardBuilt } from "./build.js";

export default function setup(): void {
  ensureDashboardBuilt();
}
