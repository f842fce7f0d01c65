/**
 * HTTP hooks registered through the server (`/v1/hooks`): kept in the database so they survive
 * restarts, and loaded into the app's hook chain (after the constructor's hooks) when the app is
 * opened. In-process hooks cannot be stored, so the library's `bus.hooks` stays in memory.
 * Several processes may serve one database: each re-reads the stored hooks every `syncMs`, so a
 * hook registered or deleted through one process is enforced by the others within that time.
 */
import { uuidv7 } from "../core/ids.js";
import { isBlockingType, type BlockingEventType } from "../core/catalog/catalog.js";
import { InvalidHookError, InvalidQueryError, NotFoundError } from "../core/errors.js";
import type { Page } from "../core/ports/deliveries.js";
import type { StoredHook, TenancyStore } from "../core/ports/tenancy.js";
import { generateSecret } from "../core/signing/standard-webhooks.js";
import type { HooksApi } from "./hook-service.js";

export interface StoredHookInput {
  type: string;
  url: string;
  timeout_ms?: number;
  fail_open?: boolean;
  shadow?: boolean;
}

export interface StoredHooksApi {
  /** Resolves once the stored hooks are in the chain; `before()` waits for it. */
  readonly loaded: Promise<void>;
  create(input: StoredHookInput): Promise<StoredHook & { secret: string }>;
  list(opts?: { cursor?: string; limit?: number }): Promise<Page<StoredHook>>;
  delete(id: string): Promise<void>;
  /** Stops re-reading the stored hooks (the app is closing). */
  stop(): void;
}

export interface StoredHooksDeps {
  app: string;
  tenancy: TenancyStore;
  hooks: HooksApi;
  now: () => number;
  onError: (error: unknown) => void;
  /** How often hooks registered through other processes are picked up; default 2,000 ms. */
  syncMs?: number;
}

export function createStoredHooksApi(d: StoredHooksDeps): StoredHooksApi {
  const register = (h: StoredHook & { secret: string }) => {
    const options = { name: h.id, failOpen: h.fail_open, shadow: h.shadow, ...(h.timeout_ms !== null ? { timeoutMs: h.timeout_ms } : {}) };
    try {
      d.hooks.add(h.type as BlockingEventType, { url: h.url, secret: h.secret }, options);
    } catch (e) {
      // A stored hook that no longer registers (e.g. a loopback URL after the SSRF guard came back
      // on) must not vanish from the chain: that would let every operation through. It stays, and
      // fails like an unreachable hook would: closed unless it was registered fail_open.
      d.onError(e);
      const why = (e as Error).message;
      d.hooks.add(h.type as BlockingEventType, () => Promise.reject(new Error(`stored hook ${h.id} could not be loaded: ${why}`)), options);
    }
  };
  /** Ids of the stored hooks in this process's chain. */
  const registered = new Set<string>();
  // create, delete and sync run one at a time: a sync reading the table before a create's insert
  // must not remove the hook that create just added.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const sync = () =>
    serial(async () => {
      const rows = await d.tenancy.allHooks(d.app);
      const ids = new Set(rows.map((r) => r.id));
      for (const id of registered) {
        if (ids.has(id)) continue;
        d.hooks.remove(id);
        registered.delete(id);
      }
      for (const r of rows) {
        if (registered.has(r.id)) continue;
        register(r);
        registered.add(r.id);
      }
    }).catch((e: unknown) => d.onError(e));
  const loaded = sync();
  let stopped = false;
  const timer = setInterval(() => {
    if (!stopped) void sync();
  }, d.syncMs ?? 2000);
  timer.unref?.();

  return {
    loaded,
    create: (input) => serial(async () => {
      if (!isBlockingType(input.type)) throw new InvalidHookError(`Cannot register a hook for ${JSON.stringify(input.type)}: it is not a blocking type`);
      const id = `hook_${uuidv7().replace(/-/g, "")}`;
      const secret = generateSecret();
      const hook: StoredHook = {
        id,
        app_id: d.app,
        type: input.type,
        url: input.url,
        timeout_ms: input.timeout_ms ?? null,
        fail_open: input.fail_open === true,
        shadow: input.shadow === true,
        created_at: new Date(d.now()).toISOString(),
      };
      // Registering first validates the URL and options; only a hook that runs is stored.
      const options = { name: id, failOpen: hook.fail_open, shadow: hook.shadow, ...(hook.timeout_ms !== null ? { timeoutMs: hook.timeout_ms } : {}) };
      d.hooks.add(input.type, { url: input.url, secret }, options);
      const normalized = d.hooks.list(input.type).find((h) => h.id === id);
      const stored = { ...hook, url: normalized?.url ?? hook.url };
      try {
        await d.tenancy.insertHook(stored, secret);
      } catch (e) {
        d.hooks.remove(id);
        throw e;
      }
      registered.add(id);
      return { ...stored, secret };
    }),
    async list(opts = {}) {
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
      return d.tenancy.listHooks(d.app, { cursor: opts.cursor, limit });
    },
    delete: (id) => serial(async () => {
      if (!(await d.tenancy.deleteHook(d.app, id))) throw new NotFoundError("hook", id);
      if (registered.delete(id)) d.hooks.remove(id);
    }),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
