/**
 * `authbus replay`: send recorded events to a subscription again (original ids and seqs), then
 * follow the subscription's backlog until the replayed deliveries are done. The server does not
 * tag replayed deliveries, so progress is measured against the backlog seen just before the
 * replay: deliveries queued by live traffic meanwhile can make it lag, never finish early by more
 * than the backlog that was already there.
 */
import { Command } from "commander";
import { createClient, type Client } from "./client.js";
import { parsePositiveInt, serverOptions } from "./options.js";
import { CliError, progressBar, type Io } from "./output.js";

const POLL_MS = 250;
/** Plain progress lines (no terminal) are printed at most this often, and at the end. */
const LINE_EVERY_MS = 1000;

interface Health {
  state: "enabled" | "paused" | "disabled";
  disabled_reason: string | null;
  backlog: number;
  consecutive_failures: number;
  last_error: string | null;
}

interface ReplayFlags {
  url: string;
  key?: string;
  subscription: string;
  fromSeq?: number;
  since?: string;
  until?: string;
}

/** RFC 3339 or UNIX seconds, as the API takes them. */
const timeArg = (flag: string, value: string): string | number => {
  if (/^\d+$/.test(value)) return Number(value);
  if (Number.isNaN(Date.parse(value))) throw new CliError(`${flag} must be an RFC 3339 time (2026-01-01T00:00:00Z) or UNIX seconds`);
  return value;
};

export function replayCommand(io: Io): Command {
  return serverOptions(
    new Command("replay")
      .description("send recorded events to a subscription again (the original ids and seqs) and follow their delivery")
      .requiredOption("--subscription <id>", "the subscription (sub_...)")
      .option("--from-seq <n>", "replay events from this seq on (inclusive)", parsePositiveInt)
      .option("--since <time>", "replay events recorded at or after this time (RFC 3339 or UNIX seconds)")
      .option("--until <time>", "with --since: stop before this time"),
  )
    .addHelpText(
      "after",
      `
Give exactly one of --from-seq and --since. Only events the subscription's filter matches are
sent. A progress bar is drawn when stdout is a terminal, plain progress lines otherwise. Ctrl-C
stops watching; the replay itself goes on on the server.

Examples:
  authbus replay --subscription sub_0192f5c4 --from-seq 1
  authbus replay --subscription sub_0192f5c4 --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z`,
    )
    .action(async (o: ReplayFlags) => {
      if ((o.fromSeq === undefined) === (o.since === undefined)) throw new CliError("give exactly one of --from-seq and --since");
      if (o.until !== undefined && o.since === undefined) throw new CliError("--until goes with --since");
      const client = createClient(o);
      const id = encodeURIComponent(o.subscription);
      const body: Record<string, unknown> = o.fromSeq !== undefined ? { from_seq: o.fromSeq } : { since: timeArg("--since", o.since!) };
      if (o.until !== undefined) body.until = timeArg("--until", o.until);

      const before = await client.call<Health>("GET", `/v1/subscriptions/${id}/health`);
      const { queued } = await client.call<{ queued: number }>("POST", `/v1/subscriptions/${id}/replay`, body);
      if (queued === 0) {
        io.out(`Nothing to replay: no recorded event in that range matches subscription ${o.subscription}`);
        return;
      }
      await follow(io, client, id, queued, before.backlog);
      io.out(`Replayed ${queued} event${queued === 1 ? "" : "s"} to subscription ${o.subscription}`);
    });
}

async function follow(io: Io, client: Client, id: string, queued: number, baseline: number): Promise<void> {
  let lastLine = 0;
  let lastDone = -1;
  for (;;) {
    const h = await client.call<Health>("GET", `/v1/subscriptions/${id}/health`);
    const remaining = Math.min(queued, Math.max(0, h.backlog - baseline));
    const done = queued - remaining;
    const failing = h.consecutive_failures > 0 && h.last_error ? `  retrying: ${h.last_error.slice(0, 60)}` : "";
    if (io.tty) {
      io.write(`\r${progressBar(done, queued)}${failing}\u001b[K`);
      if (remaining === 0) io.write("\n");
    } else if (remaining === 0 || (done !== lastDone && Date.now() - lastLine >= LINE_EVERY_MS)) {
      io.out(`replay: ${done}/${queued} done${failing}`);
      lastLine = Date.now();
      lastDone = done;
    }
    if (remaining === 0) return;
    // Paused or disabled, the replayed deliveries wait: say so instead of watching a still bar.
    if (h.state !== "enabled") {
      if (io.tty) io.write("\n");
      throw new CliError(`subscription is ${h.state}${h.disabled_reason ? ` (${h.disabled_reason})` : ""}: ${remaining} replayed deliveries wait until it is resumed`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
