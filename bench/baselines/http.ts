/**
 * What every baseline shares: the jobs (one recorded event each), a keep-alive undici pool to the
 * receiver, and the per-attempt signing a queue-built webhook sender does (Standard Webhooks, the
 * same headers Authbus sends).
 */
import { Pool, type Dispatcher } from "undici";
import { signStandardWebhook } from "../../src/core/signing/standard-webhooks.js";

/** One delivery to make: the event id (the `webhook-id`) and the exact body to POST. */
export interface DeliveryJob {
  id: string;
  body: string;
}

export interface Poster {
  /** POSTs; resolves on 2xx, throws otherwise (so a queue retries it). */
  post(headers: Record<string, string>, body: string): Promise<void>;
  close(): Promise<void>;
}

export function createPoster(url: string, connections: number): Poster {
  const u = new URL(url);
  const pool: Dispatcher = new Pool(u.origin, { connections, keepAliveTimeout: 30_000 });
  return {
    async post(headers, body) {
      const res = await pool.request({ path: u.pathname, method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`HTTP ${res.statusCode}`);
    },
    close: () => pool.close(),
  };
}

/** Signs at attempt time, as Authbus does (`webhook-timestamp` is per attempt). */
export function signedHeaders(secret: string, userAgent: string, job: DeliveryJob): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    "content-type": "application/json",
    "user-agent": userAgent,
    "webhook-id": job.id,
    "webhook-timestamp": String(ts),
    "webhook-signature": signStandardWebhook(secret, job.id, ts, job.body),
  };
}
