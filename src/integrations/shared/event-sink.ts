/**
 * Records integration events without ever breaking the auth flow (SPEC §7): each event gets its
 * id up front, so a retry after a store failure records it once; the flow waits at most
 * `emitTimeoutMs` for durability and then goes on while the write (or its retries) finishes.
 */
import { uuidv7 } from "../../core/ids.js";
import { AuthbusError } from "../../index.js";
import type { Authbus, ContextInput, NonBlockingEventType, PayloadOf } from "../../index.js";

export interface IntegrationErrorInfo {
  /** What failed: `emit` (recording an event), `hook` (running blocking hooks) or `lookup` (reading the library's data). */
  operation: "emit" | "hook" | "lookup";
  /** The event or hook type concerned. */
  type?: string;
  /** The event id (the same on every retry). */
  eventId?: string;
  /** 1 for the first try. */
  attempt?: number;
  /** Whether another attempt is scheduled. */
  willRetry?: boolean;
}

export type IntegrationErrorHandler = (error: unknown, info: IntegrationErrorInfo) => void;

export interface EventSinkOptions {
  /** Told about every Authbus failure; the default logs to console.error. It must not throw. */
  onError?: IntegrationErrorHandler;
  /** How long the auth flow waits for an event to be durable before going on. Default 2000 ms. */
  emitTimeoutMs?: number;
  /** Delays between retries of an event whose store write failed. Default 1 s, 5 s, 30 s, 2 min, 10 min. */
  retryDelaysMs?: readonly number[];
}

export interface EventSink {
  /** Records the event; resolves when it is durable, failed, or the wait timed out. Never rejects. */
  record<T extends NonBlockingEventType>(type: T, payload: PayloadOf<T>, context?: ContextInput): Promise<void>;
  /** Reports a failure that is not an emit (a hook error, a lookup). */
  report(error: unknown, info: IntegrationErrorInfo): void;
}

const DEFAULT_DELAYS = [1_000, 5_000, 30_000, 120_000, 600_000] as const;

export const defaultIntegrationErrorHandler: IntegrationErrorHandler = (error, info) => {
  const what = info.operation === "emit" ? `recording ${info.type} (event ${info.eventId}, attempt ${info.attempt}${info.willRetry ? ", will retry" : ", giving up"})` : `${info.operation} ${info.type ?? ""}`;
  console.error(`[authbus] ${what} failed:`, error);
};

/** Only store failures and unknown errors can heal; a bad payload or a closed bus never will. */
function retryable(error: unknown): boolean {
  return !(error instanceof AuthbusError) || error.code === "store_failed";
}

export function createEventSink(bus: Authbus, options: EventSinkOptions = {}): EventSink {
  const onError = options.onError ?? defaultIntegrationErrorHandler;
  const delays = options.retryDelaysMs ?? DEFAULT_DELAYS;
  const timeoutMs = options.emitTimeoutMs ?? 2_000;

  const report = (error: unknown, info: IntegrationErrorInfo) => {
    try {
      onError(error, info);
    } catch {
      // A throwing error handler must not turn a logged failure into a failed sign-in.
    }
  };

  const attempt = (type: string, payload: unknown, context: ContextInput | undefined, id: string, n: number): Promise<void> => {
    let emitted: Promise<unknown>;
    try {
      emitted = bus.emit(type as NonBlockingEventType, payload as never, context, { id });
    } catch (e) {
      emitted = Promise.reject(e);
    }
    return emitted.then(
      () => undefined,
      (error: unknown) => {
        const willRetry = retryable(error) && n < delays.length;
        report(error, { operation: "emit", type, eventId: id, attempt: n + 1, willRetry });
        if (willRetry) {
          const timer = setTimeout(() => void attempt(type, payload, context, id, n + 1), delays[n]);
          timer.unref?.();
        }
      },
    );
  };

  return {
    async record(type, payload, context) {
      const done = attempt(type, payload, context, uuidv7(), 0);
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref?.();
      });
      await Promise.race([done, waited]);
      clearTimeout(timer);
    },
    report,
  };
}
