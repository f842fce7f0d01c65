/**
 * `npm run bench`: runs every benchmark on this machine and writes bench/RESULTS.md with the
 * machine, the command and the date. Baselines are measured in the same run, so ratios are
 * meaningful on noisy machines even when absolute figures are not.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machine } from "./lib.js";
import { runEmitBenchmark } from "./emit-throughput.js";

interface Section {
  title: string;
  run: () => Promise<{ markdown: string }>;
  notes?: string;
}

const sections: Section[] = [
  {
    title: "Durable emit throughput (issue 2)",
    run: () => runEmitBenchmark(Number(process.env.BENCH_MS ?? 5000)),
    notes:
      "SQLite file, WAL, `synchronous=FULL` for every row. Each emitter awaits its emit (durable) before the next. " +
      "The naive baseline inserts the same rows into the same schema with one autocommit transaction (one fsync) per event. " +
      "Before each row the bench waits (at most 15 s) until the CPUs are at least 85% idle.",
  },
];

const optional: { file: string; fn: string; title: string }[] = [
  { file: "./hooks.js", fn: "runHooksBenchmark", title: "Blocking hooks overhead (issue 3)" },
  { file: "./delivery.js", fn: "runDeliveryBenchmark", title: "Webhook delivery (issue 4)" },
  { file: "./server.js", fn: "runServerBenchmark", title: "HTTP ingest vs library emit (issue 5)" },
  { file: "./nats.js", fn: "runNatsBenchmark", title: "JetStream publish (issue 6)" },
  { file: "./pg-ingest.js", fn: "runPgIngestBenchmark", title: "PostgreSQL durable ingest vs pg-boss (issue 6)" },
];

const out: string[] = [
  "# Benchmark results",
  "",
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${machine()}`,
  "- Command: `npm run bench`",
  "",
];
for (const s of sections) {
  console.error(`running: ${s.title}`);
  const { markdown } = await s.run();
  out.push(`## ${s.title}`, "", ...(s.notes ? [s.notes, ""] : []), markdown, "");
}
for (const o of optional) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (!fs.existsSync(path.join(here, o.file.replace(/\.js$/, ".ts")))) continue;
  console.error(`running: ${o.title}`);
  const mod = (await import(o.file)) as Record<string, () => Promise<{ markdown: string }>>;
  const { markdown } = await mod[o.fn]!();
  out.push(`## ${o.title}`, "", markdown, "");
}
const target = path.join(path.dirname(fileURLToPath(import.meta.url)), "RESULTS.md");
const body = out.join("\n");
// Analysis written by hand lives below the marker and survives re-runs.
const old = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
const marker = old.indexOf("<!-- notes -->");
fs.writeFileSync(target, marker >= 0 ? `${body}\n${old.slice(marker)}` : body);
console.log(body);
