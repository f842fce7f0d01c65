/**
 * Worker-thread entry of the SQLite writer. better-sqlite3 is synchronous: a commit with
 * synchronous=FULL blocks its thread for the fsync. Here it blocks this thread, not the event loop
 * that serves requests, and the main thread validates the next batch meanwhile.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createWriter, type FromWriter, type ToWriter, type WriterInit } from "./writer-core.js";

const port = parentPort!;
const handle = createWriter(workerData as WriterInit, (m: FromWriter) => {
  port.postMessage(m);
  if (m.kind === "closed" || m.kind === "fatal") port.close();
});
port.on("message", (m: ToWriter) => handle(m));
