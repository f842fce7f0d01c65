/**
 * Baseline (a), the machine's limit: the same pre-built, pre-signed requests POSTed to the same
 * receiver by `inFlight` loops over one undici pool. No store, no signing in the loop, no retries.
 */
import { createPoster } from "./http.js";

export async function rawUndici(url: string, requests: { body: string; headers: Record<string, string> }[], inFlight: number): Promise<void> {
  const poster = createPoster(url, inFlight);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        await poster.post(r.headers, r.body);
      }
    }),
  );
  await poster.close();
}
