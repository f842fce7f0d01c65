import pg from "pg";
import { EVENTS_CHANNEL } from "./append.js";

export interface NotifierOptions {
  config: pg.ClientConfig;
  schema: string;
  /** A notification for this schema: `app` reached `seq` (in any process, ours included). */
  onAppended: (app: string, seq: number) => void;
  /** (Re)connected: notifications sent while we were away are lost, so catch up by reading the heads. */
  onConnected: () => void;
  onError: (e: Error) => void;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * A dedicated connection that LISTENs on the events channel, so appends committed by other
 * processes (and by callers' own transactions, fromPg) wake this process's readers within
 * milliseconds. It reconnects with backoff; readers also poll, so a gap only delays them.
 */
export class Notifier {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoff = 100;
  private stopped = false;

  constructor(private readonly o: NotifierOptions) {}

  start(): void {
    if (this.client || this.timer || this.stopped) return;
    void this.connect();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    const client = new pg.Client(this.o.config);
    this.client = client;
    client.on("error", (e) => this.lost(client, e));
    client.on("end", () => this.lost(client));
    client.on("notification", (n) => {
      if (n.channel !== EVENTS_CHANNEL || !n.payload) return;
      let msg: { schema?: unknown; app_id?: unknown; seq?: unknown };
      try {
        msg = JSON.parse(n.payload);
      } catch {
        return; // not ours: someone else uses the channel name
      }
      if (msg.schema === this.o.schema && typeof msg.app_id === "string" && typeof msg.seq === "number") this.o.onAppended(msg.app_id, msg.seq);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (e) {
      this.lost(client, e as Error);
      return;
    }
    if (this.client !== client) return;
    this.backoff = 100;
    this.o.onConnected();
  }

  private lost(client: pg.Client, e?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (e) this.o.onError(e);
    this.timer = setTimeout(() => void this.connect(), this.backoff);
    this.timer.unref?.();
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
  }
}
