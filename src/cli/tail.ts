/**
 * `authbus tail`: the log as it grows, one line per event, from the server's SSE stream. The
 * stream is a read of the log, so after a server restart tail resumes with Last-Event-ID and
 * misses nothing.
 */
import { Command } from "commander";
import { ApiError, createClient } from "./client.js";
import { collectPatterns, serverOptions } from "./options.js";
import { CliError, type Io } from "./output.js";

/** How long tail keeps trying to reconnect after the server went away (a restart takes a few seconds). */
const RECONNECT_FOR_MS = 30_000;

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Splits a growing text/event-stream into messages; keep-alive comments are dropped. */
export function createSseParser(onMessage: (m: SseMessage) => void): (chunk: string) => void {
  let buffer = "";
  // A CR at the end of a chunk may be the first half of a CRLF: it waits for the next chunk.
  let carry = "";
  return (chunk) => {
    let text = carry + chunk;
    carry = text.endsWith("\r") ? "\r" : "";
    if (carry) text = text.slice(0, -1);
    buffer += text.replace(/\r\n?/g, "\n");
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const m: SseMessage = { data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") m.id = value;
        else if (field === "event") m.event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length === 0) continue;
      m.data = data.join("\n");
      onMessage(m);
    }
  };
}

interface EnvelopeLine {
  id: string;
  seq: number;
  type: string;
  context?: { timestamp?: number; user_id?: string };
}

export function formatEvent(e: EnvelopeLine): string {
  const at = typeof e.context?.timestamp === "number" ? new Date(e.context.timestamp * 1000).toISOString() : "-";
  return `${at}  ${String(e.seq).padStart(6)}  ${e.type}  ${e.id}${e.context?.user_id ? `  user=${e.context.user_id}` : ""}`;
}

export function tailCommand(io: Io): Command {
  return serverOptions(
    new Command("tail")
      .description("print events as they are recorded, one line each (time, seq, type, id, user)")
      .option("--filter <pattern>", "type pattern: exact, user.* (one segment), authentication.** (any depth); repeat or comma-separate for several", collectPatterns)
      .option("--after-seq <seq>", "start after this seq instead of at the current end of the log")
      .option("--json", "print each event's full envelope as one JSON line"),
  )
    .addHelpText("after", "\nExamples:\n  authbus tail\n  authbus tail --filter 'authentication.**' --filter user.created\n  authbus tail --json | jq .payload")
    .action(async (o: { url: string; key?: string; filter?: string[]; afterSeq?: string; json?: boolean }) => {
      if (o.afterSeq !== undefined && !/^\d+$/.test(o.afterSeq)) throw new CliError("--after-seq must be a seq (a non-negative integer)");
      const client = createClient(o);
      const query = new URLSearchParams();
      if (o.filter?.length) query.set("filter", o.filter.join(","));
      if (o.afterSeq !== undefined) query.set("after_seq", o.afterSeq);
      const path = `/v1/events/stream${query.size > 0 ? `?${query}` : ""}`;

      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let lastSeq: string | undefined;
      const parse = createSseParser((m) => {
        if (m.id !== undefined) lastSeq = m.id;
        if (o.json) return io.out(m.data);
        try {
          io.out(formatEvent(JSON.parse(m.data) as EnvelopeLine));
        } catch {
          io.out(m.data);
        }
      });
      try {
        let lostAt: number | undefined;
        let connected = false;
        while (!stop.signal.aborted) {
          let body;
          try {
            body = await client.stream(path, lastSeq !== undefined ? { "last-event-id": lastSeq } : {}, stop.signal);
          } catch (e) {
            // The first connection, a refused key or a bad filter fail at once; a server that went away is waited for.
            if (stop.signal.aborted) break;
            if (lostAt === undefined || e instanceof ApiError || Date.now() - lostAt > RECONNECT_FOR_MS) throw e;
            await new Promise((r) => setTimeout(r, 500));
            continue;
          }
          if (!connected) io.err(`Tailing ${o.filter?.length ? o.filter.join(", ") : "all"} events from ${client.baseUrl} (^C to quit)`);
          connected = true;
          lostAt = undefined;
          const decoder = new TextDecoder();
          try {
            for await (const chunk of body) parse(decoder.decode(chunk as Buffer, { stream: true }));
          } catch {
            // Ctrl-C aborts the read; otherwise the connection dropped and is reopened below.
            if (stop.signal.aborted) break;
          }
          if (stop.signal.aborted) break;
          lostAt = Date.now();
          io.err("stream ended; reconnecting...");
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
