/**
 * Structured JSON logs (pino). Each request gets an id, the caller's `x-request-id` when it is a
 * sane token, else a new UUID; it is echoed in the response and in problem bodies so a client's
 * report can be found in the logs.
 */
import { pino, type Logger, type LoggerOptions } from "pino";
import { uuidv7 } from "../core/ids.js";

export type { Logger };

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? "info",
    base: { service: "authbus" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Keys never reach the log, even if a handler logs a request's headers.
    redact: { paths: ["req.headers.authorization", "*.authorization", "key", "secret"], censor: "[redacted]" },
  };
  return options.destination ? pino(config, options.destination as pino.DestinationStream) : pino(config);
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(header: string | undefined): string {
  return header !== undefined && SAFE_ID.test(header) ? header : uuidv7();
}
