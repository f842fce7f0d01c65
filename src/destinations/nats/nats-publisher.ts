/**
 * The NATS JetStream destination: one connection per runtime, opened on first use, and one awaited
 * PubAck per delivery. It never throws: every failure becomes an `error` string, so the delivery
 * follows the subscription's retry schedule exactly like a failed webhook.
 *
 * The client reconnects forever (`maxReconnectAttempts: -1`): during an outage publishes time out
 * and are retried later; a publish whose PubAck was lost may still have been stored, and its retry
 * carries the same `Nats-Msg-Id`, which JetStream drops as a duplicate.
 */
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsMessage } from "../../core/delivery/nats-message.js";
import type { WebhookSendResult } from "../../core/ports/destinations.js";

export interface NatsPublisherOptions {
  /** One URL or a comma-separated list (`nats://a:4222,nats://b:4222`). Credentials may be in the URL. */
  url: string;
  /** How long to wait for a PubAck (and for the first connect). Default 5000. */
  timeoutMs?: number | undefined;
  /** Connection-level trouble (disconnects, failed connects): logged, never thrown. */
  onError?: ((error: unknown) => void) | undefined;
}

export interface NatsPublisher {
  /** Publishes and awaits the PubAck; `error` is set on any failure. */
  publish(message: NatsMessage): Promise<WebhookSendResult>;
  /** Drains the connection (pending publishes are flushed) and closes it. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** After a failed connect, publishes fail fast for this long instead of each dialling again. */
const CONNECT_RETRY_MS = 1000;

export function createNatsPublisher(o: NatsPublisherOptions): NatsPublisher {
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const servers = o.url.split(",").map((s) => s.trim()).filter(Boolean);
  let conn: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  let failedAt = 0;
  let lastConnectError = "";
  let closed = false;

  const open = (): Promise<{ nc: NatsConnection; js: JetStreamClient }> => {
    conn ??= (async () => {
      const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout, name: "authbus" });
      void watch(nc);
      return { nc, js: jetstream(nc, { timeout }) };
    })();
    return conn;
  };

  const watch = async (nc: NatsConnection): Promise<void> => {
    try {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") o.onError?.(new Error(`NATS connection to ${s.server} lost; reconnecting`));
        else if (s.type === "error") o.onError?.(s.error);
      }
    } catch (e) {
      o.onError?.(e);
    }
    // The client gives up only when closed (by us, or on a fatal error such as bad credentials):
    // forget the connection so the next publish dials a new one.
    const err = await nc.closed();
    if (err) o.onError?.(err);
    if (!closed) conn = undefined;
  };

  return {
    async publish(m) {
      const started = Date.now();
      const fail = (error: string): WebhookSendResult => ({ latencyMs: Date.now() - started, error });
      if (closed) return fail("the NATS publisher is closed");
      if (!conn && Date.now() - failedAt < CONNECT_RETRY_MS) return fail(`cannot connect to NATS: ${lastConnectError}`);
      let js: JetStreamClient;
      try {
        js = (await open()).js;
      } catch (e) {
        conn = undefined;
        failedAt = Date.now();
        lastConnectError = message(e);
        o.onError?.(e);
        return fail(`cannot connect to NATS: ${lastConnectError}`);
      }
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      try {
        const ack = await js.publish(m.subject, m.body, { headers: h, timeout });
        const where = `stream ${ack.stream} seq ${ack.seq}`;
        return { latencyMs: Date.now() - started, responseHead: ack.duplicate ? `duplicate: already in ${where} (Nats-Msg-Id seen within the duplicate window)` : where };
      } catch (e) {
        return fail(describe(e, m.subject, timeout));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      const c = conn;
      conn = undefined;
      if (!c) return;
      try {
        await (await c).nc.drain();
      } catch {
        // never connected, or already closed: nothing to flush
      }
    },
  };
}

function describe(e: unknown, subject: string, timeoutMs: number): string {
  const name = e instanceof Error ? e.name : "";
  // A JetStream publish is a request to the subject; with no stream listening on it nobody
  // answers, which the client reports as "JetStream not enabled".
  if (name === "JetStreamNotEnabled" || name === "NoRespondersError") return `no stream matches subject ${subject} (or JetStream is not enabled on the server)`;
  if (name === "TimeoutError") return `no PubAck within ${timeoutMs} ms (NATS unreachable or the stream is slow)`;
  return message(e);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
