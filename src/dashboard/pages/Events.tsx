/**
 * The live timeline: recent events matching the filters, then every new one as it is recorded
 * (the SSE stream, resumed from the last seq shown so nothing falls between the two).
 */
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { allPages, qs, storedKey, type Envelope } from "../api.js";
import { followStream, type StreamStatus } from "../sse.js";
import { navigate } from "../router.js";
import { ErrorText, Loading, Time } from "../ui.js";

const SHOWN = 200;
const MAX_READ = 5000;
/** Without a start time: the last 5 minutes, widened to an hour, then a day, until SHOWN events are found. */
const WINDOWS = [300, 3600, 86_400];

interface Filters {
  type: string;
  user_id: string;
  since: string;
  until: string;
}

/** `datetime-local` values are local wall-clock times; the API takes UNIX seconds. */
const toUnix = (local: string): string => (local ? String(Math.floor(new Date(local).getTime() / 1000)) : "");

/** The log pages oldest first: read a window that holds the newest events without reading the whole day. */
async function recentEvents(filters: Filters, signal: AbortSignal): Promise<{ data: Envelope[]; truncated: boolean }> {
  const read = (since: string) => allPages<Envelope>(`/v1/events${qs({ type: filters.type, user_id: filters.user_id, since, until: toUnix(filters.until) })}`, MAX_READ, signal);
  if (filters.since) return read(toUnix(filters.since));
  let best: { data: Envelope[]; truncated: boolean } | undefined;
  for (const w of WINDOWS) {
    const r = await read(String(Math.floor(Date.now() / 1000) - w));
    // Too many in a wider window: the narrower one already holds the newest.
    if (r.truncated && best) return best;
    best = r;
    if (r.data.length >= SHOWN || r.truncated) return r;
  }
  return best!;
}

export function EventsPage({ query }: { query: URLSearchParams }) {
  const filters: Filters = { type: query.get("type") ?? "", user_id: query.get("user_id") ?? "", since: query.get("since") ?? "", until: query.get("until") ?? "" };
  const [draft, setDraft] = useState(filters);
  const [events, setEvents] = useState<Envelope[]>([]);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [status, setStatus] = useState<{ s: StreamStatus; detail?: string }>({ s: "connecting" });
  const [truncated, setTruncated] = useState(false);
  const filterKey = JSON.stringify(filters);

  useEffect(() => setDraft(filters), [filterKey]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    setError(undefined);
    setEvents([]);
    (async () => {
      const { data, truncated } = await recentEvents(filters, ac.signal);
      if (ac.signal.aborted) return;
      setTruncated(truncated);
      const recent = data.slice(-SHOWN).reverse();
      setEvents(recent);
      setLoading(false);
      if (filters.until || truncated) return setStatus({ s: "stopped", detail: filters.until ? "a time range in the past is not followed live" : undefined });
      const key = storedKey();
      if (!key) return;
      followStream(`/v1/events/stream${qs({ filter: filters.type })}`, key, {
        lastEventId: data.length > 0 ? String(data[data.length - 1]!.seq) : undefined,
        signal: ac.signal,
        onStatus: (s, detail) => setStatus({ s, detail }),
        onMessage(m) {
          const e = JSON.parse(m.data) as Envelope;
          if (filters.user_id && e.context.user_id !== filters.user_id) return;
          setEvents((prev) => (prev.some((p) => p.seq === e.seq) ? prev : [e, ...prev].slice(0, SHOWN)));
        },
      });
    })().catch((e: unknown) => {
      if (!ac.signal.aborted) {
        setError(e);
        setLoading(false);
      }
    });
    return () => ac.abort();
  }, [filterKey]); // eslint-disable-line react-hooks/exhaustive-deps

  function apply(e: FormEvent) {
    e.preventDefault();
    navigate("/events", { type: draft.type.trim(), user_id: draft.user_id.trim(), since: draft.since, until: draft.until });
  }

  const live = useMemo(() => {
    switch (status.s) {
      case "live":
        return <span className="live">● Live</span>;
      case "connecting":
        return <span className="muted">Connecting…</span>;
      case "retrying":
        return <span className="warn">Reconnecting{status.detail ? ` (${status.detail})` : ""}…</span>;
      default:
        return <span className="muted">Not live{status.detail ? `: ${status.detail}` : ""}</span>;
    }
  }, [status]);

  return (
    <section aria-labelledby="events-title">
      <div className="title-row">
        <h1 id="events-title">Events</h1>
        <p aria-live="polite" data-testid="stream-status">
          {live}
        </p>
      </div>
      <form className="filters" onSubmit={apply} aria-label="Filter events">
        <div>
          <label htmlFor="f-type">Type pattern</label>
          <input id="f-type" value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} placeholder="user.*, authentication.**" />
        </div>
        <div>
          <label htmlFor="f-user">User id</label>
          <input id="f-user" value={draft.user_id} onChange={(e) => setDraft({ ...draft, user_id: e.target.value })} />
        </div>
        <div>
          <label htmlFor="f-since">From</label>
          <input id="f-since" type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </div>
        <div>
          <label htmlFor="f-until">Until</label>
          <input id="f-until" type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </div>
        <div className="filter-actions">
          <button type="submit">Apply</button>
          <button type="button" className="secondary" onClick={() => navigate("/events")}>
            Clear
          </button>
        </div>
      </form>
      <ErrorText error={error} />
      {loading && !error && <Loading what="events" />}
      {!loading && !error && events.length === 0 && <p className="muted">No events {filters.since ? "in this range" : "in the last 24 hours"} yet; new ones appear here as they are recorded.</p>}
      {truncated && <p className="muted">More than {MAX_READ.toLocaleString()} events match: the oldest of them are shown and the timeline is not live; narrow the time range.</p>}
      {events.length > 0 && (
        <div className="table-wrap">
          <table className="events" data-testid="timeline">
            <caption className="sr-only">Newest first; the most recent {SHOWN} are shown.</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">User</th>
                <th scope="col">Seq</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time value={e.context.timestamp} />
                  </td>
                  <td>
                    <a href={`#/events/${encodeURIComponent(e.id)}`} className="mono">
                      {e.type}
                    </a>
                  </td>
                  <td className="mono">{e.context.user_id ?? <span className="muted">none</span>}</td>
                  <td className="mono">{e.seq}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
