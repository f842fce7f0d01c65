/**
 * Server-sent events over fetch: EventSource cannot send an Authorization header, and the key
 * must not go into a URL (logs, history). Reconnects with Last-Event-ID, so nothing is missed.
 */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Splits a text stream into messages (the WHATWG rules: fields per line, a blank line ends a message). */
export function createSseParser(onMessage: (m: SseMessage) => void): (chunk: string) => void {
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) onMessage({ id, event: event || "message", data: data.join("\n") });
        data = [];
        event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    }
  };
}

export type StreamStatus = "connecting" | "live" | "retrying" | "stopped";

/** Follows `url` until `signal` aborts; `onError` gets failures that stop it (a refused key). */
export function followStream(
  url: string,
  key: string,
  opts: { lastEventId?: string; signal: AbortSignal; onMessage: (m: SseMessage) => void; onStatus: (s: StreamStatus, detail?: string) => void },
): void {
  let last = opts.lastEventId;
  let delay = 500;
  const run = async (): Promise<void> => {
    while (!opts.signal.aborted) {
      opts.onStatus("connecting");
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: "text/event-stream" };
        if (last !== undefined) headers["last-event-id"] = last;
        const res = await fetch(url, { headers, signal: opts.signal, cache: "no-store" });
        if (res.status === 401 || res.status === 403 || res.status === 400) {
          const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
          opts.onStatus("stopped", p.detail ?? p.title ?? `HTTP ${res.status}`);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        opts.onStatus("live");
        delay = 500;
        const parse = createSseParser((m) => {
          if (m.id !== undefined) last = m.id;
          opts.onMessage(m);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parse(value);
        }
      } catch (e) {
        if (opts.signal.aborted) return;
        opts.onStatus("retrying", e instanceof Error ? e.message : String(e));
      }
      if (opts.signal.aborted) return;
      opts.onStatus("retrying");
      await new Promise((r) => window.setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
}
