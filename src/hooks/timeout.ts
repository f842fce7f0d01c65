import { HookFailedError } from "../core/errors.js";
import type { InvokeLimit } from "../core/hooks/chain.js";

/**
 * Runs `run` with a deadline. On expiry the promise rejects at once and the signal is aborted:
 * a hook that ignores its signal keeps running in the background, but the chain never waits
 * for it (JavaScript cannot stop a function; only a busy loop that never yields escapes this).
 * The AbortController is created only when `signal()` is called: it costs more than the rest of
 * an in-process call, and most hooks never look at it.
 */
export function withDeadline<T>(limit: InvokeLimit, run: (signal: () => AbortSignal) => T | Promise<T>): Promise<T> {
  let controller: AbortController | undefined;
  let expired: HookFailedError | undefined;
  const signal = () => {
    if (!controller) {
      controller = new AbortController();
      if (expired) controller.abort(expired);
    }
    return controller.signal;
  };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      expired = limit.byBudget
        ? new HookFailedError("budget_exhausted", `cut after ${limit.timeoutMs} ms: the chain budget ran out`)
        : new HookFailedError("timeout", `no answer within ${limit.timeoutMs} ms`);
      controller?.abort(expired);
      reject(expired);
    }, limit.timeoutMs);
    let result: T | Promise<T>;
    try {
      result = run(signal);
    } catch (e) {
      clearTimeout(timer);
      reject(e);
      return;
    }
    Promise.resolve(result).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
