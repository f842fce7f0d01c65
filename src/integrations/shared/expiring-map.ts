/**
 * Correlation between the separate calls one sign-in makes (adapter, callbacks, events): entries
 * keyed by user id, e-mail or session token that expire on their own, so an abandoned flow
 * neither leaks memory nor keeps the process alive.
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; timer: NodeJS.Timeout }>();
  constructor(
    private readonly ttlMs: number,
    private readonly onExpire?: (key: K, value: V) => void,
  ) {}

  set(key: K, value: V): void {
    this.delete(key);
    const timer = setTimeout(() => {
      this.entries.delete(key);
      this.onExpire?.(key, value);
    }, this.ttlMs);
    timer.unref?.();
    this.entries.set(key, { value, timer });
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Removes and returns the entry (its expiry callback will not run). */
  take(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.delete(key);
    return entry.value;
  }

  /** The most recently set entry, if any. */
  latest(): [K, V] | undefined {
    let last: [K, V] | undefined;
    for (const [k, e] of this.entries) last = [k, e.value];
    return last;
  }

  private delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry) clearTimeout(entry.timer);
    this.entries.delete(key);
  }
}
