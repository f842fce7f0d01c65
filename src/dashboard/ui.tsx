/** Small shared pieces: errors in words, loading states, times, JSON, state badges, the chart. */
import { Component, useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { describeError } from "./api.js";
import type { Bucket } from "./api.js";

export function ErrorText({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p className="error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Loads data on mount and when `deps` change; `reload()` refetches. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ac.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Runs `f` every `ms` while mounted. */
export function useInterval(f: () => void, ms: number | null): void {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    if (ms === null) return;
    const t = window.setInterval(() => ref.current(), ms);
    return () => window.clearInterval(t);
  }, [ms]);
}

export function Time({ value }: { value: string | number | null | undefined }) {
  if (value === null || value === undefined) return <span className="muted">never</span>;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()}>
      {d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" })}
    </time>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label ?? "JSON"}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Badge({ state }: { state: string }) {
  return <span className={`badge badge-${state}`}>{state}</span>;
}

export function statusClass(code: number | null): string {
  if (code === null) return "badge-dead";
  return code >= 200 && code < 300 ? "badge-delivered" : "badge-dead";
}

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? "n/a" : `${(x * 100).toFixed(x === 1 ? 0 : 1)}%`);
export const ms = (x: number | null | undefined): string => (x === null || x === undefined ? "n/a" : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
export const duration = (seconds: number): string =>
  seconds < 60 ? `${seconds} s` : seconds < 3600 ? `${Math.round(seconds / 60)} min` : seconds < 86_400 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 86_400).toFixed(1)} d`;

/** Deliveries per bucket as bars (green succeeded, red failed) and average latency as a line. */
export function DeliveryChart({ buckets, label }: { buckets: Bucket[]; label: string }) {
  const W = 240;
  const H = 48;
  const n = buckets.length || 1;
  const bw = W / n;
  const maxCount = Math.max(1, ...buckets.map((b) => b.attempts));
  const lat = buckets.map((b) => b.avg_latency_ms);
  const maxLat = Math.max(1, ...lat.map((x) => x ?? 0));
  const points = lat.map((x, i) => (x === null ? null : `${(i + 0.5) * bw},${H - (x / maxLat) * (H - 4) - 2}`)).filter((p): p is string => p !== null);
  const total = buckets.reduce((s, b) => s + b.attempts, 0);
  const failed = buckets.reduce((s, b) => s + b.failed, 0);
  const minutes = buckets.length > 1 ? Math.round((Date.parse(buckets[buckets.length - 1]!.start) - Date.parse(buckets[0]!.start)) / 60_000 + 1) : 60;
  return (
    <figure className="chart-box">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${label}: ${total} attempts, ${failed} failed, max ${maxCount} per bucket; average latency up to ${Math.round(maxLat)} ms`}>
        <rect x="0" y="0" width={W} height={H} className="chart-bg" />
        {buckets.map((b, i) => {
          const hOk = (b.succeeded / maxCount) * (H - 2);
          const hFail = (b.failed / maxCount) * (H - 2);
          return (
            <g key={i}>
              {hOk > 0 && <rect x={i * bw + 0.5} y={H - hOk} width={Math.max(1, bw - 1)} height={hOk} className="bar-ok" />}
              {hFail > 0 && <rect x={i * bw + 0.5} y={H - hOk - hFail} width={Math.max(1, bw - 1)} height={hFail} className="bar-fail" />}
            </g>
          );
        })}
        {points.length > 1 && <polyline points={points.join(" ")} className="latency" vectorEffect="non-scaling-stroke" />}
      </svg>
      <figcaption className="chart-caption">
        <span>−{minutes} min</span>
        <span>now</span>
        <span className="legend">
          <i className="key key-ok" /> delivered <i className="key key-fail" /> failed <i className="key key-lat" /> latency (max {Math.round(maxLat)} ms)
        </span>
      </figcaption>
    </figure>
  );
}

/** Never a blank page: a render error becomes a message with a way back. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error !== undefined) this.setState({ error: undefined });
  }
  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <section className="panel" role="alert">
        <h2>This page failed to show</h2>
        <p>{this.state.error instanceof Error ? this.state.error.message : String(this.state.error)}</p>
        <p>
          <a href="#/events">Back to events</a> or{" "}
          <button type="button" onClick={() => window.location.reload()}>
            reload
          </button>
          .
        </p>
      </section>
    );
  }
}
