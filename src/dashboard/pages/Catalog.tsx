/** Every event type with its description and JSON Schema. */
import { useState } from "react";
import { api, type CatalogEntry, type Page } from "../api.js";
import { Badge, ErrorText, Json, Loading, useLoad } from "../ui.js";

export function CatalogPage({ focus }: { focus?: string }) {
  const catalog = useLoad((signal) => api<Page<CatalogEntry>>("/v1/catalog", { signal }), []);
  const [q, setQ] = useState("");
  const entries = (catalog.data?.data ?? []).filter((e) => !q || e.type.includes(q.trim()) || e.description.toLowerCase().includes(q.trim().toLowerCase()));
  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      <p className="muted">Every event type Authbus records or asks hooks about. Blocking types go to hooks (POST /v1/evaluate); the others are recorded and delivered.</p>
      <div className="filters">
        <div>
          <label htmlFor="c-q">Search</label>
          <input id="c-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="user., password…" />
        </div>
      </div>
      <ErrorText error={catalog.error} />
      {!catalog.data && !catalog.error && <Loading what="the catalog" />}
      <ul className="catalog">
        {entries.map((e) => (
          <li key={e.type} className="panel">
            <details open={focus === e.type}>
              <summary>
                <span className="mono">{e.type}</span> <Badge state={e.kind === "blocking" ? "blocking" : "recorded"} />
                <span className="description">{e.description}</span>
              </summary>
              <Json value={e.schema} label={`JSON Schema of ${e.type}`} />
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}
